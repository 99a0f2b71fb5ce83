"""test_episodes_deadlines.py -- the episodes service's deadlines against
real Redis and Postgres: the Regulation 41 notification (R-NOT-4) falls due
24 hours after arrival and survives FLUSHALL, a Redis restart and the
service being killed while it holds the claim; long-term missing at 28 days
(R-LONG-3, R-DEF-6).

A placement that began 24 hours minus a few seconds ago falls due in
seconds: no test-only setting shortens the protocol's 24 hours."""

import datetime
import signal
import subprocess
import time
import unittest
import uuid

import hw
from homeward.episodes.v1 import episodes_pb2 as pb
from homeward.episodes.v1 import episodes_pb2_grpc as pbg

STACK = hw.Stack(services=('episodes',))
E = None
T = {}


def setUpModule():
    global E
    STACK.start()
    E = pbg.EpisodesStub(STACK.channel('episodes'))
    T['csc'] = STACK.token('csc_lead', 'la-stoke')
    T['sw'] = STACK.token('social_worker', 'la-stoke')
    T['home'] = E.UpsertHome(pb.UpsertHomeRequest(request_id=rid(), home=pb.Home(
        name='Rowan House (demo)', host_authority='la-stoke')), metadata=md(T['csc']),
        timeout=10).id


def tearDownModule():
    STACK.stop()


def rid():
    return str(uuid.uuid4())


def md(token):
    return STACK.metadata(token, purpose='test: placement notification')


def stub():
    return pbg.EpisodesStub(STACK.channel('episodes'))


def iso(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


def placement_due_in(seconds):
    """A looked-after child placed 24 h minus `seconds` ago (R-NOT-4)."""
    child = stub().UpsertChild(pb.UpsertChildRequest(request_id=rid(), child=pb.Child(
        first_name='Kit', last_name='Fictional', date_of_birth='2011-03-03', looked_after=True,
        responsible_authority='la-stoke')), metadata=md(T['sw']), timeout=10)
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=24) \
        + datetime.timedelta(seconds=seconds)
    p = stub().UpsertPlacement(pb.UpsertPlacementRequest(request_id=rid(), placement=pb.Placement(
        child_id=child.id, home_id=T['home'], starts_at=iso(start))), metadata=md(T['sw']),
        timeout=10)
    return p


def reg41(pid):
    return STACK.sql_one('SELECT reg41_status FROM episodes.placements WHERE id = $1::uuid', pid)


def overdue_events(pid):
    return int(STACK.sql_one("SELECT count(*) FROM episodes.outbox WHERE type ="
                             " 'episodes.reg41_overdue' AND subject = $1", f'placement:{pid}'))


def wait_for(pred, timeout, step=0.25):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


MEMBER = 'reg41_due|placement:{}'
DUE_KEY = 'hw:{episodes}:due'
INFLIGHT_KEY = 'hw:{episodes}:inflight'


