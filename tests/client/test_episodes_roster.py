"""test_episodes_roster.py -- what the episodes service keeps from the other
services' events, from an independent client (Python grpcio) against real
Postgres and Redis: the SPOC's roster showing overdue return interviews and
open meeting actions (R-SPOC-1), the return interview's outcome on the
episode and the statutory return (R-EPI-3, R-EPI-7), and the facts its own
events carry for the interviews and meetings services (R-RET-1, R-ESC-3).

Events are delivered to EventSink/Deliver with a 'service' token, exactly as
the interviews and meetings relays send them (payloads as those services
build them). Only the episodes service runs: the roster answers while its
peers are down.

Every test names the PROTOCOL.md rule it proves."""

import json
import time
import unittest
import uuid

import grpc

import hw
from homeward.episodes.v1 import episodes_pb2 as pb
from homeward.episodes.v1 import episodes_pb2_grpc as pbg
from homeward.events.v1 import events_pb2, events_pb2_grpc

STACK = hw.Stack(services=('episodes',))
E = None
W = {}
HOUR_MS = 3600 * 1000


def setUpModule():
    global E
    STACK.start()
    E = pbg.EpisodesStub(STACK.channel('episodes'))
    t = STACK.token
    W['csc'] = t('csc_lead', 'la-stoke', sub='csc-1')
    W['sw'] = t('social_worker', 'la-stoke', sub='sw-1')
    W['officer'] = t('police_officer', 'force-staffs', sub='pc-1')
    W['service'] = t('service', 'homeward', sub='relay')
    home = call('UpsertHome', pb.UpsertHomeRequest(request_id=rid(), home=pb.Home(
        name='Rowan House (demo)', address='9 Example Road', host_authority='la-stoke',
        spoc_officers=[pb.Professional(user_id='spoc-7', name='PC Spoc')])), W['csc'])
    W['home'] = home.id
    W['spoc'] = t('spoc', 'force-staffs', homes=(home.id,), sub='spoc-7')
    W['carer'] = t('care_staff', 'provider-demo', homes=(home.id,), sub='carer-7')


def tearDownModule():
    STACK.stop()


def rid():
    return str(uuid.uuid4())


def rfc3339(ms):
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms / 1000)) + '.%03dZ' % (ms % 1000)


def now_ms():
    return int(time.time() * 1000)


def call(method, request, token, purpose='test: SPOC roster'):
    return getattr(E, method)(request, metadata=STACK.metadata(token, purpose=purpose), timeout=10)


def deliver(event_type, payload, event_id=None):
    """Deliver an event as the named service's relay would."""
    stub = events_pb2_grpc.EventSinkStub(STACK.channel('episodes'))
    ev = events_pb2.Event(id=event_id or rid(), source=event_type.split('.')[0], type=event_type,
                          subject='', occurred_at_ms=now_ms(), payload_json=json.dumps(payload))
    return stub.Deliver(ev, metadata=STACK.metadata(W['service']), timeout=10)


def located_child(first_name, authority='la-stoke'):
    """A looked-after child of `authority`, placed by it at the home (in
    la-stoke), reported missing and located."""
    sw = STACK.token('social_worker', authority, sub=f'sw-{authority}')
    child = call('UpsertChild', pb.UpsertChildRequest(request_id=rid(), child=pb.Child(
        first_name=first_name, last_name='Fictional', date_of_birth='2010-04-01',
        looked_after=True, responsible_authority=authority)), sw)
    call('UpsertPlacement', pb.UpsertPlacementRequest(request_id=rid(), placement=pb.Placement(
        child_id=child.id, home_id=W['home'], starts_at='2025-01-01T10:00:00Z',
        placement_type="children's home", placing_authority=authority)), sw)
    ep = call('ReportMissing', pb.ReportMissingRequest(request_id=rid(), report=pb.MissingReport(
        child_id=child.id, last_seen_at=rfc3339(now_ms() - 30 * HOUR_MS),
        last_seen_place='bus station', clothing='grey hoodie', circumstances='did not return',
        reporter_name='Carer One')), W['carer']).episode
    call('MarkLocated', pb.MarkLocatedRequest(request_id=rid(), episode_id=ep.id, located=pb.Located(
        at=rfc3339(now_ms() - 2 * HOUR_MS), place="friend's flat", by='PC Demo',
        how=pb.RETURN_METHOD_POLICE)), W['officer'])
    return child.id, ep.id


