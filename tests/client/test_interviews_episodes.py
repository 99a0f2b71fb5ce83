"""test_interviews_episodes.py -- episodes and interviews together, events
relayed between them by their own outboxes: a child reported missing and
located (episodes) gets a prevention and a return interview (interviews,
R-RET-1, R-RET-2); the episode cannot close until the prevention interview
is submitted and its event reaches episodes (R-DEF-7).
"""

import time
import unittest

import grpc

import hw
from homeward.episodes.v1 import episodes_pb2 as epb
from homeward.episodes.v1 import episodes_pb2_grpc as erpc
from interviews_client import HOUR_MS, Client, code_of, now_ms, pb, prevention_form, rfc3339, rid

STACK = hw.Stack(services=('episodes', 'interviews'))


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
    raise AssertionError(f'timed out waiting for {what}\n--- episodes log:\n{STACK.logs("episodes")[-2500:]}'
                         f'\n--- interviews log:\n{STACK.logs("interviews")[-2500:]}')


class EpisodeToInterviews(unittest.TestCase):
    def test_R_RET_1_R_RET_2_R_DEF_7_located_to_prevention_interview_to_closable(self):
        C = Client(STACK)
        ep_stub = erpc.EpisodesStub(STACK.channel('episodes'))
        t = STACK.token
        csc = STACK.metadata(t('csc_lead', 'la-stoke', sub='csc-1'), 'test: set up records')
        sw = STACK.metadata(t('social_worker', 'la-stoke', sub='sw-1'), 'test: set up records')
        officer = STACK.metadata(t('police_officer', 'force-staffs', sub='pc-1'), 'test: missing child located')

        home = ep_stub.UpsertHome(epb.UpsertHomeRequest(request_id=rid(), home=epb.Home(
            name='Willow House (demo)', address='1 Example Road', host_authority='la-stoke')),
            metadata=csc, timeout=10)
        carer = STACK.metadata(t('care_staff', 'provider-demo', homes=(home.id,), sub='carer-1'),
                               'test: report missing')
        child = ep_stub.UpsertChild(epb.UpsertChildRequest(request_id=rid(), child=epb.Child(
            first_name='Alex', last_name='Fictional', date_of_birth='2010-04-01', looked_after=True,
            responsible_authority='la-stoke')), metadata=sw, timeout=10)
        ep_stub.UpsertPlacement(epb.UpsertPlacementRequest(request_id=rid(), placement=epb.Placement(
            child_id=child.id, home_id=home.id, starts_at='2025-01-01T10:00:00Z',
            placement_type="children's home")), metadata=sw, timeout=10)
        rep = ep_stub.ReportMissing(epb.ReportMissingRequest(request_id=rid(), report=epb.MissingReport(
            child_id=child.id, last_seen_at=rfc3339(now_ms() - 5 * HOUR_MS), last_seen_place='bus station',
            clothing='grey hoodie', circumstances='did not return after school', reporter_name='Carer One')),
            metadata=carer, timeout=10)
        ep_id = rep.episode.id
        located_at = now_ms() - HOUR_MS
        ep_stub.MarkLocated(epb.MarkLocatedRequest(request_id=rid(), episode_id=ep_id, located=epb.Located(
            at=rfc3339(located_at), place="friend's flat", by='PC Demo', how=epb.RETURN_METHOD_POLICE)),
            metadata=officer, timeout=10)

        # episodes.located reaches interviews through the episodes relay.
        ids = wait_for(lambda: C.interview_ids(ep_id) if len(C.interview_ids(ep_id)) == 2 else None,
                       'the interviews of the located episode')
        omd = C.md('police_officer', 'force-staffs', sub='pc-1')
        due = C.stub.ListDue(pb.ListDueRequest(scope=pb.DUE_SCOPE_AUTHORITY), metadata=omd, timeout=10)
        mine = {i.kind: i for i in due.interviews if i.episode_id == ep_id}
        self.assertEqual(mine[pb.INTERVIEW_KIND_PREVENTION].due_at_ms, located_at)
        self.assertEqual(mine[pb.INTERVIEW_KIND_RETURN].due_at_ms, located_at + 72 * HOUR_MS)
        self.assertEqual(mine[pb.INTERVIEW_KIND_PREVENTION].child_id, child.id)
        self.assertEqual(mine[pb.INTERVIEW_KIND_PREVENTION].responsible_authority, 'la-stoke')
        self.assertEqual(mine[pb.INTERVIEW_KIND_PREVENTION].force, 'force-staffs')
        self.assertEqual(mine[pb.INTERVIEW_KIND_PREVENTION].profile, 'STAFFS')

        # R-DEF-7: not closable before the prevention interview.
        e = code_of(lambda: ep_stub.CloseEpisode(epb.CloseEpisodeRequest(request_id=rid(), episode_id=ep_id),
                                                 metadata=officer, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.FAILED_PRECONDITION)

        pid = ids['prevention']
        C.stub.StartInterview(pb.StartInterviewRequest(request_id=rid(), interview_id=pid), metadata=omd,
                              timeout=10)
        C.stub.SaveDraft(pb.SaveDraftRequest(request_id=rid(), interview_id=pid, prevention=pb.PreventionInterviewForm(
            reasons_for_going=pb.ReasonsForGoing(life_pressures='exams'))), metadata=omd, timeout=10)
        C.consent(pid, omd)
        done = C.stub.SubmitPreventionInterview(pb.SubmitPreventionInterviewRequest(
            request_id=rid(), interview_id=pid, form=prevention_form(now_ms() - 60000)), metadata=omd, timeout=10)
        self.assertEqual(done.state, pb.INTERVIEW_STATE_SUBMITTED)

        # The event reaches episodes; then the officer can close the record.
        def close():
            try:
                return ep_stub.CloseEpisode(epb.CloseEpisodeRequest(request_id=rid(), episode_id=ep_id),
                                            metadata=officer, timeout=10)
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.FAILED_PRECONDITION:
                    raise
                return None
        closed = wait_for(close, 'the episode to become closable')
        self.assertEqual(closed.episode.status, epb.EPISODE_STATUS_CLOSED)
        got = ep_stub.GetEpisode(epb.GetEpisodeRequest(episode_id=ep_id), metadata=sw, timeout=10)
        self.assertIn('prevention_interview', [x.kind for x in got.timeline])


if __name__ == '__main__':
    unittest.main()
