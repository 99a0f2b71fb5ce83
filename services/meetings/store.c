/* store.c -- the meetings schema, as parameterised SQL (see store.h). */
#include "store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_time.h"

/* Instants cross the boundary as Unix milliseconds. */
#define MS(c) "(extract(epoch FROM " c ") * 1000)::bigint"
#define TSP(p) "to_timestamp(" p "::bigint / 1000.0)"
#define RFC(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const char *i64s(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%lld", (long long)v);
    return buf;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* A Postgres text[] literal: {"a","b"} with quotes and backslashes escaped.
 * Caller frees. */
static char *pg_array(const char *const *v, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += 2 * strlen(v[i] ? v[i] : "") + 3;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = ',';
        *o++ = '"';
        for (const char *c = v[i] ? v[i] : ""; *c; c++) {
            if (*c == '"' || *c == '\\')
                *o++ = '\\';
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = 0;
    return out;
}

static char *principal_roles(const hw_principal *p)
{
    const char *v[HW_MAX_ROLES];
    for (int i = 0; i < p->n_roles; i++)
        v[i] = p->roles[i];
    return pg_array(v, (size_t)p->n_roles);
}

static char *principal_homes(const hw_principal *p)
{
    const char *v[HW_MAX_HOMES];
    for (int i = 0; i < p->n_homes; i++)
        v[i] = p->homes[i];
    return pg_array(v, (size_t)p->n_homes);
}

static char *col(hw_call *call, const hw_res *r, int row, int c)
{
    return hw_call_strdup(call, hw_res_get(r, row, c));
}

static char *col_ts(hw_call *call, const hw_res *r, int row, int c)
{
    if (hw_res_isnull(r, row, c))
        return hw_call_strdup(call, "");
    char buf[32];
    hw_format_rfc3339(hw_res_int(r, row, c), buf);
    return hw_call_strdup(call, buf);
}

/* ------------------------------------------------------------ episodes */

#define EPISODE_COLS                                                                          \
    "episode_id, child_id, profile, responsible_authority, placing_authority, host_authority," \
    " force, home_id, social_worker_id, assigned_officer, spoc_id, " MS("reported_at") ","     \
    " coalesce(missing_90_days, -1), located_at IS NOT NULL OR closed_at IS NOT NULL"

static void episode_from_row(const hw_res *r, int row, mt_episode *e)
{
    memset(e, 0, sizeof *e);
    copy(e->episode_id, sizeof e->episode_id, hw_res_get(r, row, 0));
    copy(e->child_id, sizeof e->child_id, hw_res_get(r, row, 1));
    e->profile = mt_profile_parse(hw_res_get(r, row, 2), NULL);
    copy(e->responsible_authority, sizeof e->responsible_authority, hw_res_get(r, row, 3));
    copy(e->placing_authority, sizeof e->placing_authority, hw_res_get(r, row, 4));
    copy(e->host_authority, sizeof e->host_authority, hw_res_get(r, row, 5));
    copy(e->force, sizeof e->force, hw_res_get(r, row, 6));
    copy(e->home_id, sizeof e->home_id, hw_res_get(r, row, 7));
    copy(e->social_worker_id, sizeof e->social_worker_id, hw_res_get(r, row, 8));
    copy(e->assigned_officer, sizeof e->assigned_officer, hw_res_get(r, row, 9));
    copy(e->spoc_id, sizeof e->spoc_id, hw_res_get(r, row, 10));
    e->reported_ms = hw_res_int(r, row, 11);
    e->missing_90_days = (int)hw_res_int(r, row, 12);
    e->ended = hw_res_bool(r, row, 13);
}

int mt_store_episode_reported(hw_db *db, const mt_episode *e, bool *ended, hw_status *st)
{
    char rep[24], cnt[24];
    const char *p[] = {e->episode_id, e->child_id, mt_profile_name(e->profile),
                       e->responsible_authority, e->placing_authority, e->host_authority,
                       e->force, e->home_id, e->social_worker_id, e->assigned_officer,
                       e->spoc_id, i64s(rep, e->reported_ms),
                       e->missing_90_days >= 0 ? i64s(cnt, e->missing_90_days) : NULL};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO episodes (episode_id, child_id, profile, responsible_authority, placing_authority,"
        " host_authority, force, home_id, social_worker_id, assigned_officer, spoc_id, reported_at,"
        " missing_90_days)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, " TSP("$12") ", $13::int)"
        " ON CONFLICT (episode_id) DO UPDATE SET child_id = EXCLUDED.child_id,"
        " profile = EXCLUDED.profile, responsible_authority = EXCLUDED.responsible_authority,"
        " placing_authority = EXCLUDED.placing_authority, host_authority = EXCLUDED.host_authority,"
        " force = EXCLUDED.force, home_id = EXCLUDED.home_id,"
        " social_worker_id = EXCLUDED.social_worker_id, assigned_officer = EXCLUDED.assigned_officer,"
        " spoc_id = EXCLUDED.spoc_id, reported_at = EXCLUDED.reported_at,"
        " missing_90_days = EXCLUDED.missing_90_days, updated_at = now()"
        " RETURNING located_at IS NOT NULL OR closed_at IS NOT NULL",
        13, p, st);
    if (!r)
        return -1;
    *ended = hw_res_rows(r) > 0 && hw_res_bool(r, 0, 0);
    hw_res_free(r);
    return 0;
}

int mt_store_episode_ended(hw_db *db, const mt_episode *e, int64_t at_ms, bool closed,
                           hw_status *st)
{
    char at[24];
    i64s(at, at_ms);
    const char *p[] = {e->episode_id, e->child_id, mt_profile_name(e->profile),
                       e->responsible_authority, e->placing_authority, e->force, e->home_id,
                       closed ? NULL : at, closed ? at : NULL};
    return hw_db_run(
        db,
        "INSERT INTO episodes (episode_id, child_id, profile, responsible_authority, placing_authority,"
        " force, home_id, located_at, closed_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, " TSP("$8") ", " TSP("$9") ")"
        " ON CONFLICT (episode_id) DO UPDATE SET"
        " located_at = coalesce(episodes.located_at, EXCLUDED.located_at),"
        " closed_at = coalesce(episodes.closed_at, EXCLUDED.closed_at), updated_at = now()",
        9, p, st);
}

int mt_store_episode_get(hw_db *db, const char *episode_id, mt_episode *out, bool *found,
                         hw_status *st)
{
    const char *p[] = {episode_id};
    hw_res *r = hw_db_exec(db, "SELECT " EPISODE_COLS " FROM episodes WHERE episode_id = $1", 1, p,
                           st);
    if (!r)
        return -1;
    *found = hw_res_rows(r) > 0;
    if (*found)
        episode_from_row(r, 0, out);
    hw_res_free(r);
    return 0;
}

int mt_store_child_latest(hw_db *db, const char *child_id, mt_episode *out, bool *found,
                          hw_status *st)
{
    const char *p[] = {child_id};
    hw_res *r = hw_db_exec(db,
                           "SELECT " EPISODE_COLS " FROM episodes WHERE child_id = $1"
                           " ORDER BY reported_at DESC NULLS LAST, updated_at DESC LIMIT 1",
                           1, p, st);
    if (!r)
        return -1;
    *found = hw_res_rows(r) > 0;
    if (*found)
        episode_from_row(r, 0, out);
    hw_res_free(r);
    return 0;
}

int mt_store_child_count(hw_db *db, const char *child_id, int64_t as_of_ms, int *count,
                         hw_status *st)
{
    char from[24], to[24];
    /* The window's bounds come from escalation.h so SQL and the tested rule agree. */
    const char *p[] = {child_id, i64s(from, as_of_ms - MT_WINDOW_MS), i64s(to, as_of_ms)};
    hw_res *r = hw_db_exec(db,
                           "SELECT count(*) FROM episodes WHERE child_id = $1"
                           " AND reported_at > " TSP("$2") " AND reported_at <= " TSP("$3"),
                           3, p, st);
    if (!r)
        return -1;
    *count = (int)hw_res_int(r, 0, 0);
    hw_res_free(r);
    return 0;
}

/* ------------------------------------------------------------ escalation state */

int mt_store_open_level(hw_db *db, const char *child_id, mt_profile p, int *level, hw_status *st)
{
    const char *params[] = {child_id, mt_profile_name(p)};
    hw_res *r = hw_db_exec(
        db,
        "SELECT CASE WHEN $2 = 'LLR' THEN"
        "   (SELECT count(*) FROM meetings WHERE child_id = $1 AND status <> 'held'"
        "    AND kind = 'strategy')::int"
        " ELSE (SELECT coalesce(max(level), 0) FROM meetings WHERE child_id = $1"
        "    AND status <> 'held' AND level > 0) END",
        2, params, st);
    if (!r)
        return -1;
    *level = (int)hw_res_int(r, 0, 0);
    if (p == MT_PROFILE_LLR && *level > 1)
        *level = 1;
    hw_res_free(r);
    return 0;
}

int mt_store_kind_in_window(hw_db *db, const char *child_id, mt_kind k, int64_t as_of_ms,
                            bool *out, hw_status *st)
{
    char from[24];
    const char *p[] = {child_id, mt_kind_name(k), i64s(from, as_of_ms - MT_WINDOW_MS)};
    hw_res *r = hw_db_exec(db,
                           "SELECT EXISTS (SELECT 1 FROM meetings WHERE child_id = $1 AND kind = $2"
                           " AND trigger <> 'follow_up' AND created_at > " TSP("$3") ")",
                           3, p, st);
    if (!r)
        return -1;
    *out = hw_res_bool(r, 0, 0);
    hw_res_free(r);
    return 0;
}

/* ------------------------------------------------------------ meetings */

int mt_store_meeting_insert(hw_db *db, const mt_new_meeting *m, char id[37], bool *created,
                            hw_status *st)
{
    const mt_meeting_rule *rule = mt_meeting_rule_for(m->kind);
    if (!rule)
        return hw_status_set(st, HW_INTERNAL, "no rule for meeting kind %d", (int)m->kind);
    char level[24], count[24], due[24];
    const char *p[] = {m->child_id,
                       mt_kind_name(m->kind),
                       i64s(level, mt_kind_level(m->kind)),
                       mt_profile_name(m->profile),
                       m->trigger,
                       m->manual_reason ? m->manual_reason : "",
                       m->reason ? m->reason : "",
                       m->episode_id ? m->episode_id : "",
                       i64s(count, m->episodes_in_90_days),
                       m->responsible_authority ? m->responsible_authority : "",
                       m->placing_authority ? m->placing_authority : "",
                       m->force ? m->force : "",
                       m->home_id ? m->home_id : "",
                       rule->chair_role,
                       i64s(due, m->due_by_ms),
                       m->requested_by ? m->requested_by : "",
                       m->escalated_from && *m->escalated_from ? m->escalated_from : NULL};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO meetings (child_id, kind, level, profile, trigger, manual_reason, reason,"
        " episode_id, episodes_in_90_days, responsible_authority, placing_authority, force, home_id,"
        " chair_role, due_by, requested_by, escalated_from)"
        " VALUES ($1, $2, $3::int, $4, $5, $6, $7, $8, $9::int, $10, $11, $12, $13, $14, " TSP("$15") ","
        " $16, $17::uuid)"
        " ON CONFLICT (child_id, kind) WHERE status <> 'held' DO NOTHING RETURNING id",
        17, p, st);
    if (!r)
        return -1;
    *created = hw_res_rows(r) > 0;
    if (*created) {
        copy(id, 37, hw_res_get(r, 0, 0));
        hw_res_free(r);
        return 0;
    }
    hw_res_free(r);
    const char *q[] = {m->child_id, mt_kind_name(m->kind)};
    r = hw_db_exec(db, "SELECT id FROM meetings WHERE child_id = $1 AND kind = $2 AND status <> 'held'",
                   2, q, st);
    if (!r)
        return -1;
    copy(id, 37, hw_res_rows(r) > 0 ? hw_res_get(r, 0, 0) : "");
    hw_res_free(r);
    return 0;
}

int mt_store_invitee_insert(hw_db *db, const char *meeting_id, int position, const mt_invitee *inv,
                            hw_status *st)
{
    char pos[24];
    const char *p[] = {meeting_id,
                       i64s(pos, position),
                       inv->role,
                       inv->label ? inv->label : "",
                       inv->chair ? "true" : "false",
                       inv->as_appropriate ? "true" : "false",
                       inv->person_id ? inv->person_id : "",
                       inv->person_name ? inv->person_name : "",
                       inv->organisation ? inv->organisation : ""};
    return hw_db_run(db,
                     "INSERT INTO invitees (meeting_id, position, role, label, chair, as_appropriate,"
                     " person_id, person_name, organisation)"
                     " VALUES ($1::uuid, $2::int, $3, $4, $5::boolean, $6::boolean, $7, $8, $9)",
                     9, p, st);
}

#define MEETING_COLS                                                                            \
    "m.id, m.child_id, m.kind, m.level, m.profile, m.status, m.trigger, m.manual_reason,"       \
    " m.reason, m.episode_id, m.episodes_in_90_days, m.responsible_authority,"                  \
    " m.placing_authority, m.force, m.home_id, m.chair_role, " MS("m.due_by") ","               \
    " " MS("m.scheduled_at") ", m.location, m.requested_by, m.escalated_from, m.follows,"       \
    " " MS("m.created_at") ", " MS("m.updated_at") ", m.push_factors, m.pull_factors,"          \
    " m.discussion, m.actions_reviewed, m.plan, m.return_to_placement, m.section_47,"           \
    " array_to_json(m.decisions)::text, " MS("m.next_meeting_at") ", m.minutes_recorded_by,"    \
    " " MS("m.minutes_recorded_at") ", m.status <> 'held' AND m.due_by < now()"

static int status_enum(const char *s)
{
    if (strcmp(s, "due") == 0)
        return HOMEWARD__MEETINGS__V1__MEETING_STATUS__MEETING_STATUS_DUE;
    if (strcmp(s, "scheduled") == 0)
        return HOMEWARD__MEETINGS__V1__MEETING_STATUS__MEETING_STATUS_SCHEDULED;
    if (strcmp(s, "held") == 0)
        return HOMEWARD__MEETINGS__V1__MEETING_STATUS__MEETING_STATUS_HELD;
    return 0;
}

static int trigger_enum(const char *s)
{
    static const char *const names[] = {"", "repeat_episodes", "long_duration", "manual", "follow_up"};
    for (int i = 1; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return 0;
}

static const char *const manual_reasons[] = {"", "very_high_risk", "immediate_action",
                                             "quick_succession", "extended_duration"};

static int manual_reason_enum(const char *s)
{
    for (int i = 1; i < 5; i++)
        if (strcmp(s, manual_reasons[i]) == 0)
            return i;
    return 0;
}

static int decision_enum(const char *s)
{
    if (strcmp(s, "yes") == 0)
        return HOMEWARD__MEETINGS__V1__DECISION__DECISION_YES;
    if (strcmp(s, "no") == 0)
        return HOMEWARD__MEETINGS__V1__DECISION__DECISION_NO;
    return 0;
}

static mt_meeting_msg *meeting_from_row(hw_call *call, const hw_res *r, int i)
{
    mt_meeting_msg *m = hw_call_alloc(call, sizeof *m);
    homeward__meetings__v1__meeting__init(m);
    m->id = col(call, r, i, 0);
    m->child_id = col(call, r, i, 1);
    m->kind = (Homeward__Meetings__V1__MeetingKind)mt_kind_parse(hw_res_get(r, i, 2));
    m->level = (int32_t)hw_res_int(r, i, 3);
    m->profile = col(call, r, i, 4);
    m->status = (Homeward__Meetings__V1__MeetingStatus)status_enum(hw_res_get(r, i, 5));
    m->trigger = (Homeward__Meetings__V1__Trigger)trigger_enum(hw_res_get(r, i, 6));
    m->manual_reason = (Homeward__Meetings__V1__ManualReason)manual_reason_enum(hw_res_get(r, i, 7));
    m->reason = col(call, r, i, 8);
    m->episode_id = col(call, r, i, 9);
    m->episodes_in_90_days = (int32_t)hw_res_int(r, i, 10);
    m->responsible_authority = col(call, r, i, 11);
    m->placing_authority = col(call, r, i, 12);
    m->force = col(call, r, i, 13);
    m->home_id = col(call, r, i, 14);
    m->chair_role = col(call, r, i, 15);
    m->due_by = col_ts(call, r, i, 16);
    m->scheduled_at = col_ts(call, r, i, 17);
    m->location = col(call, r, i, 18);
    m->requested_by_id = col(call, r, i, 19);
    m->escalated_from = col(call, r, i, 20);
    m->follows = col(call, r, i, 21);
    m->created_at = col_ts(call, r, i, 22);
    m->updated_at = col_ts(call, r, i, 23);
    m->overdue = hw_res_bool(r, i, 35);
    if (!hw_res_isnull(r, i, 34)) {
        mt_minutes_msg *mm = hw_call_alloc(call, sizeof *mm);
        homeward__meetings__v1__minutes__init(mm);
        mm->push_factors = col(call, r, i, 24);
        mm->pull_factors = col(call, r, i, 25);
        mm->discussion = col(call, r, i, 26);
        mm->actions_reviewed = col(call, r, i, 27);
        mm->plan = col(call, r, i, 28);
        mm->return_to_placement = (Homeward__Meetings__V1__Decision)decision_enum(hw_res_get(r, i, 29));
        mm->section_47 = (Homeward__Meetings__V1__Decision)decision_enum(hw_res_get(r, i, 30));
        json_t *arr = json_loads(hw_res_get(r, i, 31), 0, NULL);
        if (json_is_array(arr) && json_array_size(arr) > 0) {
            mm->decisions = hw_call_alloc(call, json_array_size(arr) * sizeof(char *));
            size_t k;
            json_t *v;
            json_array_foreach(arr, k, v) {
                mm->decisions[mm->n_decisions++] =
                    hw_call_strdup(call, json_is_string(v) ? json_string_value(v) : "");
            }
        }
        json_decref(arr);
        mm->next_meeting_at = col_ts(call, r, i, 32);
        mm->recorded_by_id = col(call, r, i, 33);
        mm->recorded_at = col_ts(call, r, i, 34);
        m->minutes = mm;
    }
    return m;
}

#define INVITEE_COLS                                                                          \
    "i.id, i.meeting_id, i.role, i.label, i.chair, i.as_appropriate, i.person_id,"            \
    " i.person_name, i.organisation, i.attended IS NOT NULL, coalesce(i.attended, false),"    \
    " i.apologies, i.attendance_note"

/* Attach the invitees of ms[0..n) with one query. */
static int attach_invitees(hw_db *db, hw_call *call, mt_meeting_msg **ms, size_t n, hw_status *st)
{
    if (n == 0)
        return 0;
    const char **ids = malloc(n * sizeof *ids);
    if (!ids)
        return hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++)
        ids[i] = ms[i]->id;
    char *arr = pg_array(ids, n);
    free(ids);
    if (!arr)
        return hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
    const char *p[] = {arr};
    hw_res *r = hw_db_exec(db,
                           "SELECT " INVITEE_COLS " FROM invitees i"
                           " WHERE i.meeting_id = ANY($1::uuid[]) ORDER BY i.meeting_id, i.position",
                           1, p, st);
    free(arr);
    if (!r)
        return -1;
    int rows = hw_res_rows(r);
    for (size_t k = 0; k < n; k++) {
        mt_meeting_msg *m = ms[k];
        size_t count = 0;
        for (int i = 0; i < rows; i++)
            count += strcmp(hw_res_get(r, i, 1), m->id) == 0;
        if (!count)
            continue;
        m->invitees = hw_call_alloc(call, count * sizeof *m->invitees);
        for (int i = 0; i < rows; i++) {
            if (strcmp(hw_res_get(r, i, 1), m->id) != 0)
                continue;
            Homeward__Meetings__V1__Invitee *v = hw_call_alloc(call, sizeof *v);
            homeward__meetings__v1__invitee__init(v);
            v->id = col(call, r, i, 0);
            v->role = col(call, r, i, 2);
            v->label = col(call, r, i, 3);
            v->chair = hw_res_bool(r, i, 4);
            v->as_appropriate = hw_res_bool(r, i, 5);
            v->person_id = col(call, r, i, 6);
            v->person_name = col(call, r, i, 7);
            v->organisation = col(call, r, i, 8);
            v->resolved = *v->person_id != 0;
            v->attendance_recorded = hw_res_bool(r, i, 9);
            v->attended = hw_res_bool(r, i, 10);
            v->apologies = hw_res_bool(r, i, 11);
            v->attendance_note = col(call, r, i, 12);
            m->invitees[m->n_invitees++] = v;
        }
    }
    hw_res_free(r);
    return 0;
}

#define ACTION_COLS                                                                           \
    "a.id, a.meeting_id, a.child_id, a.description, a.owner_id, a.owner_name, a.owner_role,"  \
    " " MS("a.due_at") ", a.created_by, " MS("a.created_at") ", " MS("a.completed_at") ","     \
    " a.completed_by, a.outcome, a.completed_at IS NULL AND a.due_at < now(), a.home_id"

static mt_action_msg *action_from_row(hw_call *call, const hw_res *r, int i)
{
    mt_action_msg *a = hw_call_alloc(call, sizeof *a);
    homeward__meetings__v1__action__init(a);
    a->id = col(call, r, i, 0);
    a->meeting_id = col(call, r, i, 1);
    a->child_id = col(call, r, i, 2);
    a->description = col(call, r, i, 3);
    a->owner_id = col(call, r, i, 4);
    a->owner_name = col(call, r, i, 5);
    a->owner_role = col(call, r, i, 6);
    a->due_at = col_ts(call, r, i, 7);
    a->created_by_id = col(call, r, i, 8);
    a->created_at = col_ts(call, r, i, 9);
    a->completed_at = col_ts(call, r, i, 10);
    a->completed_by_id = col(call, r, i, 11);
    a->outcome = col(call, r, i, 12);
    a->overdue = hw_res_bool(r, i, 13);
    a->home_id = col(call, r, i, 14);
    return a;
}

mt_meeting_msg *mt_store_meeting_get(hw_db *db, hw_call *call, const char *id, bool lock,
                                     bool full, hw_status *st)
{
    const char *p[] = {id};
    hw_res *r = hw_db_exec(db,
                           lock ? "SELECT " MEETING_COLS " FROM meetings m WHERE m.id = $1::uuid FOR UPDATE"
                                : "SELECT " MEETING_COLS " FROM meetings m WHERE m.id = $1::uuid",
                           1, p, st);
    if (!r)
        return NULL;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        hw_status_set(st, HW_NOT_FOUND, "no such meeting");
        return NULL;
    }
    mt_meeting_msg *m = meeting_from_row(call, r, 0);
    hw_res_free(r);
    if (attach_invitees(db, call, &m, 1, st) != 0)
        return NULL;
    if (!full)
        return m;
    r = hw_db_exec(db, "SELECT " ACTION_COLS " FROM actions a WHERE a.meeting_id = $1::uuid"
                       " ORDER BY a.created_at, a.id", 1, p, st);
    if (!r)
        return NULL;
    int n = hw_res_rows(r);
    if (n > 0) {
        m->actions = hw_call_alloc(call, (size_t)n * sizeof *m->actions);
        for (int i = 0; i < n; i++)
            m->actions[m->n_actions++] = action_from_row(call, r, i);
    }
    hw_res_free(r);
    return m;
}