class Regulation41(unittest.TestCase):
    def test_R_NOT_4_due_24h_after_arrival_and_cancelled_when_submitted(self):
        p = placement_due_in(3600)
        due = STACK.sql_one("SELECT floor(extract(epoch from due_at) * 1000)::bigint -"
                            " floor(extract(epoch from p.starts_at) * 1000)::bigint"
                            " FROM episodes.deadlines d JOIN episodes.placements p"
                            " ON d.subject = 'placement:' || p.id WHERE p.id = $1::uuid"
                            " AND d.kind = 'reg41_due'", p.id)
        self.assertEqual(int(due), 24 * 3600 * 1000)
        self.assertEqual(p.reg41_status, pb.REG41_STATUS_DUE)
        sent = stub().SubmitRegulation41(pb.SubmitRegulation41Request(
            request_id=rid(), notification=pb.Regulation41(
                placement_id=p.id, reason_for_placement='emergency placement',
                completed_by='Carer One')), metadata=md(T['sw']), timeout=10)
        self.assertEqual(sent.reg41_status, pb.REG41_STATUS_SUBMITTED)
        self.assertEqual(STACK.sql_one("SELECT state FROM episodes.deadlines WHERE subject = $1",
                                       f'placement:{p.id}'), 'cancelled')

    def test_R_NOT_4_fires_after_FLUSHALL(self):
        p = placement_due_in(6)
        self.assertEqual(reg41(p.id), 'due')
        self.assertNotEqual(STACK.redis_cli('ZSCORE', DUE_KEY, MEMBER.format(p.id)), '')
        STACK.redis_cli('FLUSHALL')
        self.assertEqual(STACK.redis_cli('ZSCORE', DUE_KEY, MEMBER.format(p.id)), '')
        # Re-armed from Postgres (every 30 s), then fired.
        self.assertTrue(wait_for(lambda: reg41(p.id) == 'overdue', 60), STACK.logs('episodes')[-2000:])
        time.sleep(1)
        self.assertEqual(overdue_events(p.id), 1)

    def test_R_NOT_4_fires_after_redis_restart(self):
        p = placement_due_in(5)
        STACK.redis_restart()
        self.assertTrue(wait_for(lambda: reg41(p.id) == 'overdue', 60), STACK.logs('episodes')[-2000:])
        time.sleep(1)
        self.assertEqual(overdue_events(p.id), 1)

    def test_R_NOT_4_fires_once_after_a_kill_while_holding_the_claim(self):
        p = placement_due_in(3)
        # Hold the placement row so the handler, once it has claimed the
        # deadline, blocks inside its transaction.
        holder = subprocess.Popen(['psql', '-X', '-q', '-d', STACK.db_url], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        try:
            holder.stdin.write(f"BEGIN; SELECT 1 FROM episodes.placements WHERE id = '{p.id}'"
                               " FOR UPDATE;\n")
            holder.stdin.flush()
            member = MEMBER.format(p.id)
            claimed = wait_for(lambda: member in STACK.redis_cli('ZRANGE', INFLIGHT_KEY, 0, -1), 20)
            self.assertTrue(claimed, 'the deadline was never claimed')
            time.sleep(0.5)
            self.assertEqual(reg41(p.id), 'due')
            STACK.kill('episodes', signal.SIGKILL)
        finally:
            holder.stdin.write('COMMIT;\n')
            holder.stdin.close()
            holder.wait(timeout=10)
        self.assertEqual(reg41(p.id), 'due')
        self.assertEqual(overdue_events(p.id), 0)
        STACK.start_service('episodes')
        # The dead process's claim returns after its lease (30 s) and fires once.
        self.assertTrue(wait_for(lambda: reg41(p.id) == 'overdue', 75), STACK.logs('episodes')[-2000:])
        time.sleep(2)
        self.assertEqual(overdue_events(p.id), 1)
        self.assertEqual(STACK.sql_one("SELECT state FROM episodes.deadlines WHERE subject = $1",
                                       f'placement:{p.id}'), 'done')


class LongTerm(unittest.TestCase):
    def test_R_LONG_3_R_DEF_6_long_term_at_28_days(self):
        child = stub().UpsertChild(pb.UpsertChildRequest(request_id=rid(), child=pb.Child(
            first_name='Lee', last_name='Fictional', date_of_birth='2009-09-09', looked_after=True,
            responsible_authority='la-stoke')), metadata=md(T['sw']), timeout=10)
        stub().UpsertPlacement(pb.UpsertPlacementRequest(request_id=rid(), placement=pb.Placement(
            child_id=child.id, home_id=T['home'], starts_at='2025-01-01T00:00:00Z')),
            metadata=md(T['sw']), timeout=10)
        officer = STACK.token('police_officer', 'force-staffs')
        ep = stub().ReportMissing(pb.ReportMissingRequest(request_id=rid(), report=pb.MissingReport(
            child_id=child.id, last_seen_at='2026-01-01T00:00:00Z', last_seen_place='town',
            clothing='black jacket', circumstances='left at night', reporter_name='Carer')),
            metadata=md(officer), timeout=10).episode
        subject = f'episode:{ep.id}'
        gap = STACK.sql_one("SELECT extract(epoch from d.due_at - e.missing_since)::bigint"
                            " FROM episodes.deadlines d JOIN episodes.episodes e"
                            " ON d.subject = 'episode:' || e.id WHERE e.id = $1::uuid"
                            " AND d.kind = 'long_term'", ep.id)
        self.assertEqual(int(gap), 28 * 24 * 3600)
        # Let 28 days pass for this one deadline: move it into the past and
        # let the scheduler re-arm from Postgres.
        STACK.sql("UPDATE episodes.deadlines SET due_at = now() - interval '1 second'"
                  " WHERE kind = 'long_term' AND subject = $1", subject)
        STACK.redis_cli('FLUSHALL')
        self.assertTrue(wait_for(lambda: STACK.sql_one(
            'SELECT long_term FROM episodes.episodes WHERE id = $1::uuid', ep.id) == 't', 60))
        got = stub().GetEpisode(pb.GetEpisodeRequest(episode_id=ep.id), metadata=md(officer),
                                timeout=10)
        self.assertTrue(got.episode.long_term)
        self.assertIn('long_term', [t.kind for t in got.timeline])
        self.assertEqual(int(STACK.sql_one("SELECT count(*) FROM episodes.outbox WHERE"
                                           " type = 'episodes.long_term' AND subject = $1",
                                           subject)), 1)


if __name__ == '__main__':
    unittest.main()
