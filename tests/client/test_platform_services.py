"""test_platform_services.py -- the platform as the five real services show it
to an independent client (Debian's python3-grpcio): health of every service,
the status codes of the common layer on a real service, the audit log, and
the faults of the platform issue: Postgres restarted under a running
service, a service killed with SIGKILL while an event waits for delivery,
SIGTERM with a stream open. R-SEC-1 (per-method roles), R-SEC-2 (audit)."""

import json
import signal
import time
import unittest
import uuid

import grpc

import health_pb2
import health_pb2_grpc
import hw
from google.rpc import error_details_pb2, status_pb2
from homeward.episodes.v1 import episodes_pb2 as epb
from homeward.episodes.v1 import episodes_pb2_grpc as epbg
from homeward.events.v1 import events_pb2, events_pb2_grpc

FULL_NAMES = {
    'episodes': 'homeward.episodes.v1.Episodes',
    'risk': 'homeward.risk.v1.Risk',
    'interviews': 'homeward.interviews.v1.Interviews',
    'notifications': 'homeward.notifications.v1.Notifications',
    'meetings': 'homeward.meetings.v1.Meetings',
}

# A private Postgres: this module restarts it.
STACK = hw.Stack(services=hw.SERVICES, private_pg=True)


def setUpModule():
    STACK.start()


def tearDownModule():
    STACK.stop()


def rid():
    return str(uuid.uuid4())


def health(svc, name='', timeout=5):
    stub = health_pb2_grpc.HealthStub(STACK.channel(svc))
    return stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=timeout).status


def wait_health(svc, want, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = health(svc, timeout=2)
            if last == want:
                return
        except grpc.RpcError as e:
            last = e.code()
        time.sleep(0.2)
    raise AssertionError(f'{svc}: health stayed {last}, wanted {want}')


def failure(fn, *args, **kw):
    """(code, {field: description}) of a call expected to fail."""
    try:
        fn(*args, **kw)
    except grpc.RpcError as e:
        fields = {}
        for k, v in e.trailing_metadata() or ():
            if k == 'grpc-status-details-bin':
                st = status_pb2.Status.FromString(v)
                for d in st.details:
                    br = error_details_pb2.BadRequest()
                    if d.Unpack(br):
                        fields.update({f.field: f.description for f in br.field_violations})
        return e.code(), fields
    raise AssertionError('the call succeeded')


def episodes():
    return epbg.EpisodesStub(STACK.channel('episodes'))


class World:
    """A home, a looked-after child placed there, and the people."""

    def __init__(self):
        t = STACK.token
        self.csc = t('csc_lead', 'la-stoke', sub='csc-1')
        self.sw = t('social_worker', 'la-stoke', sub='sw-1')
        self.officer = t('police_officer', 'force-staffs', sub='pc-1')
        e = episodes()
        md = STACK.metadata(self.csc, purpose='test: set up a home')
        self.home = e.UpsertHome(epb.UpsertHomeRequest(request_id=rid(), home=epb.Home(
            name='Rowan House (demo)', address='3 Example Road', host_authority='la-stoke')),
            metadata=md, timeout=10).id
        self.carer = t('care_staff', 'provider-demo', homes=(self.home,), sub='carer-1')
        self.child = e.UpsertChild(epb.UpsertChildRequest(request_id=rid(), child=epb.Child(
            first_name='Sam', last_name='Fictional', date_of_birth='2011-02-03',
            looked_after=True, responsible_authority='la-stoke')),
            metadata=STACK.metadata(self.sw, purpose='test: record a child'), timeout=10).id
        e.UpsertPlacement(epb.UpsertPlacementRequest(request_id=rid(), placement=epb.Placement(
            child_id=self.child, home_id=self.home, starts_at='2025-01-01T10:00:00Z',
            placement_type="children's home")),
            metadata=STACK.metadata(self.sw, purpose='test: place a child'), timeout=10)

    def report(self):
        return episodes().ReportMissing(epb.ReportMissingRequest(
            request_id=rid(), report=epb.MissingReport(
                child_id=self.child, last_seen_at='2026-01-10T21:30:00Z',
                last_seen_place='bus station', clothing='grey hoodie',
                circumstances='did not return after school', reporter_name='Carer One')),
            metadata=STACK.metadata(self.carer, purpose='test: report missing'),
            timeout=10).episode


_WORLD = None


def world():
    global _WORLD
    if _WORLD is None:
        _WORLD = World()
    return _WORLD


class Health(unittest.TestCase):
    def test_all_five_serving_by_every_name(self):
        for svc in hw.SERVICES:
            with self.subTest(svc=svc):
                self.assertEqual(health(svc), health_pb2.HealthCheckResponse.SERVING)
                self.assertEqual(health(svc, FULL_NAMES[svc]),
                                 health_pb2.HealthCheckResponse.SERVING)
                code, _ = failure(health, svc, 'no.such.Service')
                self.assertEqual(code, grpc.StatusCode.NOT_FOUND)

    def test_health_needs_no_token_and_watch_streams_status(self):
        stub = health_pb2_grpc.HealthStub(STACK.channel('risk'))
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=''), timeout=5)
        first = next(iter(watch))
        self.assertEqual(first.status, health_pb2.HealthCheckResponse.SERVING)
        watch.cancel()


