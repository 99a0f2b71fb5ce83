-- 0004_roster_follow_ups.sql -- what the SPOC's roster shows from the other
-- services (R-SPOC-1): overdue return interviews and open meeting actions.
--
-- Why here and not asked at read time: the roster stays one query and still
-- answers while the interviews or meetings service is down. Both tables are
-- kept from those services' events (reactions.c), one row per interview or
-- action with flags rather than running counters, so a repeated or late
-- event (completed before overdue) cannot make a count drift.

-- A return interview the interviews service told us about
-- (interviews.return_overdue / return_completed / return_declined).
CREATE TABLE interview_follow_ups (
    interview_id  text PRIMARY KEY,
    child_id      uuid NOT NULL,
    episode_id    text NOT NULL DEFAULT '',
    overdue       boolean NOT NULL DEFAULT false,   -- 72 hours passed (R-RET-2)
    done          boolean NOT NULL DEFAULT false,   -- completed or declined
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interview_follow_ups_overdue ON interview_follow_ups (child_id)
    WHERE overdue AND NOT done;

-- An action from one of the child's multi-agency meetings
-- (meetings.action_added / action_overdue / action_completed).
CREATE TABLE meeting_actions (
    action_id   text PRIMARY KEY,
    child_id    uuid NOT NULL,
    meeting_id  text NOT NULL DEFAULT '',
    due_at      timestamptz,
    overdue     boolean NOT NULL DEFAULT false,
    completed   boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meeting_actions_open ON meeting_actions (child_id) WHERE NOT completed;

-- The roster function gains the three counts; its result type changes, so
-- it is dropped and made again (same reasons for a function as in 0003).
DROP FUNCTION home_roster(uuid, timestamptz, timestamptz, timestamptz);
CREATE FUNCTION home_roster(p_home uuid, p_from_90_days timestamptz,
                            p_from_12_months timestamptz, p_as_of timestamptz)
RETURNS TABLE (child_id uuid, first_name text, last_name text, date_of_birth text,
               placement_id uuid, placed_since_ms bigint, reg41_status text,
               episode_status text, episode_id text, risk_level text, long_term boolean,
               missing_90_days bigint, missing_12_months bigint,
               overdue_interviews bigint, open_actions bigint, overdue_actions bigint)
LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT c.id, c.first_name, c.last_name, c.date_of_birth::text, p.id,
           floor(extract(epoch from p.starts_at) * 1000)::bigint, p.reg41_status,
           coalesce(oe.status, ''), coalesce(oe.id::text, ''), coalesce(oe.risk_level, ''),
           coalesce(oe.long_term, false), n.m90, n.m12,
           (SELECT count(*) FROM interview_follow_ups f
             WHERE f.child_id = c.id AND f.overdue AND NOT f.done),
           a.n_open, a.n_overdue
      FROM placements p JOIN children c ON c.id = p.child_id
      LEFT JOIN LATERAL (SELECT e.id, e.status, e.risk_level, e.long_term FROM episodes e
                          WHERE e.child_id = c.id AND e.status <> 'closed'
                          ORDER BY e.reported_at DESC LIMIT 1) oe ON true
      CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE x.reported_at > p_from_90_days) AS m90,
                                 count(*) AS m12
                            FROM episodes x
                           WHERE x.child_id = c.id AND x.was_missing
                             AND x.reported_at > p_from_12_months AND x.reported_at <= p_as_of) n
      -- Overdue: the meetings service said so, or the due date has passed
      -- and its event is still on the way.
      CROSS JOIN LATERAL (SELECT count(*) AS n_open,
                                 count(*) FILTER (WHERE ma.overdue OR ma.due_at <= p_as_of) AS n_overdue
                            FROM meeting_actions ma
                           WHERE ma.child_id = c.id AND NOT ma.completed) a
     WHERE p.home_id = p_home AND p.ends_at IS NULL
     ORDER BY c.last_name, c.first_name, c.id;
END
$$;