int mt_store_is_invited(hw_db *db, const char *meeting_id, const hw_principal *p, bool *out,
                        hw_status *st)
{
    char *roles = principal_roles(p), *homes = principal_homes(p);
    int rc = -1;
    if (!roles || !homes) {
        hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
        goto out_free;
    }
    const char *params[] = {meeting_id, p->sub, roles, p->org, homes};
    hw_res *r = hw_db_exec(
        db,
        "SELECT EXISTS (SELECT 1 FROM meetings WHERE id = $1::uuid AND requested_by = $2)"
        " OR EXISTS (SELECT 1 FROM invitees i JOIN meetings m ON m.id = i.meeting_id"
        " WHERE i.meeting_id = $1::uuid AND (i.person_id = $2 OR (i.person_id = ''"
        "   AND i.role = ANY($3::text[]) AND (($4 <> '' AND (m.force = $4 OR m.responsible_authority = $4))"
        "   OR (m.home_id <> '' AND m.home_id = ANY($5::text[]))))))",
        5, params, st);
    if (!r)
        goto out_free;
    *out = hw_res_bool(r, 0, 0);
    hw_res_free(r);
    rc = 0;
out_free:
    free(roles);
    free(homes);
    return rc;
}

int mt_store_meetings_list(hw_db *db, hw_call *call, const mt_list_query *q,
                           mt_meeting_msg ***out, size_t *n, hw_status *st)
{
    *out = NULL;
    *n = 0;
    char *roles = principal_roles(q->who), *homes = principal_homes(q->who);
    int rc = -1;
    if (!roles || !homes) {
        hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
        goto out_free;
    }
    char scope[24], limit[24], offset[24];
    const char *p[] = {q->service ? "true" : "false",
                       q->manage_org ? q->manage_org : "",
                       q->who->sub,
                       roles,
                       q->who->org,
                       homes,
                       i64s(scope, q->scope),
                       q->child_id ? q->child_id : "",
                       q->open_only ? "true" : "false",
                       i64s(limit, q->limit),
                       i64s(offset, q->offset)};
    /* Visibility (R-SEC-1): a service; the managers of the child's
     * authority; whoever requested the meeting; an invitee by person or,
     * unresolved, by role in their own force, authority or home. Then the
     * scope. */
    hw_res *r = hw_db_exec(
        db,
        "SELECT " MEETING_COLS " FROM meetings m WHERE"
        " ($1::boolean OR ($2 <> '' AND m.responsible_authority = $2) OR m.requested_by = $3"
        "  OR EXISTS (SELECT 1 FROM invitees i WHERE i.meeting_id = m.id AND (i.person_id = $3"
        "   OR (i.person_id = '' AND i.role = ANY($4::text[])"
        "       AND (($5 <> '' AND (m.force = $5 OR m.responsible_authority = $5))"
        "            OR (m.home_id <> '' AND m.home_id = ANY($6::text[])))))))"
        " AND ($7::int <> 1 OR m.requested_by = $3 OR EXISTS (SELECT 1 FROM invitees i"
        "      WHERE i.meeting_id = m.id AND i.person_id = $3))"
        " AND ($7::int <> 2 OR m.child_id = $8)"
        " AND ($7::int <> 3 OR m.responsible_authority = $5)"
        " AND ($7::int <> 4 OR (m.status <> 'held' AND m.due_by < now()))"
        " AND (NOT $9::boolean OR m.status <> 'held')"
        " ORDER BY m.due_by, m.id LIMIT $10::int OFFSET $11::int",
        11, p, st);
    if (!r)
        goto out_free;
    int rows = hw_res_rows(r);
    if (rows > 0) {
        *out = hw_call_alloc(call, (size_t)rows * sizeof **out);
        for (int i = 0; i < rows; i++)
            (*out)[i] = meeting_from_row(call, r, i);
    }
    *n = (size_t)rows;
    hw_res_free(r);
    rc = attach_invitees(db, call, *out, *n, st);
out_free:
    free(roles);
    free(homes);
    return rc;
}

