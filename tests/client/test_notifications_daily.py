"""test_notifications_daily.py -- the 07:00 daily alert of children missing (R-NOT-2).

The notifications service runs on an injected clock (HOMEWARD_CLOCK_OFFSET_MS,
computed here with Python's own Europe/London rules) set to 06:59:58 local
time: the alert must fire once, at 07:00, to the authority's pod coordinators,
managers and CSE social worker, list the child reported missing through the
real episodes service, and schedule the next day's alert -- including on the
two daylight-saving days of 2026, and with a second replica running.
"""

import os
import subprocess
import time
import unittest
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import hw
from homeward.episodes.v1 import episodes_pb2 as ep
from homeward.episodes.v1 import episodes_pb2_grpc as ep_grpc
from homeward.notifications.v1 import notifications_pb2 as nt
from homeward.notifications.v1 import notifications_pb2_grpc as nt_grpc

LONDON = ZoneInfo('Europe/London')
STACK = hw.Stack(services=('episodes', 'notifications'))


def setUpModule():
    STACK.start()


def tearDownModule():
    STACK.stop()


def rid():
    return str(uuid.uuid4())


def ts(dt):
    return dt.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000Z')


def utc_text(dt):
    return dt.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def report_missing_child():
    md = STACK.metadata(STACK.token('service', 'homeward', sub='service:test'), 'test set-up')
    eps = ep_grpc.EpisodesStub(STACK.channel('episodes'))
    home = eps.UpsertHome(ep.UpsertHomeRequest(request_id=rid(), home=ep.Home(
        name='Daily Home', host_authority='la-stoke')), metadata=md, timeout=10)
    child = eps.UpsertChild(ep.UpsertChildRequest(request_id=rid(), child=ep.Child(
        first_name='Daily', last_name='Child', date_of_birth='2010-06-01', looked_after=True,
        responsible_authority='la-stoke')), metadata=md, timeout=10)
    eps.UpsertPlacement(ep.UpsertPlacementRequest(request_id=rid(), placement=ep.Placement(
        child_id=child.id, home_id=home.id, placement_type="children's home",
        starts_at=ts(datetime.now(timezone.utc) - timedelta(hours=2)),
        placing_authority='la-stoke', responsible_authority='la-stoke')), metadata=md, timeout=10)
    r = eps.ReportMissing(ep.ReportMissingRequest(request_id=rid(), report=ep.MissingReport(
        child_id=child.id, last_seen_at=ts(datetime.now(timezone.utc) - timedelta(hours=1)),
        last_seen_place='park', clothing='blue coat', circumstances='did not come home',
        reporter_name='Carer')), metadata=md, timeout=10)
    return r.episode.id


def daily_alerts(token):
    stub = nt_grpc.NotificationsStub(STACK.channel('notifications'))
    box = stub.ListInbox(nt.ListInboxRequest(page_size=200), metadata=STACK.metadata(token),
                         timeout=10)
    return [n for n in box.notifications if n.kind == 'daily_alert']


def offset_to(local_dt):
    """HOMEWARD_CLOCK_OFFSET_MS that makes the service's clock read local_dt now."""
    return int(local_dt.timestamp() * 1000) - int(time.time() * 1000)