def roster_line(child_id):
    roster = call('GetHomeRoster', pb.GetHomeRosterRequest(home_id=W['home']), W['spoc'])
    return {c.child_id: c for c in roster.homes[0].children}[child_id]


def statutory_row(child_id):
    rows = call('ExportStatutoryReturn', pb.ExportStatutoryReturnRequest(
        authority='la-stoke', period_start='2000-01-01', period_end='2099-12-31'), W['csc']).rows
    mine = [r for r in rows if r.child_id == child_id]
    assert len(mine) == 1, mine
    return mine[0]


class RosterFollowUps(unittest.TestCase):
    def test_R_SPOC_1_overdue_return_interview_until_done(self):
        child, ep = located_child('Ellis')
        self.assertEqual(roster_line(child).overdue_interviews, 0)
        overdue = {'episode_id': ep, 'child_id': child, 'interview_id': 'iv-ret-1',
                   'responsible_authority': 'la-stoke', 'force': 'force-staffs',
                   'due_at': rfc3339(now_ms() - HOUR_MS)}
        self.assertFalse(deliver('interviews.return_overdue', overdue).duplicate)
        self.assertEqual(roster_line(child).overdue_interviews, 1)
        # The same facts again under a new event id (a replay) count once.
        deliver('interviews.return_overdue', overdue)
        self.assertEqual(roster_line(child).overdue_interviews, 1)

        # R-EPI-3 / R-EPI-7: done late, as the interviews service says it.
        deliver('interviews.return_completed', {
            'episode_id': ep, 'child_id': child, 'interview_id': 'iv-ret-1', 'within_72h': False,
            'responsible_authority': 'la-stoke', 'force': 'force-staffs',
            'consent_given': True, 'shareable': True})
        line = roster_line(child)
        self.assertEqual(line.overdue_interviews, 0)
        self.assertEqual(line.current_status, pb.EPISODE_STATUS_RETURN_INTERVIEW_DONE)
        got = call('GetEpisode', pb.GetEpisodeRequest(episode_id=ep), W['sw'])
        self.assertEqual(got.episode.status, pb.EPISODE_STATUS_RETURN_INTERVIEW_DONE)
        self.assertEqual((got.episode.return_interview_offered, got.episode.return_interview_accepted),
                         (True, True))
        entry = [t for t in got.timeline if t.kind == 'return_interview']
        self.assertEqual([t.text for t in entry], ['return interview done, after 72 hours'])
        self.assertEqual(entry[0].actor_id, 'interviews')
        row = statutory_row(child)
        self.assertEqual((row.type, row.return_interview_offered, row.return_interview_accepted),
                         ('M', True, True))

    def test_R_EPI_7_declined_is_offered_not_accepted(self):
        child, ep = located_child('Finley')
        deliver('interviews.return_declined', {
            'episode_id': ep, 'child_id': child, 'interview_id': 'iv-ret-2',
            'responsible_authority': 'la-stoke', 'force': 'force-staffs'})
        got = call('GetEpisode', pb.GetEpisodeRequest(episode_id=ep), W['sw'])
        self.assertEqual(got.episode.status, pb.EPISODE_STATUS_RETURN_INTERVIEW_DECLINED)
        self.assertIn('return_interview_declined', [t.kind for t in got.timeline])
        row = statutory_row(child)
        self.assertEqual((row.return_interview_offered, row.return_interview_accepted), (True, False))
        # A late overdue event for an interview already declined changes nothing.
        deliver('interviews.return_overdue', {'episode_id': ep, 'child_id': child,
                                              'interview_id': 'iv-ret-2'})
        self.assertEqual(roster_line(child).overdue_interviews, 0)
        # The episode then closes (R-EPI-3: declined -> closed).
        closed = call('CloseEpisode', pb.CloseEpisodeRequest(
            request_id=rid(), episode_id=ep, reason='declined; plan reviewed'),
            STACK.token('lpt_sergeant', 'force-staffs', sub='sgt-1'))
        self.assertEqual(closed.episode.status, pb.EPISODE_STATUS_CLOSED)

    def test_R_SPOC_1_open_and_overdue_meeting_actions(self):
        child, _ = located_child('Harper')
        meeting = rid()

        def action(action_id, due_ms):
            # The payload meetings builds for its action events (ids and facts).
            return {'action_id': action_id, 'meeting_id': meeting, 'child_id': child,
                    'home_id': W['home'], 'owner_id': 'pc-1', 'owner_role': 'police_officer',
                    'due_at': rfc3339(due_ms), 'kind': 'intervention_level_1',
                    'responsible_authority': 'la-stoke', 'force': 'force-staffs', 'chair_id': 'sw-1'}
        a1, a2, a3 = action(rid(), now_ms() + 48 * HOUR_MS), action(rid(), now_ms() + HOUR_MS), \
            action(rid(), now_ms() - HOUR_MS)
        for a in (a1, a2, a3):
            deliver('meetings.action_added', a)
        line = roster_line(child)
        # a3's due date has passed though its overdue event is still on the way.
        self.assertEqual((line.open_meeting_actions, line.overdue_meeting_actions), (3, 1))
        deliver('meetings.action_overdue', a2)
        line = roster_line(child)
        self.assertEqual((line.open_meeting_actions, line.overdue_meeting_actions), (3, 2))
        deliver('meetings.action_completed', a2)
        deliver('meetings.action_completed', a3)
        line = roster_line(child)
        self.assertEqual((line.open_meeting_actions, line.overdue_meeting_actions), (1, 0))
        # Completion arriving before the add (another relay's order) is not resurrected.
        late = action(rid(), now_ms() + HOUR_MS)
        deliver('meetings.action_completed', late)
        deliver('meetings.action_added', late)
        self.assertEqual(roster_line(child).open_meeting_actions, 1)
        # A repeated delivery of the same event is recognised as such.
        eid = rid()
        self.assertFalse(deliver('meetings.action_overdue', a1, event_id=eid).duplicate)
        self.assertTrue(deliver('meetings.action_overdue', a1, event_id=eid).duplicate)
        line = roster_line(child)
        self.assertEqual((line.open_meeting_actions, line.overdue_meeting_actions), (1, 1))

    def test_bad_follow_up_events_are_refused_and_change_nothing(self):
        before = STACK.sql_one('SELECT (SELECT count(*) FROM episodes.meeting_actions) +'
                               ' (SELECT count(*) FROM episodes.interview_follow_ups)')
        for type_, payload in (('meetings.action_added', {'child_id': str(uuid.uuid4())}),
                               ('interviews.return_overdue', {'child_id': str(uuid.uuid4())})):
            with self.subTest(type=type_):
                with self.assertRaises(grpc.RpcError) as err:
                    deliver(type_, payload)
                self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        after = STACK.sql_one('SELECT (SELECT count(*) FROM episodes.meeting_actions) +'
                              ' (SELECT count(*) FROM episodes.interview_follow_ups)')
        self.assertEqual(before, after)


