"""test_interviews_flow.py -- the interviews service from an independent client
(Debian python3-grpcio): located -> drafts -> prevention interview (R-RET-1,
R-DEF-7), return interviews late with a reason and declined (R-RET-2),
consent refused then a critical-to-safeguarding share (R-RET-3), R-NOT-7 and
CSE prompt events, idempotent repeats, and bad input refused with field
violations and nothing written. Events from episodes are delivered to the
service's EventSink as the episodes relay would deliver them.
"""

import time
import unittest

import grpc

import hw
from interviews_client import (AUTHORITY, FORCE, HOUR_MS, Client, code_of, now_ms, pb,
                               prevention_form, return_form, rid, violations)

STACK = hw.Stack(services=('interviews',))
C = None


def setUpModule():
    global C
    STACK.start()
    C = Client(STACK)


def tearDownModule():
    STACK.stop()


def officer():
    return C.md('police_officer', FORCE, sub='pc-1')


def worker(sub='rw-1', org=AUTHORITY):
    return C.md('return_interview_worker', org, sub=sub)


class Located(unittest.TestCase):
    def test_R_RET_2_located_event_makes_both_interviews_due(self):
        located = now_ms() - 2 * HOUR_MS
        ep, child, ev_id, r = C.located(located)
        self.assertFalse(r.duplicate)
        ids = C.interview_ids(ep)
        self.assertEqual(set(ids), {'prevention', 'return'})

        # The officer the episode is assigned to sees the prevention interview.
        mine = C.stub.ListDue(pb.ListDueRequest(scope=pb.DUE_SCOPE_MINE), metadata=officer(), timeout=10)
        prev = [i for i in mine.interviews if i.episode_id == ep]
        self.assertEqual(len(prev), 1)
        self.assertEqual(prev[0].kind, pb.INTERVIEW_KIND_PREVENTION)
        self.assertEqual(prev[0].due_at_ms, located)
        self.assertEqual(prev[0].state, pb.INTERVIEW_STATE_DUE)

        # The authority's workers see the return interview, due exactly 72 h later.
        auth = C.stub.ListDue(pb.ListDueRequest(scope=pb.DUE_SCOPE_AUTHORITY,
                                                kind=pb.INTERVIEW_KIND_RETURN),
                              metadata=worker(), timeout=10)
        ret = [i for i in auth.interviews if i.episode_id == ep]
        self.assertEqual(len(ret), 1)
        self.assertEqual(ret[0].due_at_ms, located + 72 * HOUR_MS)
        dues = [i.due_at_ms for i in auth.interviews]
        self.assertEqual(dues, sorted(dues), 'ListDue is ordered by due time')
        self.assertFalse(ret[0].HasField('return_interview'), 'ListDue carries no form')

        # The 72-hour deadline is recorded durably.
        due = STACK.sql_one("SELECT floor(extract(epoch from due_at) * 1000)::bigint FROM interviews.deadlines "
                            "WHERE kind = 'return_interview_due' AND subject = $1 AND state = 'pending'",
                            f'interview:{ids["return"]}')
        self.assertEqual(int(due), located + 72 * HOUR_MS)

        # A repeat delivery changes nothing.
        _, _, _, again = C.located(located, episode_id=ep, child_id=child, event_id=ev_id)
        self.assertTrue(again.duplicate)
        self.assertEqual(C.interview_ids(ep), ids)
        # So does the same located fact under a new event id.
        C.located(located, episode_id=ep, child_id=child)
        self.assertEqual(C.interview_ids(ep), ids)
        self.assertEqual(STACK.sql_one("SELECT count(*) FROM interviews.deadlines WHERE subject = $1",
                                       f'interview:{ids["return"]}'), '1')

        # Another force's officer and another authority's worker see neither.
        other = C.stub.ListDue(pb.ListDueRequest(scope=pb.DUE_SCOPE_AUTHORITY),
                               metadata=C.md('police_officer', 'force-leics', sub='pc-9'), timeout=10)
        self.assertFalse([i for i in other.interviews if i.episode_id == ep])
        other = C.stub.ListDue(pb.ListDueRequest(scope=pb.DUE_SCOPE_AUTHORITY),
                               metadata=worker('rw-9', 'la-leics'), timeout=10)
        self.assertFalse([i for i in other.interviews if i.episode_id == ep])

    def test_R_RET_2_overdue_return_interview_raises_event(self):
        # Located 73 h ago: the deadline is already past and fires at once.
        ep, _, _, _ = C.located(now_ms() - 73 * HOUR_MS)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not C.events(ep, 'interviews.return_overdue'):
            time.sleep(0.2)
        ev = C.events(ep, 'interviews.return_overdue')
        self.assertEqual(len(ev), 1, STACK.logs('interviews')[-2000:])
        self.assertEqual(ev[0][1]['responsible_authority'], AUTHORITY)
        got = C.stub.GetInterview(pb.GetInterviewRequest(interview_id=C.interview_ids(ep)['return']),
                                  metadata=worker(), timeout=10)
        self.assertTrue(got.overdue)


