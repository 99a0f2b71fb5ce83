"""test_meetings_flow.py -- the meetings service through an independent client.

Episode events are delivered to the meetings service's EventSink as the
episodes service's relay would (a token with the "service" role), so each
test controls the 90-day count and the reported time: an episode "reported
72 hours minus a few seconds ago" makes the 3-day deadline fall due within
seconds. Rule ids: R-ESC-1, R-ESC-2, R-ESC-3, R-ESC-4, R-ESC-5, R-LONG-1,
R-LONG-2, R-MEET-1, R-SEC-1, R-SEC-2.
"""

import datetime
import json
import time
import unittest
import uuid
from zoneinfo import ZoneInfo

import grpc

import hw
from google.rpc import error_details_pb2, status_pb2
from homeward.events.v1 import events_pb2, events_pb2_grpc
from homeward.meetings.v1 import meetings_pb2 as pb
from homeward.meetings.v1 import meetings_pb2_grpc as rpc

STACK = hw.Stack(services=('meetings',))
HOUR_MS = 3600 * 1000
AUTHORITY = 'la-stoke'
FORCE = 'force-staffs'
LONDON = ZoneInfo('Europe/London')

# England and Wales bank holidays as published on gov.uk (an independent
# table, not the service's computation).
BANK_HOLIDAYS = {datetime.date(*d) for d in (
    (2025, 1, 1), (2025, 4, 18), (2025, 4, 21), (2025, 5, 5), (2025, 5, 26), (2025, 8, 25),
    (2025, 12, 25), (2025, 12, 26),
    (2026, 1, 1), (2026, 4, 3), (2026, 4, 6), (2026, 5, 4), (2026, 5, 25), (2026, 8, 31),
    (2026, 12, 25), (2026, 12, 28),
    (2027, 1, 1), (2027, 3, 26), (2027, 3, 29), (2027, 5, 3), (2027, 5, 31), (2027, 8, 30),
    (2027, 12, 27), (2027, 12, 28),
    (2028, 1, 3), (2028, 4, 14), (2028, 4, 17), (2028, 5, 1), (2028, 5, 29), (2028, 8, 28),
    (2028, 12, 25), (2028, 12, 26))}

LEVEL_1_ROLES = ['social_worker', 'child', 'parent', 'police_officer', 'care_staff',
                 'return_interview_worker']


def now_ms():
    return int(time.time() * 1000)


def rfc3339(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return d.strftime('%Y-%m-%dT%H:%M:%S.') + f'{ms % 1000:03d}Z'


def parse(ts):
    return datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)


def five_working_days_end(ms):
    """End (23:59:59.999 London) of the 5th working day after the London date of ms."""
    d = datetime.datetime.fromtimestamp(ms / 1000, tz=LONDON).date()
    n = 0
    while n < 5:
        d += datetime.timedelta(days=1)
        if d.weekday() < 5 and d not in BANK_HOLIDAYS:
            n += 1
    end = datetime.datetime(d.year, d.month, d.day, 23, 59, 59, 999000, tzinfo=LONDON)
    return end.astimezone(datetime.timezone.utc)


def rid():
    return str(uuid.uuid4())


def violations(err):
    out = {}
    for k, v in err.trailing_metadata() or ():
        if k == 'grpc-status-details-bin':
            st = status_pb2.Status.FromString(v)
            for d in st.details:
                br = error_details_pb2.BadRequest()
                if d.Unpack(br):
                    for fv in br.field_violations:
                        out[fv.field] = fv.description
    return out


def refused(fn):
    try:
        fn()
    except grpc.RpcError as e:
        return e
    raise AssertionError('call succeeded but should have been refused')


def wait_for(fn, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what}')


def setUpModule():
    STACK.start()


def tearDownModule():
    STACK.stop()