def live_roster():
    """The roster computed from the records now (migration 0003/0004's
    computation, kept as home_roster_live), by child id."""
    rows = STACK.sql(
        "SELECT child_id, first_name, last_name, date_of_birth, placement_id, episode_status,"
        " episode_id, risk_level, long_term, missing_90_days, missing_12_months,"
        " overdue_interviews, open_actions, overdue_actions"
        " FROM episodes.home_roster_live($1::uuid, now() - interval '90 days',"
        " now() - interval '1 year', now())", W['home'])
    return {r[0]: r for r in rows}


def status_word(status):
    if status == pb.EPISODE_STATUS_UNSPECIFIED:
        return ''
    return pb.EpisodeStatus.Name(status)[len('EPISODE_STATUS_'):].lower()


class RosterLines(unittest.TestCase):
    """R-SPOC-1: the roster is read from lines kept up to date by every
    change (migration 0005), not computed on each read. After each kind of
    change, the stored lines equal a fresh computation and what the SPOC is
    shown equals the live computation the lines replaced."""

    def assert_roster_is_live(self, step):
        with self.subTest(step=step):
            stale = STACK.sql(
                "SELECT 'stale', l.child_id FROM episodes.roster_lines l"
                " WHERE l.home_id = $1::uuid AND NOT EXISTS"
                " (SELECT 1 FROM episodes.roster_lines_of(l.child_id) f WHERE f = l)"
                " UNION ALL"
                " SELECT 'missing', f.child_id FROM episodes.placements p"
                " CROSS JOIN LATERAL episodes.roster_lines_of(p.child_id) f"
                " WHERE p.home_id = $1::uuid AND p.ends_at IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM episodes.roster_lines l WHERE l = f)", W['home'])
            self.assertEqual(stale, [])
            shown = {c.child_id: c for c in
                     call('GetHomeRoster', pb.GetHomeRosterRequest(home_id=W['home']),
                          W['spoc']).homes[0].children}
            live = live_roster()
            self.assertEqual(set(shown), set(live))
            for cid, r in live.items():
                c = shown[cid]
                self.assertEqual(
                    (c.first_name, c.last_name, c.date_of_birth, c.placement_id,
                     status_word(c.current_status), c.open_episode_id, c.risk_level, c.long_term,
                     c.missing_90_days, c.repeat_missing, c.overdue_interviews,
                     c.open_meeting_actions, c.overdue_meeting_actions),
                    (r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] == 't', int(r[9]),
                     int(r[10]) > 1, int(r[11]), int(r[12]), int(r[13])), cid)
            return shown

    def test_R_SPOC_1_R_DEF_4_lines_follow_every_change(self):
        sw = STACK.token('social_worker', 'la-stoke', sub='sw-la-stoke')
        a, a_ep = located_child('Juno')
        self.assert_roster_is_live('located')

        kit = call('UpsertChild', pb.UpsertChildRequest(request_id=rid(), child=pb.Child(
            first_name='Kit', last_name='Fictional', date_of_birth='2011-06-01',
            looked_after=True, responsible_authority='la-stoke')), sw)
        call('UpsertPlacement', pb.UpsertPlacementRequest(request_id=rid(), placement=pb.Placement(
            child_id=kit.id, home_id=W['home'], starts_at='2025-02-01T10:00:00Z',
            placement_type="children's home", placing_authority='la-stoke')), sw)
        self.assert_roster_is_live('placed')
        ep = call('ReportMissing', pb.ReportMissingRequest(request_id=rid(), report=pb.MissingReport(
            child_id=kit.id, last_seen_at=rfc3339(now_ms() - 3 * HOUR_MS),
            last_seen_place='park', clothing='red coat', circumstances='did not return',
            reporter_name='Carer One')), W['carer']).episode
        shown = self.assert_roster_is_live('reported')
        self.assertEqual(shown[kit.id].current_status, pb.EPISODE_STATUS_MISSING)

        deliver('risk.level_changed', {'episode_id': ep.id, 'child_id': kit.id,
                                       'level': 'high', 'scale_version': 'staffs-2019'})
        self.assertEqual(self.assert_roster_is_live('risk')[kit.id].risk_level, 'high')

        record = call('GetChild', pb.GetChildRequest(child_id=kit.id), sw)
        record.first_name = 'Kitty'
        call('UpsertChild', pb.UpsertChildRequest(request_id=rid(), child=record), sw)
        self.assertEqual(self.assert_roster_is_live('renamed')[kit.id].first_name, 'Kitty')

        action = {'action_id': rid(), 'meeting_id': rid(), 'child_id': a, 'home_id': W['home'],
                  'owner_id': 'pc-1', 'owner_role': 'police_officer',
                  'due_at': rfc3339(now_ms() + 2 * HOUR_MS), 'kind': 'intervention_level_1',
                  'responsible_authority': 'la-stoke', 'force': 'force-staffs', 'chair_id': 'sw-1'}
        deliver('meetings.action_added', action)
        self.assert_roster_is_live('action added')
        deliver('meetings.action_overdue', action)
        self.assertEqual(self.assert_roster_is_live('action overdue')[a].overdue_meeting_actions, 1)
        deliver('interviews.return_overdue', {'episode_id': a_ep, 'child_id': a,
                                              'interview_id': rid()})
        self.assertEqual(self.assert_roster_is_live('interview overdue')[a].overdue_interviews, 1)

        # R-DEF-4: a second missing episode in 12 months makes Kit a repeat;
        # one moved back beyond 90 days leaves the 90-day count.
        STACK.sql("INSERT INTO episodes.episodes (child_id, placement_id, home_id, status,"
                  " classification, was_missing, force, profile, responsible_authority,"
                  " placing_authority, reported_by_id, reported_at, missing_since, closed_at)"
                  " SELECT child_id, placement_id, home_id, 'closed', classification, true, force,"
                  " profile, responsible_authority, placing_authority, 'test',"
                  " now() - interval '200 days', now() - interval '200 days',"
                  " now() - interval '199 days' FROM episodes.episodes WHERE id = $1::uuid", ep.id)
        shown = self.assert_roster_is_live('earlier episode')
        self.assertEqual((shown[kit.id].missing_90_days, shown[kit.id].repeat_missing), (1, True))
        STACK.sql("UPDATE episodes.episodes SET reported_at = now() - interval '100 days'"
                  " WHERE id = $1::uuid", ep.id)
        self.assertEqual(self.assert_roster_is_live('moved back')[kit.id].missing_90_days, 0)

        call('MarkLocated', pb.MarkLocatedRequest(request_id=rid(), episode_id=ep.id, located=pb.Located(
            at=rfc3339(now_ms() - HOUR_MS), place='home', by='PC Demo',
            how=pb.RETURN_METHOD_OWN_ACCORD)), W['officer'])
        call('CloseEpisode', pb.CloseEpisodeRequest(request_id=rid(), episode_id=ep.id,
                                                    reason='reviewed by the sergeant'),
             STACK.token('lpt_sergeant', 'force-staffs', sub='sgt-1'))
        shown = self.assert_roster_is_live('closed')
        self.assertEqual((shown[kit.id].current_status, shown[kit.id].open_episode_id),
                         (pb.EPISODE_STATUS_UNSPECIFIED, ''))

        call('EndPlacement', pb.EndPlacementRequest(request_id=rid(), placement_id=shown[a].placement_id,
                                                    reason='moved on'), sw)
        self.assertNotIn(a, self.assert_roster_is_live('placement ended'))


class EventFacts(unittest.TestCase):
    def test_R_RET_1_R_ESC_3_located_and_reported_carry_placement_type_and_host(self):
        """R-RET-1 needs the placement type; R-ESC-3 compares the placing
        authority with the home's host authority."""
        child, ep = located_child('Indigo', authority='la-leics')
        rows = STACK.sql("SELECT type, payload::text FROM episodes.outbox WHERE subject = $1"
                         " AND type IN ('episodes.reported', 'episodes.located') ORDER BY seq",
                         f'episode:{ep}')
        self.assertEqual([r[0] for r in rows], ['episodes.reported', 'episodes.located'])
        for _, text in rows:
            p = json.loads(text)
            self.assertEqual(p['placement_type'], "children's home")
            self.assertEqual(p['host_authority'], 'la-stoke')
            self.assertEqual(p['placing_authority'], 'la-leics')
            self.assertNotIn('Indigo', text)
        self.assertTrue(json.loads(rows[1][1])['located_at'])


if __name__ == '__main__':
    unittest.main()