int mt_store_schedule(hw_db *db, const char *id, int64_t at_ms, const char *location, hw_status *st)
{
    char at[24];
    const char *p[] = {id, i64s(at, at_ms), location};
    return hw_db_run(db,
                     "UPDATE meetings SET status = 'scheduled', scheduled_at = " TSP("$2") ","
                     " location = $3, updated_at = now() WHERE id = $1::uuid AND status <> 'held'",
                     3, p, st);
}

int mt_store_attendance(hw_db *db, const char *meeting_id, const char *invitee_id, bool attended,
                        bool apologies, const char *note, const char *by, hw_status *st)
{
    const char *p[] = {meeting_id, invitee_id, attended ? "true" : "false",
                       apologies ? "true" : "false", note ? note : "", by};
    hw_res *r = hw_db_exec(db,
                           "UPDATE invitees SET attended = $3::boolean, apologies = $4::boolean,"
                           " attendance_note = $5, attendance_by = $6, attendance_at = now()"
                           " WHERE meeting_id = $1::uuid AND id = $2::bigint",
                           6, p, st);
    if (!r)
        return -1;
    int64_t n = hw_res_affected(r);
    hw_res_free(r);
    if (n == 0)
        return hw_status_set(st, HW_NOT_FOUND, "not an invitee of this meeting");
    return hw_db_run(db, "UPDATE meetings SET updated_at = now() WHERE id = $1::uuid", 1, p, st);
}