class DailyAlert(unittest.TestCase):

    def run_day(self, day, extra_replica=False):
        seven = datetime(day.year, day.month, day.day, 7, 0, 0, tzinfo=LONDON)
        start = seven - timedelta(seconds=2)
        off = offset_to(start)
        replica = None
        STACK.restart('notifications', env={'HOMEWARD_CLOCK_OFFSET_MS': str(off)})
        if extra_replica:
            # A second replica on the same database, Redis and clock.
            env = STACK.env_for('notifications')
            env['HOMEWARD_LISTEN'] = f'127.0.0.1:{hw.free_port()}'
            replica_log = os.path.join(STACK.tmp, 'notifications-replica.log')
            with open(replica_log, 'a') as log:
                replica = subprocess.Popen([os.path.join(hw.BINARY_DIR, 'homeward-notifications')],
                                           env=env, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT)
        try:
            pod = STACK.token('pod_coordinator', 'la-stoke', sub=f'pod-{day}')
            cse = STACK.token('cse_social_worker', 'la-stoke', sub=f'cse-{day}')
            other_la = STACK.token('pod_coordinator', 'la-leics', sub=f'pod-leics-{day}')
            title = f'Daily alert {day.isoformat()}'
            end = time.monotonic() + 20
            mine = []
            while time.monotonic() < end and not mine:
                mine = [n for n in daily_alerts(pod) if n.title.startswith(title)]
                time.sleep(0.25)
            self.assertEqual(len(mine), 1, f'the alert of {day} fired')
            n = mine[0]
            self.assertEqual(n.rule, 'R-NOT-2')
            self.assertIn(self.episode, n.body)
            # At 07:00 local (service clock), not before, not much later.
            fired = datetime.strptime(n.created_at, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
                tzinfo=timezone.utc)
            self.assertGreaterEqual(fired, seven)
            self.assertLess(fired, seven + timedelta(seconds=10))
            reasons = {r.address: r.reason for r in n.recipients}
            self.assertEqual(reasons['role:pod_coordinator@la-stoke'], 'pod_coordinator')
            self.assertEqual(reasons['role:team_manager@la-stoke'], 'manager')
            self.assertEqual(reasons['role:cse_social_worker@la-stoke'], 'cse_social_worker')
            self.assertEqual([x.id for x in daily_alerts(cse) if x.title.startswith(title)], [n.id])
            self.assertEqual([x for x in daily_alerts(other_la) if x.title.startswith(title)], [])
            # Once: nothing more for that day, even after the scheduler's next passes.
            time.sleep(3)
            self.assertEqual(len([x for x in daily_alerts(pod) if x.title.startswith(title)]), 1)
            self.assertEqual(STACK.sql_one("SELECT count(*) FROM notifications.daily_alert_runs"
                                           " WHERE local_date = $1::date", day.isoformat()), '1')
            done = STACK.sql("SELECT to_char(due_at AT TIME ZONE 'UTC',"
                             " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM notifications.deadlines"
                             " WHERE kind = 'daily_alert' AND subject = $1 AND state = 'done'",
                             day.isoformat())
            self.assertEqual(done, [(utc_text(seven),)])
            # Tomorrow's 07:00 local is scheduled.
            tomorrow = day + timedelta(days=1)
            next_seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, 0,
                                  tzinfo=LONDON)
            pending = STACK.sql("SELECT subject, to_char(due_at AT TIME ZONE 'UTC',"
                                " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM notifications.deadlines"
                                " WHERE kind = 'daily_alert' AND state = 'pending'")
            self.assertEqual(pending, [(tomorrow.isoformat(), utc_text(next_seven))])
        finally:
            if replica:
                replica.terminate()
                replica.wait(timeout=20)
                with open(replica_log, errors='replace') as f:
                    text = f.read()
                self.assertFalse(any(m in text for m in hw._SANITIZER_MARKS), text[-3000:])
                self.assertIn('daily alert scheduled', text)

    def test_R_NOT_2_daily_alert_0700_once_across_daylight_saving(self):
        """R-NOT-2: the 07:00 Europe/London alert fires once per day, on the
        spring-forward day (07:00 BST = 06:00Z) and the fall-back day
        (07:00 GMT = 07:00Z, with a second replica running)."""
        self.episode = report_missing_child()
        wait = time.monotonic() + 15
        while time.monotonic() < wait and STACK.sql_one(
                "SELECT count(*) FROM notifications.missing_now WHERE episode_id = $1",
                self.episode) != '1':
            time.sleep(0.2)
        self.assertEqual(STACK.sql_one("SELECT count(*) FROM notifications.missing_now"
                                       " WHERE episode_id = $1", self.episode), '1')
        self.run_day(date(2026, 3, 29))                       # 07:00 BST = 06:00Z
        self.run_day(date(2026, 10, 25), extra_replica=True)  # 07:00 GMT = 07:00Z


if __name__ == '__main__':
    unittest.main()
