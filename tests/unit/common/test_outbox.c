/* test_outbox.c -- outbox, relay and inbox against a real server: order, backoff, replicas, late subscribers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw_outbox.h"
#include "hw_pg.h"

#define TEST_DB_PREFIX "hwt_outbox"
#define COMMON_SQL_DIR HW_SOURCE_DIR "/common/sql"

#include "pgtest.h"

/* A migrated schema of its own for each test, and a pool on it. */
static hw_pg_pool *migrated_pool(const char *schema, int size)
{
    char err[512];
    if (hw_migrate(g_test_conninfo, schema, COMMON_SQL_DIR, NULL, NULL, err, sizeof err) != 0)
        fail_msg("migrate %s: %s", schema, err);
    hw_pg_pool *p = hw_pg_pool_create(g_test_conninfo, schema, size, err, sizeof err);
    if (!p)
        fail_msg("pool: %s", err);
    return p;
}

/* ---- a receiver that records what it is given ---- */

typedef struct delivery {
    char target[64];
    char id[40];
    char source[32];
    char type[64];
    char subject[64];
    char payload[128];
    int64_t occurred_at_ms;
} delivery;

typedef struct recorder {
    pthread_mutex_t lock;
    delivery items[1024];
    int n;
    int calls;
    int refuse_first;       /* answer "not delivered" to this many calls */
    int64_t call_ms[64];    /* when each call came, for backoff */
    int slow_us;            /* per delivery, to make relays overlap */
} recorder;

static void recorder_init(recorder *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
}

static int record_delivery(const char *target, const char *event_id, const char *source,
                           const char *type, const char *subject, int64_t occurred_at_ms,
                           const char *payload_json, void *arg)
{
    recorder *r = arg;
    if (r->slow_us)
        usleep((useconds_t)r->slow_us);
    pthread_mutex_lock(&r->lock);
    if (r->calls < 64)
        r->call_ms[r->calls] = now_ms();
    r->calls++;
    if (r->calls <= r->refuse_first || r->n >= 1024) {
        pthread_mutex_unlock(&r->lock);
        return -1;
    }
    delivery *d = &r->items[r->n++];
    snprintf(d->target, sizeof d->target, "%s", target);
    snprintf(d->id, sizeof d->id, "%s", event_id);
    snprintf(d->source, sizeof d->source, "%s", source);
    snprintf(d->type, sizeof d->type, "%s", type);
    snprintf(d->subject, sizeof d->subject, "%s", subject);
    snprintf(d->payload, sizeof d->payload, "%s", payload_json);
    d->occurred_at_ms = occurred_at_ms;
    pthread_mutex_unlock(&r->lock);
    return 0;
}

static int delivered(recorder *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static bool wait_for(recorder *r, int n, int timeout_ms)
{
    int64_t until = now_ms() + timeout_ms;
    while (delivered(r) < n && now_ms() < until)
        usleep(10 * 1000);
    return delivered(r) >= n;
}

/* Add one event (autocommit) and return its id. */
static void add_event(hw_pg_pool *p, int i, char id[37])
{
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 5000, &st);
    assert_non_null(db);
    char subject[64], payload[64];
    snprintf(subject, sizeof subject, "episode:%d", i);
    snprintf(payload, sizeof payload, "{\"n\": %d}", i);
    if (hw_outbox_add(db, "episodes.located", subject, payload, id, &st) != 0)
        fail_msg("outbox add: %s", st.message);
    hw_pg_release(db);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- tests ---- */

static void test_inbox_claim(void **state)
{
    hw_pg_pool *p = migrated_pool("ob_inbox", 1);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 5000, &st);
    assert_non_null(db);
    const char *id = "6f1c2d9e-0000-4000-8000-000000000001";
    assert_int_equal(hw_inbox_claim(db, id, &st), 1);
    assert_int_equal(hw_inbox_claim(db, id, &st), 0);

    /* A claim whose transaction rolls back is not kept: the retry applies. */
    const char *id2 = "6f1c2d9e-0000-4000-8000-000000000002";
    assert_int_equal(hw_db_begin(db, &st), 0);
    assert_int_equal(hw_inbox_claim(db, id2, &st), 1);
    hw_db_rollback(db);
    assert_int_equal(hw_db_begin(db, &st), 0);
    assert_int_equal(hw_inbox_claim(db, id2, &st), 1);
    assert_int_equal(hw_db_commit(db, &st), 0);
    assert_int_equal(hw_inbox_claim(db, id2, &st), 0);

    hw_status bad = HW_STATUS_INIT;
    assert_int_equal(hw_inbox_claim(db, "", &bad), -1);
    assert_int_equal(bad.code, HW_INVALID_ARGUMENT);
    hw_pg_release(db);
    hw_pg_pool_destroy(p);
}