class Prevention(unittest.TestCase):
    def test_R_RET_1_R_DEF_7_drafts_then_prevention_interview(self):
        located = now_ms() - HOUR_MS
        ep, child, _, _ = C.located(located)
        pid = C.interview_ids(ep)['prevention']
        md = officer()

        started = C.stub.StartInterview(pb.StartInterviewRequest(request_id=rid(), interview_id=pid),
                                        metadata=md, timeout=10)
        self.assertEqual(started.state, pb.INTERVIEW_STATE_DRAFT)
        self.assertEqual(started.assignee, 'pc-1')

        # Poor signal: partial answers saved, nothing lost.
        part = pb.PreventionInterviewForm(reasons_for_going=pb.ReasonsForGoing(life_pressures='school'))
        d1 = C.stub.SaveDraft(pb.SaveDraftRequest(request_id=rid(), interview_id=pid, prevention=part),
                              metadata=md, timeout=10)
        self.assertEqual(d1.draft_version, 1)
        part.circumstances_while_away.who_with = 'friends'
        d2 = C.stub.SaveDraft(pb.SaveDraftRequest(request_id=rid(), interview_id=pid, prevention=part),
                              metadata=md, timeout=10)
        self.assertEqual(d2.draft_version, 2)
        got = C.stub.GetInterview(pb.GetInterviewRequest(interview_id=pid), metadata=md, timeout=10)
        self.assertEqual(got.prevention_draft.reasons_for_going.life_pressures, 'school')
        self.assertEqual(got.prevention_draft.circumstances_while_away.who_with, 'friends')
        # A return-interview draft does not fit a prevention interview.
        e = code_of(lambda: C.stub.SaveDraft(pb.SaveDraftRequest(
            request_id=rid(), interview_id=pid, return_interview=pb.ReturnInterviewForm()),
            metadata=md, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)

        # R-RET-3: consent before submitting.
        e = code_of(lambda: C.stub.SubmitPreventionInterview(pb.SubmitPreventionInterviewRequest(
            request_id=rid(), interview_id=pid, form=prevention_form(now_ms() - 60000)),
            metadata=md, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.FAILED_PRECONDITION)
        C.consent(pid, md, given=True)

        done = C.stub.SubmitPreventionInterview(pb.SubmitPreventionInterviewRequest(
            request_id=rid(), interview_id=pid,
            form=prevention_form(now_ms() - 60000, disclosures=['VICTIM_OF_CRIME'],
                                 details='assaulted at a flat')),
            metadata=md, timeout=10)
        self.assertEqual(done.state, pb.INTERVIEW_STATE_SUBMITTED)
        self.assertEqual(done.conducted_by_role, 'police')
        self.assertEqual(list(done.disclosures), ['VICTIM_OF_CRIME'])

        # R-DEF-7: the event that lets the episode close; and the urgent disclosure.
        ev = C.events(ep, 'interviews.prevention_submitted')
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0][1], {'episode_id': ep, 'child_id': child, 'interview_id': pid,
                                    'conducted_by_role': 'police', 'force': FORCE,
                                    'responsible_authority': AUTHORITY})
        disc = C.events(ep, 'interviews.disclosure')
        self.assertEqual(len(disc), 1)
        self.assertEqual(disc[0][1]['kinds'], ['VICTIM_OF_CRIME'])
        self.assertTrue(disc[0][1]['urgent'])

        # Once submitted it cannot be submitted again under a new request id.
        e = code_of(lambda: C.stub.SubmitPreventionInterview(pb.SubmitPreventionInterviewRequest(
            request_id=rid(), interview_id=pid, form=prevention_form(now_ms() - 60000)),
            metadata=md, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.FAILED_PRECONDITION)
        # Every read and change is audited with its stated reason (R-SEC-2).
        n = STACK.sql_one("SELECT count(*) FROM interviews.audit WHERE record_id = $1 "
                          "AND purpose = 'return interview follow-up'", pid)
        self.assertGreaterEqual(int(n), 6)

    def test_R_RET_1_care_staff_only_for_llr_residential(self):
        staff = C.md('care_staff', 'la-leics', homes=('home-7',), sub='cs-7')
        # STAFFS: police only.
        ep, _, _, _ = C.located(now_ms() - HOUR_MS, profile='STAFFS', placement_type="children's home",
                                home_id='home-7', authority='la-leics')
        pid = C.interview_ids(ep)['prevention']
        e = code_of(lambda: C.stub.StartInterview(pb.StartInterviewRequest(request_id=rid(), interview_id=pid),
                                                  metadata=staff, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn('R-RET-1', e.details())
        # LLR foster placement: police only.
        ep, _, _, _ = C.located(now_ms() - HOUR_MS, profile='LLR', placement_type='foster',
                                home_id='home-7', authority='la-leics')
        pid = C.interview_ids(ep)['prevention']
        e = code_of(lambda: C.stub.StartInterview(pb.StartInterviewRequest(request_id=rid(), interview_id=pid),
                                                  metadata=staff, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)
        # LLR residential placement of their home: care staff complete it.
        ep, _, _, _ = C.located(now_ms() - HOUR_MS, profile='LLR', placement_type="children's home",
                                home_id='home-7', authority='la-leics', force='force-leics')
        pid = C.interview_ids(ep)['prevention']
        team = C.stub.ListDue(pb.ListDueRequest(scope=pb.DUE_SCOPE_TEAM), metadata=staff, timeout=10)
        self.assertIn(pid, [i.id for i in team.interviews])
        C.consent(pid, staff)
        done = C.stub.SubmitPreventionInterview(pb.SubmitPreventionInterviewRequest(
            request_id=rid(), interview_id=pid, form=prevention_form(now_ms() - 60000)),
            metadata=staff, timeout=10)
        self.assertEqual(done.conducted_by_role, 'care_staff')
        ev = C.events(ep, 'interviews.prevention_submitted')
        self.assertEqual(ev[0][1]['conducted_by_role'], 'care_staff')
        self.assertFalse(C.events(ep, 'interviews.disclosure'))
        # Care staff of another home may not.
        ep, _, _, _ = C.located(now_ms() - HOUR_MS, profile='LLR', placement_type='residential',
                                home_id='home-8', authority='la-leics')
        e = code_of(lambda: C.stub.StartInterview(pb.StartInterviewRequest(
            request_id=rid(), interview_id=C.interview_ids(ep)['prevention']), metadata=staff, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)


class ReturnInterviews(unittest.TestCase):
    def test_R_RET_2_R_NOT_7_late_return_interview_needs_reason(self):
        located = now_ms() - 80 * HOUR_MS
        ep, child, _, _ = C.located(located)
        iid = C.interview_ids(ep)['return']
        md = worker()
        C.consent(iid, md, given=True)
        contact = now_ms() - HOUR_MS   # 79 h after located
        e = code_of(lambda: C.stub.SubmitReturnInterview(pb.SubmitReturnInterviewRequest(
            request_id=rid(), interview_id=iid, form=return_form(contact)), metadata=md, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn('form.time_frame_comments', violations(e))

        done = C.stub.SubmitReturnInterview(pb.SubmitReturnInterviewRequest(
            request_id=rid(), interview_id=iid,
            form=return_form(contact, time_frame_comments=['MULTIPLE_ATTEMPTS', 'YP_ON_HOLIDAY'],
                             time_frame_note='away with family until Monday',
                             completed_within_time_frames='YES')),   # ignored: computed
            metadata=md, timeout=10)
        self.assertEqual(done.state, pb.INTERVIEW_STATE_SUBMITTED)
        self.assertFalse(done.within_72h)
        self.assertTrue(done.overdue)
        self.assertEqual(done.return_interview.completed_within_time_frames, 'NO')
        self.assertEqual(list(done.return_interview.time_frame_comments), ['MULTIPLE_ATTEMPTS', 'YP_ON_HOLIDAY'])
        ev = C.events(ep, 'interviews.return_completed')
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0][1]['within_72h'], False)
        self.assertEqual(ev[0][1]['responsible_authority'], AUTHORITY)
        self.assertEqual(ev[0][1]['child_id'], child)
        self.assertFalse(C.events(ep, 'interviews.cse_prompt'))
        self.assertEqual(STACK.sql_one("SELECT state FROM interviews.deadlines WHERE subject = $1",
                                       f'interview:{iid}') in ('done', 'cancelled'), True)

    def test_R_RET_2_within_72h_and_R_RISK_7_cse_prompt(self):
        located = now_ms() - 3 * HOUR_MS
        ep, child, _, _ = C.located(located)
        iid = C.interview_ids(ep)['return']
        md = C.md('social_worker', AUTHORITY, sub='sw-3')   # social workers may conduct them too
        C.consent(iid, md)
        done = C.stub.SubmitReturnInterview(pb.SubmitReturnInterviewRequest(
            request_id=rid(), interview_id=iid,
            form=return_form(now_ms() - HOUR_MS, contributory_factors=['CSE_RELATED', 'FRIENDS_PEERS'])),
            metadata=md, timeout=10)
        self.assertTrue(done.within_72h)
        self.assertTrue(done.cse_prompted)
        self.assertEqual(done.return_interview.completed_within_time_frames, 'YES')
        self.assertEqual(done.conducted_by_role, 'social_worker')
        cse = C.events(ep, 'interviews.cse_prompt')
        self.assertEqual(len(cse), 1)
        self.assertEqual(cse[0][1]['child_id'], child)
        self.assertEqual(STACK.sql_one("SELECT state FROM interviews.deadlines WHERE subject = $1",
                                       f'interview:{iid}'), 'cancelled')

    def test_R_RET_2_declined_and_no_contact(self):
        ep, _, _, _ = C.located(now_ms() - 5 * HOUR_MS)
        iid = C.interview_ids(ep)['return']
        md = worker()
        a = C.stub.RecordNoContact(pb.RecordNoContactRequest(request_id=rid(), interview_id=iid,
                                                             method='TELEPHONE', note='no answer'),
                                   metadata=md, timeout=10)
        self.assertEqual(a.no_contact_attempts, 1)
        a = C.stub.RecordNoContact(pb.RecordNoContactRequest(request_id=rid(), interview_id=iid,
                                                             method='FACE_TO_FACE', note='not at home'),
                                   metadata=md, timeout=10)
        self.assertEqual(a.no_contact_attempts, 2)
        self.assertEqual([x.method for x in a.contact_attempts], ['TELEPHONE', 'FACE_TO_FACE'])
        e = code_of(lambda: C.stub.RecordDeclined(pb.RecordDeclinedRequest(
            request_id=rid(), interview_id=iid, reason='  '), metadata=md, timeout=10))
        self.assertIn('reason', violations(e))
        d = C.stub.RecordDeclined(pb.RecordDeclinedRequest(request_id=rid(), interview_id=iid,
                                                           reason='does not want to talk to anyone'),
                                  metadata=md, timeout=10)
        self.assertEqual(d.state, pb.INTERVIEW_STATE_DECLINED)
        self.assertGreater(d.offered_at_ms, 0)
        self.assertEqual(len(C.events(ep, 'interviews.return_declined')), 1)
        self.assertEqual(STACK.sql_one("SELECT state FROM interviews.deadlines WHERE subject = $1",
                                       f'interview:{iid}'), 'cancelled')
        # A prevention interview cannot be declined by a return worker (not theirs).
        e = code_of(lambda: C.stub.RecordDeclined(pb.RecordDeclinedRequest(
            request_id=rid(), interview_id=C.interview_ids(ep)['prevention'], reason='x'),
            metadata=md, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)

    def test_R_RET_3_consent_refused_then_critical_safeguarding_share(self):
        ep, _, _, _ = C.located(now_ms() - 4 * HOUR_MS)
        iid = C.interview_ids(ep)['return']
        md = worker()
        c = C.consent(iid, md, given=False)
        self.assertFalse(c.consent.consent_given)
        self.assertEqual(c.consent.shared_with, 'social worker and police')
        C.stub.SubmitReturnInterview(pb.SubmitReturnInterviewRequest(
            request_id=rid(), interview_id=iid, form=return_form(now_ms() - HOUR_MS)), metadata=md, timeout=10)
        ev = C.events(ep, 'interviews.return_completed')[0][1]
        self.assertFalse(ev['consent_given'])
        self.assertFalse(ev['shareable'])

        sw = C.md('social_worker', AUTHORITY, sub='sw-1')
        pc = C.md('police_officer', FORCE, sub='pc-5')
        for who in (sw, pc):
            got = C.stub.GetInterview(pb.GetInterviewRequest(interview_id=iid), metadata=who, timeout=10)
            self.assertEqual(got.state, pb.INTERVIEW_STATE_SUBMITTED)   # they learn it is done
            self.assertTrue(got.content_withheld)
            self.assertIn('R-RET-3', got.withheld_reason)
            self.assertFalse(got.HasField('return_interview'))
        # The author and the provider's team read it in full.
        self.assertTrue(C.stub.GetInterview(pb.GetInterviewRequest(interview_id=iid), metadata=md,
                                            timeout=10).HasField('return_interview'))
        # Another authority's social worker: nothing.
        e = code_of(lambda: C.stub.GetInterview(pb.GetInterviewRequest(interview_id=iid),
                                                metadata=C.md('social_worker', 'la-leics', sub='sw-9'),
                                                timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)
        # An IRO may not decide to share; a reason is required.
        e = code_of(lambda: C.stub.RecordSharingDecision(pb.RecordSharingDecisionRequest(
            request_id=rid(), interview_id=iid,
            decision=pb.SharingDecision(critical_to_safeguarding_reason='x')),
            metadata=C.md('iro', AUTHORITY, sub='iro-1'), timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)
        tm = C.md('team_manager', AUTHORITY, sub='tm-1')
        e = code_of(lambda: C.stub.RecordSharingDecision(pb.RecordSharingDecisionRequest(
            request_id=rid(), interview_id=iid, decision=pb.SharingDecision()), metadata=tm, timeout=10))
        self.assertIn('decision.critical_to_safeguarding_reason', violations(e))
        C.stub.RecordSharingDecision(pb.RecordSharingDecisionRequest(
            request_id=rid(), interview_id=iid,
            decision=pb.SharingDecision(critical_to_safeguarding_reason='disclosed contact with a known '
                                        'exploiter; police need it to safeguard', shared_with='police, SW')),
            metadata=tm, timeout=10)
        for who in (sw, pc):
            got = C.stub.GetInterview(pb.GetInterviewRequest(interview_id=iid), metadata=who, timeout=10)
            self.assertFalse(got.content_withheld)
            self.assertEqual(got.return_interview.push_pull_factors, 'wanted to see friends')
            self.assertIn('exploiter', got.sharing_decision.critical_to_safeguarding_reason)
            self.assertEqual(got.sharing_decision.decided_by, 'tm-1')
        n = STACK.sql_one("SELECT count(*) FROM interviews.audit WHERE record_id = $1 AND subject = 'sw-1'", iid)
        self.assertEqual(n, '2')

    def test_repeated_submission_same_request_id_returns_first_result(self):
        ep, _, _, _ = C.located(now_ms() - 6 * HOUR_MS)
        iid = C.interview_ids(ep)['return']
        md = worker()
        C.consent(iid, md)
        req = pb.SubmitReturnInterviewRequest(request_id=rid(), interview_id=iid,
                                              form=return_form(now_ms() - HOUR_MS))
        first = C.stub.SubmitReturnInterview(req, metadata=md, timeout=10)
        # The phone retries with a changed body: the first result still stands.
        req.form.push_pull_factors = 'changed on retry'
        again = C.stub.SubmitReturnInterview(req, metadata=md, timeout=10)
        self.assertEqual(first, again)
        self.assertEqual(again.return_interview.push_pull_factors, 'wanted to see friends')
        self.assertEqual(len(C.events(ep, 'interviews.return_completed')), 1)
        # Drafts too.
        dreq = pb.SaveDraftRequest(request_id=rid(), interview_id=C.interview_ids(ep)['prevention'],
                                   prevention=pb.PreventionInterviewForm(notes='x'))
        d1 = C.stub.SaveDraft(dreq, metadata=officer(), timeout=10)
        d2 = C.stub.SaveDraft(dreq, metadata=officer(), timeout=10)
        self.assertEqual(d1.draft_version, 1)
        self.assertEqual(d2, d1)
        self.assertEqual(STACK.sql_one("SELECT draft_version FROM interviews.interviews WHERE id = $1",
                                       C.interview_ids(ep)['prevention']), '1')

    def test_bad_input_refused_with_field_violations_nothing_written(self):
        ep, _, _, _ = C.located(now_ms() - 2 * HOUR_MS)
        iid = C.interview_ids(ep)['return']
        md = worker()
        C.consent(iid, md)

        def snapshot():
            return (STACK.sql("SELECT state, form IS NULL, draft IS NULL FROM interviews.interviews "
                              "WHERE id = $1", iid),
                    STACK.sql_one("SELECT count(*) FROM interviews.outbox WHERE payload->>'episode_id' = $1", ep),
                    STACK.sql_one("SELECT count(*) FROM interviews.idempotency"),
                    STACK.sql_one("SELECT count(*) FROM interviews.consents WHERE interview_id = $1", iid))
        before = snapshot()
        bad = pb.ReturnInterviewForm(contact_at_ms=now_ms() - 3 * HOUR_MS,   # before located
                                     conducted_with='CHILD', seen_independently='MAYBE', method='OTHER',
                                     location='BEACH', ran_from='FOSTER_CARE', closed_after_interview='NO',
                                     contributory_factors=['CSE_RELATED', 'NOT_A_FACTOR'],
                                     date_of_missing='2025-02-30')
        e = code_of(lambda: C.stub.SubmitReturnInterview(pb.SubmitReturnInterviewRequest(
            request_id=rid(), interview_id=iid, form=bad), metadata=md, timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)
        v = violations(e)
        for f in ('form.contact_at_ms', 'form.seen_independently', 'form.method_other', 'form.location',
                  'form.contributory_factors', 'form.date_of_missing'):
            self.assertIn(f, v)
        self.assertNotIn('form.ran_from', v)
        # Malformed ids, missing request id, missing consent fields, missing purpose.
        e = code_of(lambda: C.stub.StartInterview(pb.StartInterviewRequest(
            interview_id="1'; DROP TABLE interviews.interviews; --"), metadata=md, timeout=10))
        self.assertEqual(set(violations(e)), {'interview_id', 'request_id'})
        e = code_of(lambda: C.stub.RecordConsent(pb.RecordConsentRequest(
            request_id=rid(), interview_id=iid, consent=pb.Consent(shared_with='sw')), metadata=md, timeout=10))
        self.assertEqual(set(violations(e)), {'consent.when_shared', 'consent.why_shared'})
        e = code_of(lambda: C.stub.RecordNoContact(pb.RecordNoContactRequest(
            request_id=rid(), interview_id=iid, method='PIGEON'), metadata=md, timeout=10))
        self.assertIn('method', violations(e))
        e = code_of(lambda: C.stub.StartInterview(pb.StartInterviewRequest(request_id=rid(), interview_id=iid),
                                                  metadata=C.md('return_interview_worker', AUTHORITY,
                                                                sub='rw-1', purpose=None), timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn('x-purpose', violations(e))
        self.assertEqual(snapshot(), before)
        # A role not in the method's table.
        e = code_of(lambda: C.stub.SubmitReturnInterview(pb.SubmitReturnInterviewRequest(
            request_id=rid(), interview_id=iid, form=return_form(now_ms())),
            metadata=C.md('call_handler', FORCE), timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(snapshot(), before)


class Reference(unittest.TestCase):
    def test_R_RET_2_app4_value_lists(self):
        r = C.stub.ListValueLists(pb.ListValueListsRequest(), metadata=worker(), timeout=10)
        lists = {l.name: l for l in r.lists}
        for name in ('time_frame_comments', 'conducted_with', 'interview_methods', 'interview_locations',
                     'ran_from', 'locations_visited', 'relevant_information', 'contributory_factors',
                     'reasons_for_running', 'social_media', 'impact', 'status_of_child', 'education_status',
                     'disability', 'trigger_levels', 'reported_missing_from'):
            self.assertIn(name, lists)
        self.assertEqual(len(lists['reasons_for_running'].values), 46)
        self.assertTrue(lists['contributory_factors'].multiple)
        other = [v for v in lists['interview_methods'].values if v.code == 'OTHER'][0]
        self.assertTrue(other.needs_text)
        one = C.stub.ListValueLists(pb.ListValueListsRequest(names=['impact']), metadata=worker(), timeout=10)
        self.assertEqual([l.name for l in one.lists], ['impact'])
        e = code_of(lambda: C.stub.ListValueLists(pb.ListValueListsRequest(names=['nope']),
                                                  metadata=worker(), timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_R_RET_2_timeliness_report(self):
        la = 'la-report'
        md = C.md('return_interview_worker', la, sub='rw-r')
        t0 = now_ms() - 100 * HOUR_MS
        # A: in time.  B: late, with a reason.  C: declined.  D: open, overdue, one failed contact.
        a, _, _, _ = C.located(now_ms() - 10 * HOUR_MS, authority=la)
        b, _, _, _ = C.located(now_ms() - 90 * HOUR_MS, authority=la)
        c, _, _, _ = C.located(now_ms() - 10 * HOUR_MS, authority=la)
        d, _, _, _ = C.located(now_ms() - 80 * HOUR_MS, authority=la)
        for ep in (a, b):
            C.consent(C.interview_ids(ep)['return'], md)
        C.stub.SubmitReturnInterview(pb.SubmitReturnInterviewRequest(
            request_id=rid(), interview_id=C.interview_ids(a)['return'], form=return_form(now_ms() - HOUR_MS)),
            metadata=md, timeout=10)
        C.stub.SubmitReturnInterview(pb.SubmitReturnInterviewRequest(
            request_id=rid(), interview_id=C.interview_ids(b)['return'],
            form=return_form(now_ms() - HOUR_MS, time_frame_comments=['INCORRECT_DETAILS'])),
            metadata=md, timeout=10)
        C.stub.RecordDeclined(pb.RecordDeclinedRequest(request_id=rid(), interview_id=C.interview_ids(c)['return'],
                                                       reason='declined'), metadata=md, timeout=10)
        C.stub.RecordNoContact(pb.RecordNoContactRequest(request_id=rid(), interview_id=C.interview_ids(d)['return'],
                                                         method='TELEPHONE'), metadata=md, timeout=10)
        rep = C.stub.GetTimelinessReport(pb.GetTimelinessReportRequest(authority=la, from_ms=t0, to_ms=now_ms()),
                                         metadata=C.md('team_manager', la, sub='tm-r'), timeout=10)
        self.assertEqual((rep.located, rep.offered, rep.accepted, rep.completed, rep.completed_within_72h,
                          rep.declined, rep.overdue_open, rep.no_contact_attempts), (4, 3, 2, 2, 1, 1, 1, 1))
        self.assertAlmostEqual(rep.completed_within_72h_percent, 50.0)
        self.assertAlmostEqual(rep.within_72h_percent_of_located, 25.0)
        self.assertEqual([(r.code, r.count) for r in rep.lateness_reasons], [('INCORRECT_DETAILS', 1)])
        self.assertEqual(rep.lateness_reasons[0].label, 'Incorrect Details chase Police/SC')
        # Only the authority's own people; a period is required.
        e = code_of(lambda: C.stub.GetTimelinessReport(pb.GetTimelinessReportRequest(
            authority=la, from_ms=t0, to_ms=now_ms()), metadata=C.md('team_manager', AUTHORITY), timeout=10))
        self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)
        e = code_of(lambda: C.stub.GetTimelinessReport(pb.GetTimelinessReportRequest(authority=la),
                                                       metadata=md, timeout=10))
        self.assertEqual(set(violations(e)), {'from_ms', 'to_ms'})


if __name__ == '__main__':
    unittest.main()