class StatusCodes(unittest.TestCase):
    """The common layer's answers, seen on a real service."""

    def test_unimplemented_is_immediate(self):
        call = STACK.channel('meetings').unary_unary('/homeward.meetings.v1.Meetings/NoSuchCall')
        t0 = time.time()
        with self.assertRaises(grpc.RpcError) as cm:
            call(b'', timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        self.assertLess(time.time() - t0, 5, 'UNIMPLEMENTED must not wait for the deadline')

    def test_unauthenticated_without_or_with_a_bad_token(self):
        w = world()
        req = epb.GetChildRequest(child_id=w.child)
        code, _ = failure(episodes().GetChild, req, metadata=(('x-purpose', 'test'),),
                          timeout=5)
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        forged = STACK.token('social_worker', 'la-stoke')[:-4] + 'AAAA'
        code, _ = failure(episodes().GetChild, req, metadata=STACK.metadata(forged), timeout=5)
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)

    def test_R_SEC_1_permission_denied_for_a_role_the_method_does_not_allow(self):
        # The SPOC's roster is for police and care staff, not social workers.
        w = world()
        code, _ = failure(episodes().GetHomeRoster, epb.GetHomeRosterRequest(),
                          metadata=STACK.metadata(w.sw), timeout=5)
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        # Only services deliver events.
        sink = events_pb2_grpc.EventSinkStub(STACK.channel('episodes'))
        code, _ = failure(sink.Deliver, events_pb2.Event(id=rid(), type='x.y'),
                          metadata=STACK.metadata(w.officer), timeout=5)
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)

    def test_invalid_argument_names_every_field_and_writes_nothing(self):
        w = world()
        before = STACK.sql_one('SELECT count(*) FROM episodes.episodes')
        code, fields = failure(episodes().ReportMissing, epb.ReportMissingRequest(
            request_id=rid(), report=epb.MissingReport(child_id=w.child)),
            metadata=STACK.metadata(w.carer), timeout=5)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(any('last_seen_at' in f for f in fields), fields)
        self.assertTrue(all(desc for desc in fields.values()), fields)
        self.assertEqual(STACK.sql_one('SELECT count(*) FROM episodes.episodes'), before)

    def test_deadline_exceeded_is_honoured(self):
        w = world()
        with self.assertRaises(grpc.RpcError) as cm:
            episodes().GetChild(epb.GetChildRequest(child_id=w.child),
                                metadata=STACK.metadata(w.sw), timeout=0.0005)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)


class Audit(unittest.TestCase):
    def test_R_SEC_2_a_read_is_audited_with_its_reason_and_rows_cannot_change(self):
        w = world()
        reason = 'test: section 47 enquiry ' + rid()
        episodes().GetChild(epb.GetChildRequest(child_id=w.child),
                            metadata=STACK.metadata(w.sw, purpose=reason), timeout=5)
        rows = STACK.sql('SELECT subject, org, record_id FROM episodes.audit WHERE purpose = $1',
                         reason)
        self.assertEqual(rows, [('sw-1', 'la-stoke', w.child)])
        # Without a stated reason the read is refused (and so not made).
        code, fields = failure(episodes().GetChild, epb.GetChildRequest(child_id=w.child),
                               metadata=(('authorization', 'Bearer ' + w.sw),), timeout=5)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn('x-purpose', fields)
        # The service's own database user may add audit rows, never change them.
        url = STACK.db_url_as('homeward_episodes')
        for stmt in ('UPDATE episodes.audit SET purpose = $1', 'DELETE FROM episodes.audit',
                     'TRUNCATE episodes.audit'):
            with self.subTest(stmt=stmt), self.assertRaises(Exception):
                STACK.sql(stmt, 'x', url=url) if '$1' in stmt else STACK.sql(stmt, url=url)
        self.assertEqual(len(STACK.sql('SELECT 1 FROM episodes.audit WHERE purpose = $1',
                                       reason)), 1)