static void test_relay_delivers_in_order(void **state)
{
    hw_pg_pool *p = migrated_pool("ob_order", 3);
    static recorder rec;
    recorder_init(&rec);
    enum { N = 30 };
    char ids[N + 1][37];
    int64_t t0 = wall_ms();

    /* Ten in one transaction, the rest one by one. */
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 5000, &st);
    assert_non_null(db);
    assert_int_equal(hw_db_begin(db, &st), 0);
    for (int i = 0; i < 10; i++) {
        char subject[64], payload[64];
        snprintf(subject, sizeof subject, "episode:%d", i);
        snprintf(payload, sizeof payload, "{\"n\": %d}", i);
        assert_int_equal(hw_outbox_add(db, "episodes.located", subject, payload, ids[i], &st), 0);
        assert_int_equal(strlen(ids[i]), 36);
    }
    assert_int_equal(hw_db_commit(db, &st), 0);
    hw_pg_release(db);
    for (int i = 10; i < N; i++)
        add_event(p, i, ids[i]);

    hw_relay *relay = hw_relay_start(p, "episodes", "sink-a:1", record_delivery, &rec);
    assert_non_null(relay);
    assert_true(wait_for(&rec, N, 10000));
    for (int i = 0; i < N; i++) {
        delivery *d = &rec.items[i];
        char subject[64], payload[64];
        snprintf(subject, sizeof subject, "episode:%d", i);
        snprintf(payload, sizeof payload, "{\"n\": %d}", i);
        assert_string_equal(d->id, ids[i]);
        assert_string_equal(d->subject, subject);
        assert_string_equal(d->payload, payload);
        assert_string_equal(d->type, "episodes.located");
        assert_string_equal(d->source, "episodes");
        assert_string_equal(d->target, "sink-a:1");
        assert_true(d->occurred_at_ms >= t0 - 1000 && d->occurred_at_ms <= wall_ms() + 1000);
    }

    /* One more, kicked: delivered too, and nothing twice. */
    add_event(p, N, ids[N]);
    hw_relay_kick(relay);
    assert_true(wait_for(&rec, N + 1, 5000));
    assert_string_equal(rec.items[N].id, ids[N]);
    usleep(300 * 1000);
    assert_int_equal(delivered(&rec), N + 1);
    hw_relay_stop(relay);
    hw_pg_pool_destroy(p);
}

static void test_refused_delivery_backs_off(void **state)
{
    hw_pg_pool *p = migrated_pool("ob_backoff", 2);
    static recorder rec;
    recorder_init(&rec);
    rec.refuse_first = 4;
    char id[37];
    add_event(p, 1, id);
    hw_relay *relay = hw_relay_start(p, "episodes", "sink-b:1", record_delivery, &rec);
    assert_non_null(relay);
    assert_true(wait_for(&rec, 1, 15000));
    assert_string_equal(rec.items[0].id, id);
    /* Refused 4 times, then accepted: retried after 100, 200, 400, 800 ms. */
    pthread_mutex_lock(&rec.lock);
    int calls = rec.calls;
    int64_t ms[8];
    memcpy(ms, rec.call_ms, sizeof ms);
    pthread_mutex_unlock(&rec.lock);
    assert_int_equal(calls, 5);
    for (int i = 0; i < 4; i++) {
        int64_t gap = ms[i + 1] - ms[i], want = 100LL << i;
        if (gap < want - 5 || gap > want + 1500)
            fail_msg("retry %d came after %lld ms, expected about %lld", i + 1, (long long)gap,
                     (long long)want);
    }
    /* Delivered: not sent again. */
    hw_relay_kick(relay);
    usleep(400 * 1000);
    pthread_mutex_lock(&rec.lock);
    assert_int_equal(rec.calls, 5);
    pthread_mutex_unlock(&rec.lock);
    hw_relay_stop(relay);
    hw_pg_pool_destroy(p);
}

static void test_events_kept_until_a_subscriber_exists(void **state)
{
    hw_pg_pool *p = migrated_pool("ob_late", 2);
    static recorder rec;
    recorder_init(&rec);
    hw_relay *idle = hw_relay_start(p, "risk", "", record_delivery, &rec);
    assert_non_null(idle);
    char ids[3][37];
    for (int i = 0; i < 3; i++)
        add_event(p, i, ids[i]);
    hw_relay_kick(idle);
    usleep(300 * 1000);
    hw_relay_stop(idle);
    assert_int_equal(rec.calls, 0);

    hw_relay *relay = hw_relay_start(p, "risk", " sink-late:1 ", record_delivery, &rec);
    assert_non_null(relay);
    assert_true(wait_for(&rec, 3, 10000));
    for (int i = 0; i < 3; i++) {
        assert_string_equal(rec.items[i].id, ids[i]);
        assert_string_equal(rec.items[i].target, "sink-late:1");
        assert_string_equal(rec.items[i].source, "risk");
    }
    hw_relay_stop(relay);
    hw_pg_pool_destroy(p);
}