static const char *decision_text(int d)
{
    if (d == HOMEWARD__MEETINGS__V1__DECISION__DECISION_YES)
        return "yes";
    if (d == HOMEWARD__MEETINGS__V1__DECISION__DECISION_NO)
        return "no";
    return "";
}

int mt_store_minutes(hw_db *db, const char *id, const mt_minutes_msg *m, int64_t next_ms,
                     const char *by, hw_status *st)
{
    char *decisions = pg_array((const char *const *)m->decisions, m->n_decisions);
    if (!decisions)
        return hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
    char next[24];
    const char *p[] = {id,
                       m->push_factors ? m->push_factors : "",
                       m->pull_factors ? m->pull_factors : "",
                       m->discussion ? m->discussion : "",
                       m->actions_reviewed ? m->actions_reviewed : "",
                       m->plan,
                       decision_text(m->return_to_placement),
                       decision_text(m->section_47),
                       decisions,
                       next_ms > 0 ? i64s(next, next_ms) : NULL,
                       by};
    int rc = hw_db_run(
        db,
        "UPDATE meetings SET status = 'held', push_factors = $2, pull_factors = $3, discussion = $4,"
        " actions_reviewed = $5, plan = $6, return_to_placement = $7, section_47 = $8,"
        " decisions = $9::text[], next_meeting_at = " TSP("$10") ", minutes_recorded_by = $11,"
        " minutes_recorded_at = now(), updated_at = now() WHERE id = $1::uuid AND status <> 'held'",
        11, p, st);
    free(decisions);
    return rc;
}