class Meetings(unittest.TestCase):
    def setUp(self):
        self.stub = rpc.MeetingsStub(STACK.channel('meetings'))
        self.sink = events_pb2_grpc.EventSinkStub(STACK.channel('meetings'))

    # ---------------------------------------------------------------- helpers
    def md(self, role, org=AUTHORITY, sub=None, homes=(), purpose='planning a meeting'):
        return STACK.metadata(STACK.token(role, org, homes=homes, sub=sub), purpose)

    def deliver(self, type_, payload, event_id=None, occurred_ms=None):
        ev = events_pb2.Event(id=event_id or rid(), source='episodes', type=type_,
                              subject=f"episode:{payload['episode_id']}",
                              occurred_at_ms=occurred_ms or now_ms(), payload_json=json.dumps(payload))
        tok = STACK.token('service', 'homeward', sub='service:episodes')
        return self.sink.Deliver(ev, metadata=STACK.metadata(tok, 'event delivery'), timeout=15)

    def reported(self, child_id, count, reported_ms=None, profile='STAFFS', placing=AUTHORITY,
                 episode_id=None, event_id=None):
        """Deliver episodes.reported as the episodes service writes it; returns
        (episode_id, payload)."""
        episode_id = episode_id or rid()
        payload = {
            'episode_id': episode_id, 'child_id': child_id, 'home_id': 'home-oak',
            'status': 'missing', 'was_missing': True, 'force': FORCE, 'profile': profile,
            'responsible_authority': AUTHORITY, 'placing_authority': placing,
            'assigned_officer': 'pc-1', 'social_worker_id': 'sw-anna', 'spoc_ids': ['spoc-1'],
            'looked_after': True, 'reported_at': rfc3339(reported_ms or now_ms()),
            'missing_90_days': count,
        }
        self.deliver('episodes.reported', payload, event_id=event_id)
        return episode_id, payload

    def located(self, payload, located_ms=None):
        p = dict(payload, status='located', located_at=rfc3339(located_ms or now_ms()))
        return self.deliver('episodes.located', p)

    def meetings_of(self, child_id):
        return STACK.sql('SELECT id::text, kind, trigger, status FROM meetings.meetings'
                         ' WHERE child_id = $1 ORDER BY created_at', child_id)

    def events(self, type_, child_id):
        rows = STACK.sql("SELECT payload::text FROM meetings.outbox WHERE type = $1"
                         " AND payload->>'child_id' = $2 ORDER BY seq", type_, child_id)
        return [json.loads(r[0]) for r in rows]

    def get(self, meeting_id, md=None):
        return self.stub.GetMeeting(pb.GetMeetingRequest(meeting_id=meeting_id),
                                    metadata=md or self.md('social_worker', sub='sw-anna'), timeout=10)

    def level_1_meeting(self):
        child = rid()
        for n in (1, 2, 3):
            self.reported(child, n)
        rows = self.meetings_of(child)
        self.assertEqual(len(rows), 1, rows)
        return child, rows[0][0]

    # ---------------------------------------------------------------- R-ESC-1
    def test_R_ESC_1_third_episode_makes_one_level_1_meeting_due_in_5_working_days(self):
        child = rid()
        self.reported(child, 1)
        self.reported(child, 2)
        self.assertEqual(self.meetings_of(child), [], 'no meeting at 2 episodes')
        t3 = now_ms()
        self.reported(child, 3, reported_ms=t3)
        rows = self.meetings_of(child)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][1:], ('intervention_level_1', 'repeat_episodes', 'due'))
        m = self.get(rows[0][0])
        self.assertEqual(m.kind, pb.MEETING_KIND_INTERVENTION_LEVEL_1)
        self.assertEqual(m.level, 1)
        self.assertEqual(m.episodes_in_90_days, 3)
        self.assertEqual(m.status, pb.MEETING_STATUS_DUE)
        self.assertEqual(parse(m.due_by), five_working_days_end(t3))
        self.assertEqual(m.chair_role, 'social_worker')
        self.assertEqual([i.role for i in m.invitees], LEVEL_1_ROLES)
        by_role = {i.role: i for i in m.invitees}
        self.assertTrue(by_role['social_worker'].chair)
        self.assertEqual(by_role['social_worker'].person_id, 'sw-anna')   # resolved from the record
        self.assertEqual(by_role['police_officer'].person_id, 'pc-1')
        self.assertEqual(by_role['police_officer'].organisation, FORCE)
        self.assertTrue(by_role['return_interview_worker'].as_appropriate)
        self.assertFalse(by_role['parent'].resolved)
        self.assertEqual(sum(1 for i in m.invitees if i.chair), 1)
        created = self.events('meetings.created', child)
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0]['kind'], 'intervention_level_1')
        self.assertIn('sw-anna', created[0]['invitee_ids'])
        # The 4th episode does not call a second level 1 meeting.
        self.reported(child, 4)
        self.assertEqual(len(self.meetings_of(child)), 1)

    def test_R_ESC_1_events_delivered_twice_make_one_meeting(self):
        child = rid()
        self.reported(child, 1)
        self.reported(child, 2)
        ev = rid()
        episode, _ = self.reported(child, 3, event_id=ev)
        again = self.deliver('episodes.reported', {
            'episode_id': episode, 'child_id': child, 'profile': 'STAFFS', 'missing_90_days': 3,
            'responsible_authority': AUTHORITY, 'reported_at': rfc3339(now_ms())}, event_id=ev)
        self.assertTrue(again.duplicate)
        # The same facts under a new event id (a replayed outbox row) and an
        # earlier episode's event arriving late change nothing either.
        self.reported(child, 3, episode_id=episode)
        self.reported(child, 2)
        self.assertEqual(len(self.meetings_of(child)), 1)
        self.assertEqual(len(self.events('meetings.created', child)), 1)

    # ---------------------------------------------------------------- R-ESC-2, R-ESC-3
    def test_R_ESC_2_R_ESC_3_levels_and_the_letter_to_the_placing_authority(self):
        child = rid()
        for n in range(1, 10):
            latest, _ = self.reported(child, n, placing='la-birmingham')
        kinds = [r[1] for r in self.meetings_of(child)]
        self.assertEqual(kinds, ['intervention_level_1', 'intervention_level_2',
                                 'intervention_level_3'])
        l2 = self.get(self.meetings_of(child)[1][0])
        self.assertEqual(l2.chair_role, 'team_manager')
        self.assertIn('advocate', [i.role for i in l2.invitees])
        l3 = self.get(self.meetings_of(child)[2][0])
        self.assertEqual(l3.chair_role, 'csc_lead')
        self.assertIn('iro', [i.role for i in l3.invitees])
        self.assertIn('missing_person_coordinator', [i.role for i in l3.invitees])
        letters = self.events('meetings.level3_letter', child)
        self.assertEqual(len(letters), 1)
        self.assertEqual(letters[0]['placing_authority'], 'la-birmingham')
        self.assertEqual(letters[0]['meeting_id'], l3.id)
        # The letter names the episode that raised the level (its "most recent episode").
        self.assertEqual((letters[0]['episode_id'], l3.episode_id), (latest, latest))
        self.reported(child, 10, placing='la-birmingham')
        self.assertEqual(len(self.meetings_of(child)), 3)
        # A child placed by its own authority gets no letter.
        own = rid()
        for n in range(1, 10):
            self.reported(own, n)
        self.assertEqual(self.events('meetings.level3_letter', own), [])

    # ---------------------------------------------------------------- R-ESC-5
    def test_R_ESC_5_llr_strategy_meeting_at_3_in_90_days(self):
        child = rid()
        for n in (1, 2):
            self.reported(child, n, profile='LLR')
        self.assertEqual(self.meetings_of(child), [])
        self.reported(child, 3, profile='LLR')
        rows = self.meetings_of(child)
        self.assertEqual([r[1] for r in rows], ['strategy'])
        m = self.get(rows[0][0])
        self.assertEqual(m.profile, 'LLR')
        self.assertEqual(m.chair_role, 'social_worker')
        for n in (4, 5, 9):
            self.reported(child, n, profile='LLR')
        self.assertEqual(len(self.meetings_of(child)), 1, 'no level 2 or 3 in the LLR profile')

    def test_R_ESC_5_llr_missing_over_72_hours_gets_a_strategy_meeting(self):
        child = rid()
        episode, _ = self.reported(child, 1, profile='LLR', reported_ms=now_ms() - 72 * HOUR_MS + 2000)
        rows = wait_for(lambda: self.meetings_of(child), 'the 72-hour strategy meeting')
        self.assertEqual(rows[0][1:3], ('strategy', 'long_duration'))
        self.assertEqual(self.events('meetings.line_manager_alert', child), [],
                         'the 48-hour alert is a STAFFS rule')

    # ---------------------------------------------------------------- R-LONG-1, R-LONG-2
    def test_R_LONG_1_R_LONG_2_missing_3_days_gets_alert_and_case_review(self):
        child = rid()
        episode, _ = self.reported(child, 1, reported_ms=now_ms() - 72 * HOUR_MS + 3000)
        # 48 hours are long past: the line-manager alert goes at once (R-LONG-1).
        alerts = wait_for(lambda: self.events('meetings.line_manager_alert', child), 'the 48 h alert')
        self.assertEqual(alerts[0]['episode_id'], episode)
        self.assertEqual(alerts[0]['social_worker_id'], 'sw-anna')
        self.assertEqual(self.meetings_of(child), [], 'the case review waits for 3 days')
        rows = wait_for(lambda: self.meetings_of(child), 'the 3-day case review', timeout=40)
        self.assertEqual(rows[0][1:3], ('case_review', 'long_duration'))
        m = self.get(rows[0][0])
        self.assertEqual([i.role for i in m.invitees],
                         ['social_worker', 'police_officer', 'care_staff', 'other_professional'])
        self.assertEqual(len(self.events('meetings.line_manager_alert', child)), 1)

    def test_R_LONG_1_located_after_47_hours_gets_no_line_manager_alert(self):
        child = rid()
        reported = now_ms() - 48 * HOUR_MS + 4000
        episode, payload = self.reported(child, 1, reported_ms=reported)
        self.located(payload, located_ms=reported + 47 * HOUR_MS)
        time.sleep(8)   # past the 48-hour mark
        self.assertEqual(self.events('meetings.line_manager_alert', child), [])
        states = STACK.sql("SELECT kind, state FROM meetings.deadlines WHERE subject = $1 ORDER BY kind",
                           f'episode:{episode}')
        self.assertEqual(states, [('meetings.case_review', 'cancelled'),
                                  ('meetings.line_manager_alert', 'cancelled')])
        self.assertEqual(self.meetings_of(child), [])

    def test_R_LONG_1_located_event_before_report_schedules_nothing(self):
        child = rid()
        episode = rid()
        payload = {'episode_id': episode, 'child_id': child, 'profile': 'STAFFS',
                   'responsible_authority': AUTHORITY}
        self.located(payload)
        self.reported(child, 1, reported_ms=now_ms() - 72 * HOUR_MS, episode_id=episode)
        time.sleep(3)
        self.assertEqual(self.events('meetings.line_manager_alert', child), [])
        self.assertEqual(STACK.sql("SELECT count(*) FROM meetings.deadlines WHERE subject = $1",
                                   f'episode:{episode}'), [('0',)])

    # ---------------------------------------------------------------- R-MEET-1
    def test_R_MEET_1_schedule_attendance_minutes_and_follow_up(self):
        child, mid = self.level_1_meeting()
        sw = self.md('social_worker', sub='sw-anna')
        at = rfc3339(now_ms() + 48 * HOUR_MS)
        req = pb.ScheduleRequest(request_id=rid(), meeting_id=mid, scheduled_at=at, location='Oak House')
        m = self.stub.Schedule(req, metadata=sw, timeout=10)
        self.assertEqual(m.status, pb.MEETING_STATUS_SCHEDULED)
        again = self.stub.Schedule(req, metadata=sw, timeout=10)     # a phone's retry
        self.assertEqual(again.updated_at, m.updated_at)
        self.assertEqual(len(self.events('meetings.scheduled', child)), 1)
        ids = {i.role: i.id for i in m.invitees}
        m = self.stub.RecordAttendance(pb.RecordAttendanceRequest(
            request_id=rid(), meeting_id=mid,
            entries=[pb.AttendanceEntry(invitee_id=ids['social_worker'], attended=True),
                     pb.AttendanceEntry(invitee_id=ids['parent'], apologies=True)]),
            metadata=sw, timeout=10)
        att = {i.role: i for i in m.invitees}
        self.assertTrue(att['social_worker'].attended)
        self.assertTrue(att['parent'].apologies and att['parent'].attendance_recorded)
        nxt = rfc3339(now_ms() + 14 * 24 * HOUR_MS)
        m = self.stub.RecordMinutes(pb.RecordMinutesRequest(
            request_id=rid(), meeting_id=mid, minutes=pb.Minutes(
                push_factors='conflict at placement', pull_factors='older peers in town',
                plan='daily check-ins; CAWN considered', return_to_placement=pb.DECISION_YES,
                section_47=pb.DECISION_NO, decisions=['stay at Oak House'], next_meeting_at=nxt)),
            metadata=sw, timeout=10)
        self.assertEqual(m.status, pb.MEETING_STATUS_HELD)
        self.assertEqual(m.minutes.section_47, pb.DECISION_NO)
        self.assertEqual(list(m.minutes.decisions), ['stay at Oak House'])
        ev = self.events('meetings.minutes_recorded', child)
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]['distribute_to'], ['csc_lead', 'iro'])     # R-LONG-2
        follow = self.get(ev[0]['follow_up_id'])
        self.assertEqual(follow.trigger, pb.TRIGGER_FOLLOW_UP)
        self.assertEqual(follow.status, pb.MEETING_STATUS_SCHEDULED)
        self.assertEqual(parse(follow.scheduled_at), parse(nxt))
        self.assertEqual(follow.follows, mid)
        err = refused(lambda: self.stub.RecordMinutes(pb.RecordMinutesRequest(
            request_id=rid(), meeting_id=mid, minutes=pb.Minutes(plan='again')), metadata=sw, timeout=10))
        self.assertEqual(err.code(), grpc.StatusCode.FAILED_PRECONDITION)

    def test_R_MEET_1_overdue_action_shows_up(self):
        child, mid = self.level_1_meeting()
        sw = self.md('social_worker', sub='sw-anna')
        a = self.stub.AddAction(pb.AddActionRequest(
            request_id=rid(), meeting_id=mid, description='visit known address with police',
            owner_id='pc-1', owner_role='police_officer', due_at=rfc3339(now_ms() + 1500)),
            metadata=sw, timeout=10)
        self.assertFalse(a.overdue)
        # R-SPOC-1: the episodes roster counts open actions from these events.
        added = self.events('meetings.action_added', child)
        self.assertEqual([(e['action_id'], e['meeting_id'], e['owner_id']) for e in added],
                         [(a.id, mid, 'pc-1')])
        self.assertNotIn('description', added[0])
        ev = wait_for(lambda: self.events('meetings.action_overdue', child), 'action_overdue event')
        self.assertEqual(ev[0]['action_id'], a.id)
        self.assertEqual(ev[0]['owner_id'], 'pc-1')
        self.assertNotIn('description', ev[0])
        mine = self.stub.ListOverdueActions(pb.ListOverdueActionsRequest(), metadata=sw, timeout=10)
        self.assertIn(a.id, [x.id for x in mine.actions])
        self.assertTrue(all(x.overdue for x in mine.actions))
        # The episodes roster asks with its service identity for its children.
        svc = STACK.metadata(STACK.token('service', 'homeward', sub='service:episodes'), 'home roster')
        roster = self.stub.ListOverdueActions(pb.ListOverdueActionsRequest(child_ids=[child]),
                                              metadata=svc, timeout=10)
        self.assertEqual([x.id for x in roster.actions], [a.id])
        self.assertEqual(roster.actions[0].home_id, 'home-oak')
        # The chair's list (the social worker chairs level 1).
        chair = self.stub.ListOverdueActions(pb.ListOverdueActionsRequest(chaired_by_me=True),
                                             metadata=sw, timeout=10)
        self.assertIn(a.id, [x.id for x in chair.actions])
        # The owner completes it; it leaves the list.
        done = self.stub.CompleteAction(pb.CompleteActionRequest(
            request_id=rid(), action_id=a.id, outcome='visited, nobody home; repeat Friday'),
            metadata=self.md('police_officer', org=FORCE, sub='pc-1'), timeout=10)
        self.assertTrue(done.completed_at)
        completed = self.events('meetings.action_completed', child)
        self.assertEqual([e['action_id'] for e in completed], [a.id])
        self.assertNotIn('description', completed[0])
        roster = self.stub.ListOverdueActions(pb.ListOverdueActionsRequest(child_ids=[child]),
                                              metadata=svc, timeout=10)
        self.assertEqual(list(roster.actions), [])
        m = self.get(mid)
        self.assertEqual([x.id for x in m.actions], [a.id])

    # ---------------------------------------------------------------- R-ESC-4
    def test_R_ESC_4_request_and_escalate_by_hand(self):
        child, mid = self.level_1_meeting()
        sw = self.md('social_worker', sub='sw-anna')
        m = self.stub.Escalate(pb.EscalateRequest(
            request_id=rid(), meeting_id=mid, reason=pb.MANUAL_REASON_QUICK_SUCCESSION,
            reason_text='three episodes in ten days'), metadata=sw, timeout=10)
        self.assertEqual(m.kind, pb.MEETING_KIND_INTERVENTION_LEVEL_2)
        self.assertEqual(m.trigger, pb.TRIGGER_MANUAL)
        self.assertEqual(m.escalated_from, mid)
        self.assertEqual(m.manual_reason, pb.MANUAL_REASON_QUICK_SUCCESSION)
        err = refused(lambda: self.stub.Escalate(pb.EscalateRequest(
            request_id=rid(), meeting_id=mid, reason=pb.MANUAL_REASON_QUICK_SUCCESSION,
            reason_text='again'), metadata=sw, timeout=10))
        self.assertEqual(err.code(), grpc.StatusCode.ALREADY_EXISTS)
        # Police of the episode's force may request a case review (very high risk).
        officer = self.md('police_officer', org=FORCE, sub='pc-9')
        cr = self.stub.RequestMeeting(pb.RequestMeetingRequest(
            request_id=rid(), child_id=child, kind=pb.MEETING_KIND_CASE_REVIEW,
            reason=pb.MANUAL_REASON_VERY_HIGH_RISK, reason_text='seen with a suspect of CSE'),
            metadata=officer, timeout=10)
        self.assertEqual(cr.requested_by_id, 'pc-9')
        mine = self.stub.ListMeetings(pb.ListMeetingsRequest(scope=pb.LIST_SCOPE_MINE),
                                      metadata=officer, timeout=10)
        self.assertEqual([x.id for x in mine.meetings], [cr.id])
        err = refused(lambda: self.stub.RequestMeeting(pb.RequestMeetingRequest(
            request_id=rid(), child_id=child, kind=pb.MEETING_KIND_STRATEGY,
            reason=pb.MANUAL_REASON_VERY_HIGH_RISK, reason_text='x'), metadata=officer, timeout=10))
        self.assertEqual(err.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn('kind', violations(err))

    # ---------------------------------------------------------------- refusals
    def test_bad_input_refused_with_field_violations_and_nothing_written(self):
        child, mid = self.level_1_meeting()
        sw = self.md('social_worker', sub='sw-anna')
        count_sql = ('SELECT (SELECT count(*) FROM meetings.meetings) || \'/\' ||'
                     ' (SELECT count(*) FROM meetings.actions) || \'/\' ||'
                     ' (SELECT count(*) FROM meetings.audit) || \'/\' ||'
                     ' (SELECT count(*) FROM meetings.idempotency) || \'/\' ||'
                     ' (SELECT count(*) FROM meetings.outbox) || \'/\' ||'
                     ' (SELECT count(*) FROM meetings.deadlines)')
        before = STACK.sql_one(count_sql)

        err = refused(lambda: self.stub.Schedule(pb.ScheduleRequest(meeting_id='not-a-uuid',
                                                                     scheduled_at='tomorrow'),
                                                 metadata=sw, timeout=10))
        self.assertEqual(err.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(set(violations(err)), {'request_id', 'meeting_id', 'scheduled_at', 'location'})

        err = refused(lambda: self.stub.AddAction(pb.AddActionRequest(
            request_id=rid(), meeting_id=mid, description='  ', due_at=rfc3339(now_ms() - 1000)),
            metadata=sw, timeout=10))
        self.assertEqual(set(violations(err)), {'description', 'owner_id', 'due_at'})

        err = refused(lambda: self.stub.RecordMinutes(pb.RecordMinutesRequest(
            request_id=rid(), meeting_id=mid, minutes=pb.Minutes(
                push_factors='x', next_meeting_at=rfc3339(now_ms() - HOUR_MS))),
            metadata=sw, timeout=10))
        self.assertEqual(set(violations(err)), {'minutes.plan', 'minutes.next_meeting_at'})

        err = refused(lambda: self.stub.RecordAttendance(pb.RecordAttendanceRequest(
            request_id=rid(), meeting_id=mid, entries=[pb.AttendanceEntry(invitee_id='999999999')]),
            metadata=sw, timeout=10))
        self.assertEqual(violations(err), {'entries[0].invitee_id': 'not an invitee of this meeting'})

        err = refused(lambda: self.stub.RequestMeeting(pb.RequestMeetingRequest(request_id=rid()),
                                                       metadata=sw, timeout=10))
        self.assertEqual(set(violations(err)), {'child_id', 'kind', 'reason', 'reason_text'})

        err = refused(lambda: self.stub.ListMeetings(pb.ListMeetingsRequest(scope=pb.LIST_SCOPE_CHILD),
                                                     metadata=sw, timeout=10))
        self.assertEqual(set(violations(err)), {'child_id'})

        # No stated reason: refused before anything is read (R-SEC-2).
        err = refused(lambda: self.get(mid, md=self.md('social_worker', sub='sw-anna', purpose=None)))
        self.assertEqual(err.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn('x-purpose', violations(err))

        self.assertEqual(STACK.sql_one(count_sql), before)

    def test_R_SEC_1_who_sees_and_manages_meetings(self):
        child, mid = self.level_1_meeting()
        at = rfc3339(now_ms() + 24 * HOUR_MS)

        def schedule(md):
            return self.stub.Schedule(pb.ScheduleRequest(request_id=rid(), meeting_id=mid,
                                                         scheduled_at=at, location='Oak House'),
                                      metadata=md, timeout=10)
        # Wrong role: refused by the method's role table.
        err = refused(lambda: schedule(self.md('care_staff', org='provider-1', homes=('home-oak',))))
        self.assertEqual(err.code(), grpc.StatusCode.PERMISSION_DENIED)
        err = refused(lambda: schedule(self.md('police_officer', org=FORCE, sub='pc-1')))
        self.assertEqual(err.code(), grpc.StatusCode.PERMISSION_DENIED)
        # Right role, another authority's child.
        err = refused(lambda: schedule(self.md('team_manager', org='la-leic')))
        self.assertEqual(err.code(), grpc.StatusCode.PERMISSION_DENIED)
        err = refused(lambda: self.get(mid, md=self.md('social_worker', org='la-leic')))
        self.assertEqual(err.code(), grpc.StatusCode.PERMISSION_DENIED)
        # A team manager and an IRO of the authority manage it.
        self.assertEqual(schedule(self.md('team_manager')).status, pb.MEETING_STATUS_SCHEDULED)
        self.assertEqual(self.get(mid, md=self.md('iro')).id, mid)
        # Invited police see it; other officers do not.
        self.assertEqual(self.get(mid, md=self.md('police_officer', org=FORCE, sub='pc-1')).id, mid)
        err = refused(lambda: self.get(mid, md=self.md('police_officer', org='force-leics', sub='pc-2')))
        self.assertEqual(err.code(), grpc.StatusCode.PERMISSION_DENIED)
        # Care staff of the child's home are invited by role (residential worker).
        self.assertEqual(self.get(mid, md=self.md('care_staff', org='provider-1',
                                                  homes=('home-oak',))).id, mid)
        # Lists are filtered the same way.
        lst = self.stub.ListMeetings(pb.ListMeetingsRequest(scope=pb.LIST_SCOPE_CHILD, child_id=child),
                                     metadata=self.md('social_worker', org='la-leic'), timeout=10)
        self.assertEqual(list(lst.meetings), [])
        lst = self.stub.ListMeetings(pb.ListMeetingsRequest(scope=pb.LIST_SCOPE_CHILD, child_id=child),
                                     metadata=self.md('csc_lead'), timeout=10)
        self.assertEqual([m.id for m in lst.meetings], [mid])
        # Every read is audited with its reason (R-SEC-2).
        rows = STACK.sql("SELECT subject, purpose FROM meetings.audit WHERE record_id = $1"
                         " AND subject = 'pc-1'", mid)
        self.assertTrue(rows and rows[0][1] == 'planning a meeting', rows)

    def test_R_MEET_1_overdue_meetings_list(self):
        child = rid()
        # Reported 10 days ago: due 5 working days later, so overdue now.
        # Located delivered first (out of order): the old reports schedule no
        # long-episode deadlines, so the only meeting is the level 1.
        t = now_ms() - 10 * 24 * HOUR_MS
        for n in (1, 2, 3):
            episode = rid()
            self.located({'episode_id': episode, 'child_id': child, 'profile': 'STAFFS',
                          'responsible_authority': AUTHORITY}, located_ms=t + HOUR_MS)
            self.reported(child, n, reported_ms=t, episode_id=episode)
        self.assertEqual([r[1] for r in self.meetings_of(child)], ['intervention_level_1'])
        mid = self.meetings_of(child)[0][0]
        lst = self.stub.ListMeetings(pb.ListMeetingsRequest(scope=pb.LIST_SCOPE_OVERDUE),
                                     metadata=self.md('team_manager'), timeout=10)
        self.assertIn(mid, [m.id for m in lst.meetings])
        self.assertTrue(all(m.overdue for m in lst.meetings))


if __name__ == '__main__':
    unittest.main()