/* Two replicas (two pools, two relays) on one schema, two subscribers:
 * every event reaches each subscriber exactly once, in order. */
static void test_two_relays_deliver_once_per_subscriber(void **state)
{
    hw_pg_pool *p1 = migrated_pool("ob_replicas", 3);
    char err[256];
    hw_pg_pool *p2 = hw_pg_pool_create(g_test_conninfo, "ob_replicas", 3, err, sizeof err);
    assert_non_null(p2);
    static recorder rec;
    recorder_init(&rec);
    rec.slow_us = 300;
    hw_relay *r1 = hw_relay_start(p1, "episodes", "s1:1,s2:2", record_delivery, &rec);
    hw_relay *r2 = hw_relay_start(p2, "episodes", "s1:1,s2:2", record_delivery, &rec);
    assert_non_null(r1);
    assert_non_null(r2);

    enum { N = 200, BATCH = 20 };
    static char ids[N][37];
    hw_status st = HW_STATUS_INIT;
    for (int b = 0; b < N / BATCH; b++) {
        hw_db *db = hw_pg_acquire(b % 2 ? p2 : p1, 5000, &st);
        assert_non_null(db);
        assert_int_equal(hw_db_begin(db, &st), 0);
        for (int i = b * BATCH; i < (b + 1) * BATCH; i++) {
            char subject[64];
            snprintf(subject, sizeof subject, "episode:%d", i);
            assert_int_equal(hw_outbox_add(db, "episodes.closed", subject, "{}", ids[i], &st), 0);
        }
        assert_int_equal(hw_db_commit(db, &st), 0);
        hw_pg_release(db);
        hw_relay_kick(r1);
        hw_relay_kick(r2);
        usleep(5 * 1000);
    }
    assert_true(wait_for(&rec, 2 * N, 30000));
    usleep(500 * 1000);   /* a duplicate would show up by now */
    hw_relay_stop(r1);
    hw_relay_stop(r2);
    assert_int_equal(rec.n, 2 * N);

    const char *targets[] = {"s1:1", "s2:2"};
    for (int t = 0; t < 2; t++) {
        int next = 0;   /* the events, in order, as this subscriber saw them */
        for (int k = 0; k < rec.n; k++) {
            if (strcmp(rec.items[k].target, targets[t]) != 0)
                continue;
            assert_true(next < N);
            if (strcmp(rec.items[k].id, ids[next]) != 0)
                fail_msg("%s: delivery %d was %s, expected %s", targets[t], next,
                         rec.items[k].id, ids[next]);
            next++;
        }
        assert_int_equal(next, N);
    }
    hw_pg_pool_destroy(p1);
    hw_pg_pool_destroy(p2);
}

/* A kick delivers at once rather than at the next idle poll (2 s). */
static void test_kick_wakes_relay(void **state)
{
    hw_pg_pool *p = migrated_pool("ob_kick", 2);
    static recorder rec;
    recorder_init(&rec);
    hw_relay *relay = hw_relay_start(p, "episodes", "sink-k:1", record_delivery, &rec);
    assert_non_null(relay);
    usleep(300 * 1000);   /* first round done: the relay is idle */
    for (int i = 0; i < 3; i++) {
        char id[37];
        add_event(p, i, id);
        int64_t t0 = now_ms();
        hw_relay_kick(relay);
        assert_true(wait_for(&rec, i + 1, 5000));
        int64_t took = now_ms() - t0;
        if (took > 1000)
            fail_msg("kicked event took %lld ms", (long long)took);
        assert_string_equal(rec.items[i].id, id);
        usleep((useconds_t)(150 + 250 * i) * 1000);
    }
    hw_relay_stop(relay);
    hw_pg_pool_destroy(p);
}

int main(void)
{
    if (!getenv("HW_TEST_PG_URL") || !*getenv("HW_TEST_PG_URL")) {
        fprintf(stderr, "FAIL: HW_TEST_PG_URL is not set. These tests need a real Postgres: "
                        "set it to a libpq URL for a superuser, e.g. "
                        "postgresql://user@127.0.0.1:5432/postgres\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inbox_claim),
        cmocka_unit_test(test_relay_delivers_in_order),
        cmocka_unit_test(test_refused_delivery_backs_off),
        cmocka_unit_test(test_events_kept_until_a_subscriber_exists),
        cmocka_unit_test(test_two_relays_deliver_once_per_subscriber),
        cmocka_unit_test(test_kick_wakes_relay),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
