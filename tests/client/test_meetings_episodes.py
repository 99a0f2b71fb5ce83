"""test_meetings_episodes.py -- meetings driven by the real episodes service.

Three missing episodes of one child reported, located and closed through
the episodes API; the episodes relay delivers its events to the meetings
service, which asks the episodes service for the child's record to name the
invitees. Rule ids: R-ESC-1, R-MEET-1, R-LONG-1.
"""

import datetime
import time
import unittest
import uuid
from zoneinfo import ZoneInfo

import hw
from homeward.episodes.v1 import episodes_pb2 as epb
from homeward.episodes.v1 import episodes_pb2_grpc as epg
from homeward.meetings.v1 import meetings_pb2 as pb
from homeward.meetings.v1 import meetings_pb2_grpc as rpc
from test_meetings_flow import five_working_days_end, parse

STACK = hw.Stack(services=('episodes', 'meetings'))
LONDON = ZoneInfo('Europe/London')


def rid():
    return str(uuid.uuid4())


def setUpModule():
    STACK.start()


def tearDownModule():
    STACK.stop()


def wait_for(fn, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what}')


class ThroughEpisodes(unittest.TestCase):
    def test_R_ESC_1_third_reported_episode_makes_a_level_1_meeting_with_the_childs_people(self):
        E = epg.EpisodesStub(STACK.channel('episodes'))
        M = rpc.MeetingsStub(STACK.channel('meetings'))
        t = STACK.token

        def md(tok):
            return STACK.metadata(tok, 'test: repeat missing child')
        csc, sw = t('csc_lead', 'la-stoke', sub='csc-1'), t('social_worker', 'la-stoke', sub='sw-1')
        sergeant = t('lpt_sergeant', 'force-staffs', sub='sgt-1')
        officer = t('police_officer', 'force-staffs', sub='pc-1')
        home = E.UpsertHome(epb.UpsertHomeRequest(request_id=rid(), home=epb.Home(
            name='Willow House (demo)', address='1 Example Road', host_authority='la-stoke',
            spoc_officers=[epb.Professional(user_id='spoc-1', name='PC Spoc')])),
            metadata=md(csc), timeout=10)
        carer = t('care_staff', 'provider-demo', homes=(home.id,), sub='carer-1')
        child = E.UpsertChild(epb.UpsertChildRequest(request_id=rid(), child=epb.Child(
            first_name='Alex', last_name='Fictional', date_of_birth='2011-04-01', looked_after=True,
            responsible_authority='la-stoke',
            social_worker=epb.Professional(user_id='sw-1', name='Sam Worker'),
            team_manager=epb.Professional(user_id='tm-1', name='Tina Manager'),
            iro=epb.Professional(user_id='iro-1', name='Ira Reviewer'))), metadata=md(sw), timeout=10)
        E.UpsertPlacement(epb.UpsertPlacementRequest(request_id=rid(), placement=epb.Placement(
            child_id=child.id, home_id=home.id, starts_at='2025-01-01T10:00:00Z',
            placement_type="children's home")), metadata=md(sw), timeout=10)

        def meetings():
            return STACK.sql('SELECT id::text, kind FROM meetings.meetings WHERE child_id = $1',
                             child.id)
        reported_at = None
        for n in range(3):
            r = E.ReportMissing(epb.ReportMissingRequest(request_id=rid(), report=epb.MissingReport(
                child_id=child.id, last_seen_at='2026-01-10T21:30:00Z', last_seen_place='bus station',
                clothing='grey hoodie', circumstances='did not return', reporter_name='Carer One')),
                metadata=md(carer), timeout=10)
            self.assertEqual(r.counts.missing_90_days, n + 1)
            reported_at = r.episode.reported_at
            if n < 2:
                E.MarkLocated(epb.MarkLocatedRequest(request_id=rid(), episode_id=r.episode.id,
                    located=epb.Located(at=r.episode.reported_at, place='friend\'s flat', by='PC Demo',
                                        how=epb.RETURN_METHOD_POLICE)), metadata=md(officer), timeout=10)
                E.CloseEpisode(epb.CloseEpisodeRequest(request_id=rid(), episode_id=r.episode.id,
                                                       reason='returned; interview booked'),
                               metadata=md(sergeant), timeout=10)
                # Delivered and handled: the episode is known to meetings, no meeting yet.
                wait_for(lambda: STACK.sql_one(
                    'SELECT closed_at IS NOT NULL FROM meetings.episodes WHERE episode_id = $1',
                    r.episode.id) == 't', 'episodes events at the meetings service')
                self.assertEqual(meetings(), [])
        rows = wait_for(meetings, 'the level 1 meeting')
        self.assertEqual([k for _, k in rows], ['intervention_level_1'])
        m = M.GetMeeting(pb.GetMeetingRequest(meeting_id=rows[0][0]), metadata=md(sw), timeout=10)
        self.assertEqual(parse(m.due_by), five_working_days_end(
            int(parse(reported_at).timestamp() * 1000)))
        self.assertEqual(m.home_id, home.id)
        by_role = {i.role: i for i in m.invitees}
        self.assertEqual(by_role['social_worker'].person_id, 'sw-1')
        self.assertEqual(by_role['social_worker'].person_name, 'Sam Worker')   # from the child record
        self.assertTrue(by_role['social_worker'].chair)
        self.assertEqual(by_role['care_staff'].organisation, home.id)
        # The third episode is still open: its 48 h deadline is pending here.
        self.assertEqual(STACK.sql_one(
            "SELECT count(*) FROM meetings.deadlines WHERE kind = 'meetings.line_manager_alert'"
            " AND state = 'pending'"), '1')


if __name__ == '__main__':
    unittest.main()