int mt_store_follow_up(hw_db *db, const char *from, int64_t at_ms, char id[37], bool *created,
                       hw_status *st)
{
    char at[24];
    const char *p[] = {from, i64s(at, at_ms)};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO meetings (child_id, kind, level, profile, status, trigger, reason, episode_id,"
        " episodes_in_90_days, responsible_authority, placing_authority, force, home_id, chair_role,"
        " due_by, scheduled_at, location, follows)"
        " SELECT child_id, kind, level, profile, 'scheduled', 'follow_up',"
        " 'next meeting agreed in the minutes', episode_id, episodes_in_90_days,"
        " responsible_authority, placing_authority, force, home_id, chair_role,"
        " " TSP("$2") ", " TSP("$2") ", location, id FROM meetings WHERE id = $1::uuid"
        " ON CONFLICT (child_id, kind) WHERE status <> 'held' DO NOTHING RETURNING id",
        2, p, st);
    if (!r)
        return -1;
    *created = hw_res_rows(r) > 0;
    copy(id, 37, *created ? hw_res_get(r, 0, 0) : "");
    hw_res_free(r);
    if (!*created)
        return 0;
    const char *q[] = {from, id};
    return hw_db_run(db,
                     "INSERT INTO invitees (meeting_id, position, role, label, chair, as_appropriate,"
                     " person_id, person_name, organisation)"
                     " SELECT $2::uuid, position, role, label, chair, as_appropriate, person_id,"
                     " person_name, organisation FROM invitees WHERE meeting_id = $1::uuid",
                     2, q, st);
}