class Faults(unittest.TestCase):
    def test_postgres_restart_goes_not_serving_then_serving_and_calls_work(self):
        w = world()
        STACK.pg_stop()
        try:
            wait_health('episodes', health_pb2.HealthCheckResponse.NOT_SERVING)
            code, _ = failure(episodes().GetChild, epb.GetChildRequest(child_id=w.child),
                              metadata=STACK.metadata(w.sw), timeout=10)
            self.assertEqual(code, grpc.StatusCode.UNAVAILABLE)
        finally:
            STACK.pg_start()
        for svc in hw.SERVICES:
            wait_health(svc, health_pb2.HealthCheckResponse.SERVING)
        got = episodes().GetChild(epb.GetChildRequest(child_id=w.child),
                                  metadata=STACK.metadata(w.sw), timeout=10)
        self.assertEqual(got.id, w.child)

    def test_redis_down_goes_not_serving_then_serving(self):
        STACK.redis_stop()
        try:
            for svc in hw.SERVICES:
                wait_health(svc, health_pb2.HealthCheckResponse.NOT_SERVING)
        finally:
            STACK.redis_start()
        for svc in hw.SERVICES:
            wait_health(svc, health_pb2.HealthCheckResponse.SERVING)

    def test_event_survives_sigkill_of_its_sender_and_is_applied_once(self):
        """The located event waits in the episodes outbox while interviews is
        down; episodes is killed with SIGKILL; after both restart the event is
        delivered, and interviews applies it exactly once."""
        w = world()
        STACK.kill('interviews', signal.SIGKILL)
        ep = w.report()
        episodes().MarkLocated(epb.MarkLocatedRequest(
            request_id=rid(), episode_id=ep.id, located=epb.Located(
                at='2026-01-11T08:00:00Z', place='friend\'s flat', by='PC Demo',
                how=epb.RETURN_METHOD_POLICE)),
            metadata=STACK.metadata(w.officer), timeout=10)
        time.sleep(1.0)   # the relay is now retrying against a dead subscriber
        STACK.kill('episodes', signal.SIGKILL)
        self.assertEqual(int(STACK.sql_one(
            'SELECT count(*) FROM interviews.interviews WHERE episode_id = $1', ep.id)), 0,
            'nothing can have been delivered while interviews was down')
        STACK.restart('interviews')
        STACK.restart('episodes')
        deadline = time.time() + 30
        n = 0
        while time.time() < deadline:
            n = int(STACK.sql_one('SELECT count(*) FROM interviews.interviews WHERE episode_id = $1',
                                  ep.id))
            if n:
                break
            time.sleep(0.2)
        self.assertEqual(n, 2, 'a prevention and a return interview expected once each')
        # A repeat delivery of the same event changes nothing.
        ev_id, payload = STACK.sql(
            "SELECT id::text, payload::text FROM episodes.outbox WHERE type = 'episodes.located'"
            " AND subject = $1", f'episode:{ep.id}')[0]
        sink = events_pb2_grpc.EventSinkStub(STACK.channel('interviews'))
        again = sink.Deliver(events_pb2.Event(
            id=ev_id, source='episodes', type='episodes.located', subject=f'episode:{ep.id}',
            occurred_at_ms=int(time.time() * 1000), payload_json=payload),
            metadata=STACK.metadata(STACK.token('service', 'homeward', sub='service:episodes')),
            timeout=10)
        self.assertTrue(again.duplicate)
        self.assertEqual(int(STACK.sql_one(
            'SELECT count(*) FROM interviews.interviews WHERE episode_id = $1', ep.id)), 2)

    def test_sigterm_ends_streams_and_exits_zero_within_grace(self):
        w = world()
        spoc = STACK.token('spoc', 'force-staffs', homes=(w.home,), sub='spoc-1')
        stream = episodes().WatchEpisodes(epb.WatchEpisodesRequest(),
                                          metadata=STACK.metadata(spoc), timeout=60)
        time.sleep(0.5)
        t0 = time.time()
        rc = STACK.kill('meetings', signal.SIGTERM)
        self.assertEqual(rc, 0)
        self.assertLess(time.time() - t0, 12)
        STACK.kill('episodes', signal.SIGTERM, wait=False)
        with self.assertRaises(grpc.RpcError) as cm:
            for _ in stream:
                pass
        self.assertIn(cm.exception.code(), (grpc.StatusCode.UNAVAILABLE,
                                            grpc.StatusCode.CANCELLED))
        self.assertEqual(STACK.kill('episodes', signal.SIGTERM), 0)
        STACK.restart('meetings')
        STACK.restart('episodes')


if __name__ == '__main__':
    unittest.main()