/* ------------------------------------------------------------ actions */

int mt_store_action_insert(hw_db *db, const char *meeting_id, const char *description,
                           const char *owner_id, const char *owner_name, const char *owner_role,
                           int64_t due_ms, const char *by, char id[37], hw_status *st)
{
    char due[24];
    const char *p[] = {meeting_id, description, owner_id ? owner_id : "",
                       owner_name ? owner_name : "", owner_role ? owner_role : "",
                       i64s(due, due_ms), by};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO actions (meeting_id, child_id, home_id, description, owner_id, owner_name,"
        " owner_role, due_at, created_by)"
        " SELECT m.id, m.child_id, m.home_id, $2, $3, $4, $5, " TSP("$6") ", $7"
        " FROM meetings m WHERE m.id = $1::uuid RETURNING id",
        7, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        return hw_status_set(st, HW_NOT_FOUND, "no such meeting");
    }
    copy(id, 37, hw_res_get(r, 0, 0));
    hw_res_free(r);
    return 0;
}

mt_action_msg *mt_store_action_get(hw_db *db, hw_call *call, const char *id, bool lock,
                                   char **authority, hw_status *st)
{
    const char *p[] = {id};
    hw_res *r = hw_db_exec(db,
                           lock ? "SELECT " ACTION_COLS ", m.responsible_authority FROM actions a"
                                  " JOIN meetings m ON m.id = a.meeting_id WHERE a.id = $1::uuid"
                                  " FOR UPDATE OF a"
                                : "SELECT " ACTION_COLS ", m.responsible_authority FROM actions a"
                                  " JOIN meetings m ON m.id = a.meeting_id WHERE a.id = $1::uuid",
                           1, p, st);
    if (!r)
        return NULL;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        hw_status_set(st, HW_NOT_FOUND, "no such action");
        return NULL;
    }
    mt_action_msg *a = action_from_row(call, r, 0);
    if (authority)
        *authority = col(call, r, 0, 15);
    hw_res_free(r);
    return a;
}

int mt_store_action_complete(hw_db *db, const char *id, const char *by, const char *outcome,
                             hw_status *st)
{
    const char *p[] = {id, by, outcome};
    return hw_db_run(db,
                     "UPDATE actions SET completed_at = now(), completed_by = $2, outcome = $3"
                     " WHERE id = $1::uuid AND completed_at IS NULL",
                     3, p, st);
}

/* An action event's payload, of actions a and meetings m. Ids and facts
 * only: the description is free text and may name the child. */
#define ACTION_PAYLOAD                                                                             \
    "jsonb_build_object('action_id', a.id, 'meeting_id', a.meeting_id,"                           \
    " 'child_id', a.child_id, 'home_id', nullif(a.home_id, ''),"                                  \
    " 'owner_id', nullif(a.owner_id, ''), 'owner_role', nullif(a.owner_role, ''),"                \
    " 'due_at', " RFC("a.due_at") ", 'kind', m.kind,"                                             \
    " 'responsible_authority', m.responsible_authority, 'force', nullif(m.force, ''),"            \
    " 'chair_id', (SELECT nullif(i.person_id, '') FROM invitees i WHERE i.meeting_id = m.id"      \
    "   AND i.chair LIMIT 1))::text"

int mt_store_action_payload(hw_db *db, const char *id, char **payload, hw_status *st)
{
    *payload = NULL;
    const char *p[] = {id};
    hw_res *r = hw_db_exec(db,
                           "SELECT " ACTION_PAYLOAD " FROM actions a JOIN meetings m"
                           " ON m.id = a.meeting_id WHERE a.id = $1::uuid",
                           1, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        return hw_status_set(st, HW_NOT_FOUND, "no such action");
    }
    *payload = strdup(hw_res_get(r, 0, 0));
    hw_res_free(r);
    return *payload ? 0 : hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
}

int mt_store_action_overdue(hw_db *db, const char *id, char **payload, hw_status *st)
{
    *payload = NULL;
    const char *p[] = {id};
    hw_res *r = hw_db_exec(
        db,
        "UPDATE actions a SET overdue_at = now() FROM meetings m"
        " WHERE a.id = $1::uuid AND m.id = a.meeting_id AND a.completed_at IS NULL"
        " AND a.overdue_at IS NULL"
        " RETURNING " ACTION_PAYLOAD,
        1, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) > 0) {
        *payload = strdup(hw_res_get(r, 0, 0));
        if (!*payload) {
            hw_res_free(r);
            return hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
        }
    }
    hw_res_free(r);
    return 0;
}

int mt_store_overdue_actions(hw_db *db, hw_call *call, const mt_overdue_query *q,
                             mt_action_msg ***out, size_t *n, hw_status *st)
{
    *out = NULL;
    *n = 0;
    char *children = q->n_child_ids ? pg_array(q->child_ids, q->n_child_ids) : NULL;
    if (q->n_child_ids && !children)
        return hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
    char limit[24];
    const char *p[] = {q->service ? "true" : "false",
                       q->manage_org ? q->manage_org : "",
                       q->who->sub,
                       children,
                       q->chaired_by_me ? "true" : "false",
                       i64s(limit, q->limit)};
    hw_res *r = hw_db_exec(
        db,
        "SELECT " ACTION_COLS " FROM actions a JOIN meetings m ON m.id = a.meeting_id"
        " WHERE a.completed_at IS NULL AND a.due_at < now()"
        " AND ($4::text[] IS NULL OR a.child_id = ANY($4::text[]))"
        " AND (NOT $5::boolean OR EXISTS (SELECT 1 FROM invitees i WHERE i.meeting_id = m.id"
        "      AND i.chair AND i.person_id = $3))"
        " AND ($1::boolean OR ($2 <> '' AND m.responsible_authority = $2) OR a.owner_id = $3"
        "      OR EXISTS (SELECT 1 FROM invitees i WHERE i.meeting_id = m.id AND i.chair"
        "                 AND i.person_id = $3))"
        " ORDER BY a.due_at, a.id LIMIT $6::int",
        6, p, st);
    free(children);
    if (!r)
        return -1;
    int rows = hw_res_rows(r);
    if (rows > 0) {
        *out = hw_call_alloc(call, (size_t)rows * sizeof **out);
        for (int i = 0; i < rows; i++)
            (*out)[i] = action_from_row(call, r, i);
    }
    *n = (size_t)rows;
    hw_res_free(r);
    return 0;
}

/* ------------------------------------------------------------ alerts and payloads */

int mt_store_alert(hw_db *db, const char *kind, const char *episode_id, const char *child_id,
                   bool *inserted, hw_status *st)
{
    const char *p[] = {kind, episode_id, child_id};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO alerts (kind, episode_id, child_id) VALUES ($1, $2, $3)"
                           " ON CONFLICT (kind, episode_id) DO NOTHING RETURNING id",
                           3, p, st);
    if (!r)
        return -1;
    *inserted = hw_res_rows(r) > 0;
    hw_res_free(r);
    return 0;
}

int mt_store_meeting_payload(hw_db *db, const char *id, char **payload, hw_status *st)
{
    *payload = NULL;
    const char *p[] = {id};
    hw_res *r = hw_db_exec(
        db,
        "SELECT jsonb_build_object('meeting_id', m.id, 'child_id', m.child_id, 'kind', m.kind,"
        " 'level', m.level, 'profile', m.profile, 'status', m.status, 'trigger', m.trigger,"
        " 'episode_id', nullif(m.episode_id, ''), 'episodes_in_90_days', m.episodes_in_90_days,"
        " 'responsible_authority', m.responsible_authority,"
        " 'placing_authority', nullif(m.placing_authority, ''), 'force', nullif(m.force, ''),"
        " 'home_id', nullif(m.home_id, ''), 'chair_role', m.chair_role,"
        " 'due_by', " RFC("m.due_by") ", 'scheduled_at', " RFC("m.scheduled_at") ","
        " 'location', nullif(m.location, ''),"
        " 'escalated_from', m.escalated_from, 'follows', m.follows,"
        " 'chair_id', (SELECT nullif(i.person_id, '') FROM invitees i WHERE i.meeting_id = m.id"
        "   AND i.chair LIMIT 1),"
        " 'iro_id', (SELECT nullif(i.person_id, '') FROM invitees i WHERE i.meeting_id = m.id"
        "   AND i.role = 'iro' LIMIT 1),"
        " 'invitee_roles', (SELECT coalesce(jsonb_agg(i.role ORDER BY i.position), '[]'::jsonb)"
        "   FROM invitees i WHERE i.meeting_id = m.id),"
        " 'invitee_ids', (SELECT coalesce(jsonb_agg(DISTINCT i.person_id), '[]'::jsonb)"
        "   FROM invitees i WHERE i.meeting_id = m.id AND i.person_id <> ''))::text"
        " FROM meetings m WHERE m.id = $1::uuid",
        1, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        return hw_status_set(st, HW_NOT_FOUND, "no such meeting");
    }
    *payload = strdup(hw_res_get(r, 0, 0));
    hw_res_free(r);
    if (!*payload)
        return hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
    return 0;
}
