"""test_risk_api.py -- the Risk service from an independent client (Python
grpcio) against real Episodes and Risk services, Postgres and Redis: a full
assessment, a dispute through both steps, CSE matrices and consent, abduction
notices and their legal basis, the LLR profile, checklists and plans with
their deadlines, bad input of every kind, roles, audit and events.

Every test names the PROTOCOL.md rule it proves."""

import datetime
import json
import time
import unittest
import uuid

import grpc

import hw
from google.rpc import error_details_pb2, status_pb2
from homeward.episodes.v1 import episodes_pb2 as ep
from homeward.episodes.v1 import episodes_pb2_grpc as epg
from homeward.events.v1 import events_pb2, events_pb2_grpc
from homeward.risk.v1 import risk_pb2 as pb
from homeward.risk.v1 import risk_pb2_grpc as pbg

STACK = hw.Stack(services=('episodes', 'risk'))
E = None   # Episodes stub
R = None   # Risk stub
W = {}     # the fixture world: tokens and ids

PURPOSE = 'test: missing child risk assessment'


def setUpModule():
    global E, R
    STACK.start()
    E = epg.EpisodesStub(STACK.channel('episodes'))
    R = pbg.RiskStub(STACK.channel('risk'))
    _build_world()


def tearDownModule():
    STACK.stop()


def rid():
    return str(uuid.uuid4())


def call(stub, method, request, token, purpose=PURPOSE):
    return getattr(stub, method)(request, metadata=STACK.metadata(token, purpose=purpose),
                                 timeout=15)


def risk(method, request, token, purpose=PURPOSE):
    return call(R, method, request, token, purpose)


def status_of(fn, *args, **kw):
    """(code, set of violated fields) of a call expected to fail."""
    try:
        fn(*args, **kw)
    except grpc.RpcError as e:
        fields = set()
        for k, v in e.trailing_metadata() or ():
            if k == 'grpc-status-details-bin':
                st = status_pb2.Status.FromString(v)
                for d in st.details:
                    br = error_details_pb2.BadRequest()
                    if d.Unpack(br):
                        fields |= {f.field for f in br.field_violations}
        return e.code(), fields
    raise AssertionError('the call succeeded')


def count(table, where='true', *params):
    return int(STACK.sql_one(f'SELECT count(*) FROM risk.{table} WHERE {where}', *params))


RISK_TABLES = ('assessments', 'assessment_answers', 'disputes', 'dispute_steps', 'cse_matrices',
               'cse_matrix_indicators', 'cse_matrix_shares', 'cse_prompts', 'lac_plans',
               'lac_plan_indicators', 'lac_plan_places', 'evaluation_matrices',
               'evaluation_matrix_items', 'abduction_notices', 'intelligence_reports',
               'intelligence_items', 'intelligence_links', 'cps_checklists', 'cps_answers',
               'outbox', 'deadlines', 'idempotency')


def snapshot():
    return {t: count(t) for t in RISK_TABLES}


def events(event_type):
    rows = STACK.sql('SELECT payload::text FROM risk.outbox WHERE type = $1 ORDER BY seq',
                     event_type)
    return [json.loads(r[0]) for r in rows]


def dob_for(age, days_to_birthday=30):
    """A date of birth for a child who is `age` today and has their next
    birthday in `days_to_birthday` days (never on a boundary)."""
    today = datetime.date.today()
    nxt = today + datetime.timedelta(days=days_to_birthday)
    try:
        return nxt.replace(year=nxt.year - age - 1).isoformat()
    except ValueError:  # 29 February
        return (nxt - datetime.timedelta(days=1)).replace(year=nxt.year - age - 1).isoformat()


def new_child(age, looked_after, authority='la-stoke', token=None, **kw):
    fields = dict(first_name='Sam', last_name='Fictional', date_of_birth=dob_for(age),
                  looked_after=looked_after, responsible_authority=authority)
    fields.update(kw)
    return call(E, 'UpsertChild', ep.UpsertChildRequest(request_id=rid(), child=ep.Child(**fields)),
                token or (W['sw'] if authority == 'la-stoke' else W['sw_leics'])).id


def report_missing(child_id, token=None):
    return call(E, 'ReportMissing', ep.ReportMissingRequest(request_id=rid(), report=ep.MissingReport(
        child_id=child_id, last_seen_at='2026-01-10T21:30:00Z', last_seen_place='bus station',
        missing_from='1 Example Street', clothing='grey hoodie',
        circumstances='did not return after school', reporter_name='Parent One')),
        token or W['handler']).episode.id


def ndmm(**concerns):
    """NDMM answers: every question answered "no" unless given (n=CONCERN)."""
    out = []
    for n in range(1, 11):
        out.append(pb.Answer(question_code=f'ndmm.{n}', concern=concerns.get(f'q{n}', pb.CONCERN_NO),
                             text='asked of the reporter'))
    return out


def _build_world():
    t = STACK.token
    W['sw'] = t('social_worker', 'la-stoke', sub='sw-1')
    W['sw_other'] = t('social_worker', 'la-wessex', sub='sw-7')
    W['sw_leics'] = t('social_worker', 'la-leics', sub='sw-9')
    W['handler'] = t('call_handler', 'force-staffs', sub='ch-1')
    W['officer'] = t('police_officer', 'force-staffs', sub='pc-1')
    W['crm'] = t('control_room_manager', 'force-staffs', sub='crm-1')
    W['sergeant'] = t('lpt_sergeant', 'force-staffs', sub='sgt-1')
    W['handler_llr'] = t('call_handler', 'force-llr', sub='ch-9')
    W['officer_llr'] = t('police_officer', 'force-llr', sub='pc-9')
    W['return_worker'] = t('return_interview_worker', 'la-stoke', sub='rw-1')
    W['cse_sw'] = t('cse_social_worker', 'la-stoke', sub='csesw-1')
    W['carer'] = t('care_staff', 'provider-demo', sub='carer-1')
    W['spoc'] = t('spoc', 'force-staffs', sub='spoc-1')
    W['service'] = t('service', 'homeward', sub='interviews')
    W['child15'] = new_child(15, False)
    W['child17'] = new_child(17, True)
    W['child16'] = new_child(16, False)
    W['child12'] = new_child(12, False)
    W['child13'] = new_child(13, False, date_of_birth=dob_for(13, days_to_birthday=300))
    W['child_llr'] = new_child(15, True, authority='la-leics')


class FullAssessment(unittest.TestCase):
    def test_R_RISK_1_R_RISK_7_reference_data_as_versioned_data(self):
        """R-RISK-1, R-RISK-7"""
        ref = risk('GetReferenceData', pb.GetReferenceDataRequest(), W['carer'])
        scales = {s.version: s for s in ref.scales}
        self.assertEqual(sorted(scales), [1, 2])
        self.assertTrue(scales[2].current)
        self.assertFalse(scales[1].current)
        self.assertEqual([l.code for l in scales[1].levels],
                         ['no_apparent_risk', 'low', 'medium', 'high'])
        self.assertEqual(scales[1].levels[0].label, 'No apparent risk (absent)')
        self.assertEqual([l.code for l in scales[2].levels], ['very_low', 'low', 'medium', 'high'])
        sets = {s.code: s for s in ref.question_sets}
        self.assertEqual(len(sets['ndmm'].questions), 10)          # STAFFS 12.4
        self.assertEqual(len(sets['cmd'].questions), 24)           # LLR p.8-9
        self.assertEqual(len(sets['cps'].questions), 10)           # LLR CPS checklist
        self.assertEqual(sets['ndmm'].questions[7].text, 'Are they likely to attempt suicide?')
        self.assertEqual(len(ref.cse_indicators), 118)             # App. 2
        by_text = {c.text: c for c in ref.cse_indicators}
        self.assertEqual(by_text['Use of Class A drugs (please refer to guidance notes)'].weight,
                         'high')
        self.assertEqual(by_text['History of abuse or neglect'].category, 'Abuse / Neglect')
        self.assertEqual(by_text['History of abuse or neglect'].weight, 'low')
        self.assertEqual(len({c.category for c in ref.cse_indicators}), 24)
        self.assertEqual(len(ref.lac_indicators), 25)               # App. 1
        self.assertEqual(len([e for e in ref.evaluation_items if e.kind == 'vulnerability']), 17)
        self.assertEqual({p.profile: p.lowest_missing_rank for p in ref.profiles},
                         {'STAFFS': 0, 'LLR': 2})

    def test_R_RISK_3_R_RISK_5_initial_then_secondary_history_kept(self):
        """R-RISK-3, R-RISK-5"""
        child = new_child(15, False)
        episode = report_missing(child)
        before_events = len(events('risk.level_changed'))
        # Initial: call handler; everything answered "no" -> low, no reasons.
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=ndmm()),
                 W['handler'])
        self.assertEqual((p.level_code, p.scale_version, p.profile), ('low', 2, 'STAFFS'))
        self.assertEqual(list(p.reasons), [])
        req_id = rid()
        first = risk('RecordAssessment', pb.RecordAssessmentRequest(
            request_id=req_id, episode_id=episode, stage=pb.STAGE_INITIAL, answers=ndmm(),
            level='low'), W['handler'])
        self.assertEqual((first.level_code, first.level_label, first.assessed_by_role),
                         ('low', 'Low risk', 'call_handler'))
        # A retry on poor signal returns the first result and writes nothing.
        n = count('assessments')
        again = risk('RecordAssessment', pb.RecordAssessmentRequest(
            request_id=req_id, episode_id=episode, stage=pb.STAGE_INITIAL, answers=ndmm(),
            level='low'), W['handler'])
        self.assertEqual(again.id, first.id)
        self.assertEqual(count('assessments'), n)
        # The call handler does not make the secondary assessment.
        code, _ = status_of(risk, 'RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_SECONDARY, level='low'),
            W['handler'])
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        # Secondary: the officer learns of a suicide risk -> proposal high.
        answers = ndmm(q8=pb.CONCERN_YES)
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=answers),
                 W['officer'])
        self.assertEqual(p.level_code, 'high')
        self.assertIn(('R-RISK-3', 'answer', 'ndmm.8'),
                      {(r.rule_id, r.record_type, r.record_id) for r in p.reasons})
        # R-RISK-3: below the proposal without a rationale is refused, nothing written.
        snap = snapshot()
        code, fields = status_of(risk, 'RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_SECONDARY, answers=answers,
            level='medium'), W['officer'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'rationale'}))
        self.assertEqual(snapshot(), snap)
        second = risk('RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_SECONDARY, answers=answers,
            level='medium', rationale='seen on CCTV with a relative an hour ago'), W['officer'])
        self.assertEqual((second.level_code, second.proposal.level_code,
                          second.previous_level_code), ('medium', 'high', 'low'))
        # R-RISK-5: both kept, in order, with who, when, why and the answers.
        h = risk('GetRiskHistory', pb.GetRiskHistoryRequest(episode_id=episode), W['officer'])
        self.assertEqual([a.id for a in h.assessments], [first.id, second.id])
        self.assertEqual(h.current.id, second.id)
        self.assertEqual(h.assessments[1].rationale, 'seen on CCTV with a relative an hour ago')
        self.assertEqual(h.assessments[1].assessed_by_id, 'pc-1')
        self.assertEqual(len(h.assessments[1].answers), 10)
        self.assertEqual(h.assessments[0].proposal.level_code, 'low')
        # The history table refuses to be rewritten, even by its owner.
        with self.assertRaises(hw.StackError):
            STACK.sql('UPDATE risk.assessments SET level_code = $1', 'high')
        # Each change published for the episode's timeline.
        ev = events('risk.level_changed')[before_events:]
        self.assertEqual([(e['episode_id'], e['level'], e['assessment_id']) for e in ev],
                         [(episode, 'low', first.id), (episode, 'medium', second.id)])
        self.assertEqual(ev[1]['scale_version'], '2')
        self.assertEqual(ev[1]['level_label'], 'Medium risk')
        self.assertEqual(ev[1]['child_id'], child)
        # Delivered: the episodes service shows the current level on the episode.
        for _ in range(100):
            e = call(E, 'GetEpisode', ep.GetEpisodeRequest(episode_id=episode), W['officer'])
            if e.episode.risk_level == 'medium':
                break
            time.sleep(0.1)
        self.assertEqual((e.episode.risk_level, e.episode.risk_scale_version), ('medium', '2'))
        self.assertIn('risk_changed', [t.kind for t in e.timeline])

    def test_R_ESC_4_very_high_risk_asks_for_an_immediate_meeting(self):
        """R-ESC-4"""
        episode = report_missing(new_child(15, False))
        code, fields = status_of(risk, 'RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, answers=ndmm(),
            level='medium', very_high_risk=True), W['handler'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'very_high_risk'}))
        a = risk('RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, answers=ndmm(),
            level='high', very_high_risk=True), W['handler'])
        self.assertTrue(a.very_high_risk)
        self.assertIn({'episode_id': episode, 'child_id': a.child_id, 'assessment_id': a.id},
                      events('risk.very_high'))

    def test_R_RISK_2_twelve_never_below_medium_thirteen_not_raised(self):
        """R-RISK-2"""
        for child, want, raised in ((W['child12'], 'medium', True), (W['child13'], 'low', False)):
            episode = report_missing(child)
            p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=ndmm()),
                     W['handler'])
            self.assertEqual(p.level_code, want)
            self.assertEqual('R-RISK-2' in {r.rule_id for r in p.reasons}, raised)

    def test_R_RISK_4_little_knowledge_and_disagreement_take_the_higher(self):
        """R-RISK-4"""
        episode = report_missing(new_child(15, False))
        unknown = ndmm(q1=pb.CONCERN_UNKNOWN, q3=pb.CONCERN_UNKNOWN, q4=pb.CONCERN_UNKNOWN,
                       q5=pb.CONCERN_UNKNOWN)
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=unknown),
                 W['handler'])
        self.assertEqual(p.level_code, 'medium')
        self.assertIn('R-RISK-4', {r.rule_id for r in p.reasons})
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=ndmm(),
                                                      alternative_level='high'), W['handler'])
        self.assertEqual(p.level_code, 'high')
        self.assertIn('R-RISK-4', {r.rule_id for r in p.reasons})


class Disputes(unittest.TestCase):
    def test_R_RISK_6_dispute_through_both_steps(self):
        """R-RISK-6"""
        child = new_child(15, False)
        episode = report_missing(child)
        a = risk('RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, answers=ndmm(),
            level='low'), W['handler'])
        d = risk('RaiseDispute', pb.RaiseDisputeRequest(
            request_id=rid(), assessment_id=a.id, sought_level='high',
            reason='the family say she has never stayed out before'), W['officer'])
        self.assertEqual((d.awaiting_step, d.resolved, d.disputed_level_code, d.sought_level_code),
                         (1, False, 'low', 'high'))
        # A second open dispute on the same assessment is refused.
        code, _ = status_of(risk, 'RaiseDispute', pb.RaiseDisputeRequest(
            request_id=rid(), assessment_id=a.id, sought_level='medium', reason='again'),
            W['officer'])
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)
        # Only supervisors resolve; step 1 is the control room manager's.
        code, _ = status_of(risk, 'ResolveDispute', pb.ResolveDisputeRequest(
            request_id=rid(), dispute_id=d.id, outcome=pb.DISPUTE_OUTCOME_UPHELD, rationale='x'),
            W['officer'])
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        code, _ = status_of(risk, 'ResolveDispute', pb.ResolveDisputeRequest(
            request_id=rid(), dispute_id=d.id, outcome=pb.DISPUTE_OUTCOME_UPHELD, rationale='x'),
            W['sergeant'])
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        d1 = risk('ResolveDispute', pb.ResolveDisputeRequest(
            request_id=rid(), dispute_id=d.id, outcome=pb.DISPUTE_OUTCOME_REFERRED,
            rationale='cannot resolve from the control room: refer to the LPT sergeant'),
            W['crm'])
        self.assertEqual((d1.awaiting_step, d1.resolved), (2, False))
        # Step 2 is the LPT sergeant's, and REFERRED is not an outcome there.
        code, _ = status_of(risk, 'ResolveDispute', pb.ResolveDisputeRequest(
            request_id=rid(), dispute_id=d.id, outcome=pb.DISPUTE_OUTCOME_UPHELD, rationale='x'),
            W['crm'])
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        code, fields = status_of(risk, 'ResolveDispute', pb.ResolveDisputeRequest(
            request_id=rid(), dispute_id=d.id, outcome=pb.DISPUTE_OUTCOME_REFERRED,
            rationale='x'), W['sergeant'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'outcome'}))
        before = len(events('risk.level_changed'))
        d2 = risk('ResolveDispute', pb.ResolveDisputeRequest(
            request_id=rid(), dispute_id=d.id, outcome=pb.DISPUTE_OUTCOME_CHANGED, level='high',
            rationale='out of character; associates unknown'), W['sergeant'])
        self.assertTrue(d2.resolved)
        self.assertEqual(d2.final_level_code, 'high')
        self.assertEqual([(s.step, s.outcome, s.decided_by_role) for s in d2.steps],
                         [(1, pb.DISPUTE_OUTCOME_REFERRED, 'control_room_manager'),
                          (2, pb.DISPUTE_OUTCOME_CHANGED, 'lpt_sergeant')])
        h = risk('GetRiskHistory', pb.GetRiskHistoryRequest(episode_id=episode), W['officer'])
        self.assertEqual([x.level_code for x in h.assessments], ['low', 'high'])
        self.assertEqual((h.current.stage, h.current.dispute_id, h.current.id),
                         (pb.STAGE_DISPUTE, d.id, d2.resulting_assessment_id))
        self.assertEqual(len(h.disputes), 1)
        ev = events('risk.level_changed')[before:]
        self.assertEqual([(e['episode_id'], e['level']) for e in ev], [(episode, 'high')])
        code, _ = status_of(risk, 'ResolveDispute', pb.ResolveDisputeRequest(
            request_id=rid(), dispute_id=d.id, outcome=pb.DISPUTE_OUTCOME_UPHELD, rationale='x'),
            W['sergeant'])
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)


class CseMatrix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ref = risk('GetReferenceData', pb.GetReferenceDataRequest(), W['sw'])
        cls.low = [c.code for c in ref.cse_indicators if c.weight == 'low'][:2]
        cls.medium = [c.code for c in ref.cse_indicators if c.weight == 'medium'][:1]
        cls.review = (datetime.date.today() + datetime.timedelta(days=90)).isoformat()

    def test_R_RISK_7_low_matrix_without_consent_refused_for_sharing(self):
        """R-RISK-7"""
        child = new_child(14, False)
        m = risk('RecordCseMatrix', pb.RecordCseMatrixRequest(
            request_id=rid(), child_id=child, indicator_codes=self.low, review_date=self.review,
            child_consent=pb.CONSENT_NO), W['return_worker'])
        self.assertEqual((m.level, m.routing, list(m.shared_with)),
                         ('low', pb.CSE_ROUTING_LOW_HELD, []))
        snap = snapshot()
        code, _ = status_of(risk, 'ShareCseMatrix', pb.ShareCseMatrixRequest(
            request_id=rid(), matrix_id=m.id, recipient='catch22'), W['return_worker'])
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(snapshot(), snap)
        self.assertEqual(count('cse_matrix_shares', 'matrix_id = $1', m.id), 0)
        # With the child's consent recorded, the same low matrix may be shared.
        m2 = risk('RecordCseMatrix', pb.RecordCseMatrixRequest(
            request_id=rid(), child_id=child, indicator_codes=self.low, review_date=self.review,
            child_consent=pb.CONSENT_YES), W['return_worker'])
        self.assertEqual(m2.routing, pb.CSE_ROUTING_LOW_CONSENTED)
        shared = risk('ShareCseMatrix', pb.ShareCseMatrixRequest(
            request_id=rid(), matrix_id=m2.id, recipient='catch22'), W['return_worker'])
        self.assertEqual(list(shared.shared_with), ['catch22'])

    def test_R_RISK_7_level_is_highest_weight_unless_raised_and_medium_is_referred(self):
        """R-RISK-7"""
        child = new_child(14, False)
        m = risk('RecordCseMatrix', pb.RecordCseMatrixRequest(
            request_id=rid(), child_id=child, indicator_codes=self.low + self.medium,
            review_date=self.review), W['sw'])
        self.assertEqual((m.level, m.ticked_level, m.raised, m.routing),
                         ('medium', 'medium', False, pb.CSE_ROUTING_REFERRED))
        self.assertEqual(sorted(m.shared_with), ['commissioned_provider', 'cse_link'])
        self.assertIn({'matrix_id': m.id, 'child_id': child, 'level': 'medium',
                       'recipient': 'commissioned_provider'}, events('risk.cse_referral'))
        snap = snapshot()
        for bad, fields in (
                (dict(raised_level='high'), {'raise_rationale'}),            # raise needs a why
                (dict(raised_level='low', raise_rationale='x'), {'raised_level'}),  # never lower
                (dict(review_date=''), {'review_date'}),
                (dict(review_date=datetime.date.today().isoformat()), {'review_date'}),
                (dict(indicator_codes=['cse.nothing.9']), {'indicator_codes[0]'}),
                (dict(indicator_codes=[]), {'indicator_codes'}),             # returned if blank
        ):
            args = dict(request_id=rid(), child_id=child, indicator_codes=self.low + self.medium,
                        review_date=self.review)
            args.update(bad)
            code, got = status_of(risk, 'RecordCseMatrix', pb.RecordCseMatrixRequest(**args),
                                  W['sw'])
            self.assertEqual((code, got), (grpc.StatusCode.INVALID_ARGUMENT, fields), bad)
        self.assertEqual(snapshot(), snap)
        raised = risk('RecordCseMatrix', pb.RecordCseMatrixRequest(
            request_id=rid(), child_id=child, indicator_codes=self.low, raised_level='high',
            raise_rationale='seen getting into cars with unknown adults', review_date=self.review),
            W['sw'])
        self.assertEqual((raised.level, raised.ticked_level, raised.raised), ('high', 'low', True))

    def test_R_SEC_3_matrix_details_hidden_from_roles_that_do_not_need_them(self):
        """R-SEC-3"""
        child = new_child(14, False)
        risk('RecordCseMatrix', pb.RecordCseMatrixRequest(
            request_id=rid(), child_id=child, indicator_codes=self.medium,
            review_date=self.review, comments='disclosed to the return worker'), W['sw'])
        full = risk('ListCseMatrices', pb.ListCseMatricesRequest(child_id=child), W['sw'])
        self.assertFalse(full.matrices[0].details_withheld)
        self.assertEqual(list(full.matrices[0].indicator_codes), self.medium)
        episode = report_missing(child)
        self.assertTrue(episode)
        spoc = risk('ListCseMatrices', pb.ListCseMatricesRequest(child_id=child), W['handler'])
        self.assertEqual(spoc.matrices[0].level, 'medium')
        self.assertTrue(spoc.matrices[0].details_withheld)
        self.assertEqual((list(spoc.matrices[0].indicator_codes), spoc.matrices[0].comments),
                         ([], ''))

    def test_R_RISK_10_matrix_flag_and_notice_raise_and_are_named(self):
        """R-RISK-10"""
        child = new_child(15, False, cse=ep.CseMatters(concern=False))
        m = risk('RecordCseMatrix', pb.RecordCseMatrixRequest(
            request_id=rid(), child_id=child, indicator_codes=self.medium,
            review_date=self.review), W['sw'])
        episode = report_missing(child)
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=ndmm()),
                 W['handler'])
        self.assertEqual(p.level_code, 'medium')
        self.assertIn(('R-RISK-10', 'cse_matrix', m.id),
                      {(r.rule_id, r.record_type, r.record_id) for r in p.reasons})
        n = risk('RecordAbductionNotice', pb.RecordAbductionNoticeRequest(
            request_id=rid(), notice=notice_for(child)), W['officer'])
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=ndmm()),
                 W['handler'])
        self.assertIn(('R-RISK-10', 'abduction_notice', n.id),
                      {(r.rule_id, r.record_type, r.record_id) for r in p.reasons})
        self.assertTrue(any(n.id in r.text for r in p.reasons))
        # A CSE flag on the child record raises too.
        flagged = new_child(15, False, cse=ep.CseMatters(concern=True, notes='known to the team'))
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=report_missing(flagged),
                                                      answers=ndmm()), W['handler'])
        self.assertEqual(p.level_code, 'medium')
        self.assertIn(('R-RISK-10', 'child_flag', 'cse'),
                      {(r.rule_id, r.record_type, r.record_id) for r in p.reasons})
        # So does a trafficking flag on the child record, named as such.
        trafficked = new_child(15, False, cse=ep.CseMatters(trafficking_concern=True))
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=report_missing(trafficked),
                                                      answers=ndmm()), W['handler'])
        self.assertEqual(p.level_code, 'medium')
        reasons = {(r.rule_id, r.record_type, r.record_id) for r in p.reasons}
        self.assertIn(('R-RISK-10', 'child_flag', 'trafficking'), reasons)
        self.assertNotIn(('R-RISK-10', 'child_flag', 'cse'), reasons)

    def test_cse_prompt_event_listed_and_closed_by_a_matrix(self):
        child = new_child(14, False)
        stub = events_pb2_grpc.EventSinkStub(STACK.channel('risk'))
        ev = events_pb2.Event(id=rid(), source='interviews', type='interviews.cse_prompt',
                              subject='interview:x', occurred_at_ms=int(time.time() * 1000),
                              payload_json=json.dumps({'child_id': child, 'episode_id': 'e-1',
                                                       'interview_id': 'i-1'}))
        md = STACK.metadata(W['service'])
        self.assertFalse(stub.Deliver(ev, metadata=md, timeout=10).duplicate)
        self.assertTrue(stub.Deliver(ev, metadata=md, timeout=10).duplicate)
        prompts = risk('ListCsePrompts', pb.ListCsePromptsRequest(child_id=child), W['return_worker'])
        self.assertEqual([(p.interview_id, p.open) for p in prompts.prompts], [('i-1', True)])
        m = risk('RecordCseMatrix', pb.RecordCseMatrixRequest(
            request_id=rid(), child_id=child, indicator_codes=self.low, review_date=self.review,
            prompt_id=prompts.prompts[0].id), W['return_worker'])
        after = risk('ListCsePrompts', pb.ListCsePromptsRequest(child_id=child, include_closed=True),
                     W['return_worker'])
        self.assertEqual([(p.open, p.matrix_id) for p in after.prompts], [(False, m.id)])


def notice_for(child, **kw):
    fields = dict(child_id=child, recipient_name='Adult Fictional', recipient_address='3 Example Road',
                  photograph_shown=True, officer_collar_number='PC 1234', officer_name='PC Demo',
                  station='Hanley', served_at=datetime.datetime.now(datetime.timezone.utc)
                  .strftime('%Y-%m-%dT%H:%M:%SZ'), recipient_signed=True)
    fields.update(kw)
    return pb.AbductionNotice(**fields)


class AbductionNotices(unittest.TestCase):
    def test_R_CAWN_1_fifteen_at_home_vs_seventeen_in_care(self):
        """R-CAWN-1"""
        at_home = risk('RecordAbductionNotice', pb.RecordAbductionNoticeRequest(
            request_id=rid(), notice=notice_for(W['child15'])), W['officer'])
        self.assertEqual((at_home.legal_basis, at_home.child_age, at_home.child_in_care),
                         (pb.LEGAL_BASIS_S2_CHILD_ABDUCTION_ACT_1984, 15, False))
        in_care = risk('RecordAbductionNotice', pb.RecordAbductionNoticeRequest(
            request_id=rid(), notice=notice_for(W['child17'])), W['officer'])
        self.assertEqual((in_care.legal_basis, in_care.cites_section_2, in_care.child_age,
                          in_care.child_in_care),
                         (pb.LEGAL_BASIS_S49_CHILDREN_ACT_1989, False, 17, True))
        # R-NOT-6: the local authority is told.
        served = events('risk.abduction_notice_served')
        self.assertIn({'notice_id': in_care.id, 'child_id': W['child17'],
                       'responsible_authority': 'la-stoke',
                       'legal_basis': 's49_children_act_1989'}, served)
        # Contradictions are refused and nothing is written.
        snap = snapshot()
        for child, basis, field in (
                (W['child17'], pb.LEGAL_BASIS_S2_CHILD_ABDUCTION_ACT_1984, 'notice.legal_basis'),
                (W['child15'], pb.LEGAL_BASIS_S49_CHILDREN_ACT_1989, 'notice.legal_basis'),
                (W['child16'], pb.LEGAL_BASIS_UNSPECIFIED, 'notice.child_id')):
            code, fields = status_of(risk, 'RecordAbductionNotice', pb.RecordAbductionNoticeRequest(
                request_id=rid(), notice=notice_for(child, legal_basis=basis)), W['officer'])
            self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {field}))
        self.assertEqual(snapshot(), snap)
        listed = risk('ListAbductionNotices', pb.ListAbductionNoticesRequest(child_id=W['child17']),
                      W['sw'])
        self.assertEqual([n.id for n in listed.notices], [in_care.id])


class Profiles(unittest.TestCase):
    def test_R_RISK_1_llr_profile_refuses_below_medium_for_a_missing_child(self):
        """R-RISK-1"""
        child = new_child(15, True, authority='la-leics')
        episode = report_missing(child, token=W['handler_llr'])
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=ndmm()),
                 W['handler_llr'])
        self.assertEqual((p.profile, p.level_code), ('LLR', 'medium'))
        self.assertIn(('R-RISK-1', 'profile', 'LLR'),
                      {(r.rule_id, r.record_type, r.record_id) for r in p.reasons})
        snap = snapshot()
        code, fields = status_of(risk, 'RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, answers=ndmm(),
            level='low', rationale='seems fine'), W['handler_llr'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'level'}))
        self.assertEqual(snapshot(), snap)
        ok = risk('RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, answers=ndmm(),
            level='medium'), W['handler_llr'])
        self.assertEqual(ok.level_code, 'medium')

    def test_R_RISK_1_old_records_keep_their_scale_label(self):
        """R-RISK-1"""
        episode = report_missing(new_child(15, False))
        a = risk('RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, answers=ndmm(),
            level='low'), W['handler'])
        # A record made under the documents' scale (version 1) before the change.
        STACK.sql("INSERT INTO risk.assessments (episode_id, child_id, stage, scale_version, "
                  "level_code, level_rank, proposed_rank, proposal, profile, assessed_by_id, "
                  "assessed_by_role, organisation, assessed_at) VALUES ($1, $2, 1, 1, "
                  "'no_apparent_risk', 0, 0, '\\x', 'STAFFS', 'ch-0', 'call_handler', "
                  "'force-staffs', now() - interval '1 year')", episode, a.child_id)
        h = risk('GetRiskHistory', pb.GetRiskHistoryRequest(episode_id=episode), W['officer'])
        self.assertEqual([(x.scale_version, x.level_code, x.level_label) for x in h.assessments],
                         [(1, 'no_apparent_risk', 'No apparent risk (absent)'),
                          (2, 'low', 'Low risk')])
        code, fields = status_of(risk, 'RecordAssessment', pb.RecordAssessmentRequest(
            request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL,
            level='no_apparent_risk'), W['handler'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'level'}))


class Deadlines(unittest.TestCase):
    def test_R_CPS_1_questions_at_once_and_three_day_deadline(self):
        """R-CPS-1"""
        child = W['child17']
        now_answers = [pb.CpsAnswer(number=n, answer=f'answer {n}') for n in (1, 2, 8, 9, 10)]
        snap = snapshot()
        code, fields = status_of(risk, 'RecordCpsChecklist', pb.RecordCpsChecklistRequest(
            request_id=rid(), child_id=child, incident_ref='INC-1', answers=now_answers[:4]),
            W['officer'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'answers'}))
        self.assertEqual(snapshot(), snap)
        t0 = time.time()
        c = risk('RecordCpsChecklist', pb.RecordCpsChecklistRequest(
            request_id=rid(), child_id=child, incident_ref='INC-1', answers=now_answers),
            W['officer'])
        self.assertFalse(c.complete)
        due = datetime.datetime.fromisoformat(c.followup_due_at.replace('Z', '+00:00')).timestamp()
        self.assertAlmostEqual(due - t0, 72 * 3600, delta=30)
        self.assertEqual(STACK.sql_one("SELECT state FROM risk.deadlines WHERE kind = 'cps_followup' "
                                       "AND subject = $1", c.id), 'pending')
        # Answers are kept as given: question 1 cannot be answered again.
        code, fields = status_of(risk, 'AnswerCpsChecklist', pb.AnswerCpsChecklistRequest(
            request_id=rid(), checklist_id=c.id, answers=[pb.CpsAnswer(number=1, answer='x')]),
            W['officer'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'answers[0].number'}))
        done = risk('AnswerCpsChecklist', pb.AnswerCpsChecklistRequest(
            request_id=rid(), checklist_id=c.id,
            answers=[pb.CpsAnswer(number=n, answer=f'later {n}') for n in range(3, 8)]),
            W['officer'])
        self.assertTrue(done.complete)
        self.assertEqual(len(done.answers), 10)
        self.assertEqual(STACK.sql_one("SELECT state FROM risk.deadlines WHERE kind = 'cps_followup' "
                                       "AND subject = $1", c.id), 'cancelled')

    def test_R_RISK_8_emergency_plan_due_in_three_working_days_fires_overdue(self):
        """R-RISK-8"""
        child = new_child(16, True)
        started = '2025-08-22T09:00:00Z'    # a Friday; Monday 25 August is a bank holiday
        due = risk('RequireLacPlan', pb.RequireLacPlanRequest(
            request_id=rid(), child_id=child, placement=pb.PLACEMENT_KIND_EMERGENCY,
            placement_started_at=started), W['sw'])
        self.assertEqual(due.due_at, '2025-08-28T22:59:59.999Z')   # end of Thursday, BST
        # Long past: the deadline fires and says the plan is overdue.
        for _ in range(100):
            if any(e['child_id'] == child for e in events('risk.lac_plan_overdue')):
                break
            time.sleep(0.1)
        self.assertIn(child, [e['child_id'] for e in events('risk.lac_plan_overdue')])
        self.assertEqual(STACK.sql_one("SELECT state FROM risk.deadlines WHERE kind = "
                                       "'lac_plan_due' AND subject = $1", child), 'done')

    def test_R_RISK_8_plan_recorded_cancels_due_and_schedules_review(self):
        """R-RISK-8"""
        child = new_child(16, True)
        started = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        risk('RequireLacPlan', pb.RequireLacPlanRequest(
            request_id=rid(), child_id=child, placement=pb.PLACEMENT_KIND_EMERGENCY,
            placement_started_at=started), W['sw'])
        self.assertEqual(STACK.sql_one("SELECT state FROM risk.deadlines WHERE kind = "
                                       "'lac_plan_due' AND subject = $1", child), 'pending')
        snap = snapshot()
        code, fields = status_of(risk, 'RecordLacPlan', pb.RecordLacPlanRequest(
            request_id=rid(), child_id=child, placement=pb.PLACEMENT_KIND_EMERGENCY,
            meeting_date='2025-08-26', concluding_assessment='x', action_plan='y',
            places=[pb.KnownPlace(address='4 Example Road', known_risk='severe', action='')]),
            W['sw'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT,
                                          {'places[0].known_risk', 'places[0].action'}))
        self.assertEqual(snapshot(), snap)
        plan = risk('RecordLacPlan', pb.RecordLacPlanRequest(
            request_id=rid(), child_id=child, placement=pb.PLACEMENT_KIND_EMERGENCY,
            placement_started_at=started, meeting_date='2025-08-31',
            indicators=[pb.LacIndicatorAnswer(indicator_code='lac.pattern.2',
                                              information='weekends, returns by Monday')],
            concluding_assessment='medium risk if she fails to return',
            action_plan='search the building; ring her mobile; contact grandmother',
            places=[pb.KnownPlace(address='4 Example Road', known_risk='high',
                                  action='report to police without delay')]), W['sw'])
        self.assertEqual(plan.review_due, '2026-02-28')   # 6 months on, clamped to February
        self.assertEqual(STACK.sql_one("SELECT state FROM risk.deadlines WHERE kind = "
                                       "'lac_plan_due' AND subject = $1", child), 'cancelled')
        self.assertEqual(count('lac_plan_places', 'plan_id = $1', plan.id), 1)
        listed = risk('ListLacPlans', pb.ListLacPlansRequest(child_id=child), W['officer'])
        self.assertEqual([(p.id, p.places[0].known_risk, p.indicators[0].indicator_code)
                          for p in listed.plans], [(plan.id, 'high', 'lac.pattern.2')])
        self.assertIn(STACK.sql_one("SELECT state FROM risk.deadlines WHERE kind = "
                                    "'lac_plan_review' AND subject = $1", child), ('pending', 'done'))
        # The LAC plan is for a looked-after child only.
        code, fields = status_of(risk, 'RequireLacPlan', pb.RequireLacPlanRequest(
            request_id=rid(), child_id=W['child15'], placement=pb.PLACEMENT_KIND_EMERGENCY,
            placement_started_at=started), W['sw'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'child_id'}))


class Instruments(unittest.TestCase):
    def test_R_RISK_9_evaluation_matrix_and_R_RISK_10_trafficking(self):
        """R-RISK-9, R-RISK-10"""
        child = new_child(15, False)
        m = risk('RecordEvaluationMatrix', pb.RecordEvaluationMatrixRequest(
            request_id=rid(), matrix=pb.EvaluationMatrix(
                child_id=child, vulnerabilities=['vuln.trafficking', 'vuln.looked_after'],
                engages_in_return_interviews='sometimes',
                indicators=[pb.EvaluatedIndicator(code='ind.drug_misuse', impact='high',
                                                  likelihood='medium', details='cannabis')],
                identified_level='medium', actions='safety plan')), W['sw'])
        listed = risk('ListEvaluationMatrices', pb.ListEvaluationMatricesRequest(child_id=child),
                      W['officer'])
        got = listed.matrices[0]
        self.assertEqual((got.id, sorted(got.vulnerabilities), got.identified_level),
                         (m.id, ['vuln.looked_after', 'vuln.trafficking'], 'medium'))
        self.assertEqual([(i.code, i.impact, i.likelihood) for i in got.indicators],
                         [('ind.drug_misuse', 'high', 'medium')])
        p = risk('ProposeRisk', pb.ProposeRiskRequest(episode_id=report_missing(child),
                                                      answers=ndmm()), W['handler'])
        self.assertEqual(p.level_code, 'medium')
        self.assertIn(('R-RISK-10', 'evaluation_matrix', m.id),
                      {(r.rule_id, r.record_type, r.record_id) for r in p.reasons})

    def test_R_INT_1_intelligence_with_links_details_by_role(self):
        """R-INT-1"""
        child = new_child(15, False)
        rep = risk('RecordIntelligenceReport', pb.RecordIntelligenceReportRequest(
            request_id=rid(), report=pb.IntelligenceReport(
                child_id=child, source=pb.INTELLIGENCE_SOURCE_PROFESSIONAL_OBSERVATION,
                summary='seen being collected from school',
                items=[pb.IntelligenceItem(ref='S1', kind=pb.INTELLIGENCE_KIND_SUSPECT,
                                           description='male, 30s, calls himself "Jay"'),
                       pb.IntelligenceItem(ref='V1', kind=pb.INTELLIGENCE_KIND_VEHICLE,
                                           description='black hatchback', identifier='AB12 ***'),
                       pb.IntelligenceItem(ref='T1', kind=pb.INTELLIGENCE_KIND_TIME,
                                           description='after school',
                                           occurred_at='2026-01-09T15:30:00Z')],
                links=[pb.IntelligenceLink(from_ref='S1', to_ref='V1', description='drives'),
                       pb.IntelligenceLink(from_ref='V1', to_ref='T1', description='seen')])),
            W['sw'])
        self.assertTrue(rep.id)
        officer = risk('ListIntelligenceReports', pb.ListIntelligenceReportsRequest(child_id=child),
                       W['officer'])
        self.assertEqual([(l.from_ref, l.to_ref) for l in officer.reports[0].links],
                         [('S1', 'V1'), ('V1', 'T1')])
        self.assertEqual(officer.reports[0].items[2].occurred_at, '2026-01-09T15:30:00.000Z')
        sw = risk('ListIntelligenceReports', pb.ListIntelligenceReportsRequest(child_id=child),
                  W['sw'])
        self.assertTrue(sw.reports[0].details_withheld)
        self.assertEqual((len(sw.reports[0].items), sw.reports[0].summary), (0, ''))


class BadInputAndAccess(unittest.TestCase):
    def test_bad_input_refused_with_field_violations_nothing_written(self):
        episode = report_missing(new_child(15, False))
        cases = [
            ('ProposeRisk', pb.ProposeRiskRequest(), W['handler'], {'episode_id'}),
            ('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, answers=[
                pb.Answer(question_code='ndmm.99')]), W['handler'], {'answers[0].question_code'}),
            ('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode, alternative_level='severe'),
             W['handler'], {'alternative_level'}),
            ('ProposeRisk', pb.ProposeRiskRequest(episode_id='not-a-uuid'), W['handler'],
             {'episode_id'}),
            ('RecordAssessment', pb.RecordAssessmentRequest(), W['handler'],
             {'request_id', 'episode_id', 'stage', 'level'}),
            ('RecordAssessment', pb.RecordAssessmentRequest(
                request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, level='severe'),
             W['handler'], {'level'}),
            ('RecordAssessment', pb.RecordAssessmentRequest(
                request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, level='medium',
                very_high_risk=True), W['handler'], {'very_high_risk'}),
            ('RecordAssessment', pb.RecordAssessmentRequest(
                request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, level='low',
                answers=[pb.Answer(question_code='ndmm.1'), pb.Answer(question_code='ndmm.1')]),
             W['handler'], {'answers[1].question_code'}),
            ('RaiseDispute', pb.RaiseDisputeRequest(request_id=rid(), assessment_id='x'),
             W['officer'], {'assessment_id', 'sought_level', 'reason'}),
            ('ResolveDispute', pb.ResolveDisputeRequest(request_id=rid(), outcome=pb.DISPUTE_OUTCOME_CHANGED),
             W['crm'], {'dispute_id', 'level', 'rationale'}),
            ('GetRiskHistory', pb.GetRiskHistoryRequest(), W['officer'], {'child_id'}),
            ('RecordCseMatrix', pb.RecordCseMatrixRequest(raised_level='extreme',
                                                          review_date='2026-13-01'),
             W['sw'], {'request_id', 'child_id', 'raised_level', 'review_date'}),
            ('ShareCseMatrix', pb.ShareCseMatrixRequest(request_id=rid()), W['sw'],
             {'matrix_id', 'recipient'}),
            ('RequireLacPlan', pb.RequireLacPlanRequest(request_id=rid(), child_id=W['child17'],
                                                        placement_started_at='yesterday'),
             W['sw'], {'placement', 'placement_started_at'}),
            ('RecordLacPlan', pb.RecordLacPlanRequest(request_id=rid(), child_id=W['child17'],
                                                      meeting_date='26/08/2025'),
             W['sw'], {'placement', 'meeting_date', 'concluding_assessment', 'action_plan'}),
            ('RecordEvaluationMatrix', pb.RecordEvaluationMatrixRequest(
                request_id=rid(), matrix=pb.EvaluationMatrix(
                    child_id=W['child15'], identified_level='none',
                    engages_in_return_interviews='maybe',
                    indicators=[pb.EvaluatedIndicator(code='ind.drug_misuse')])),
             W['sw'], {'matrix.identified_level', 'matrix.engages_in_return_interviews',
                       'matrix.indicators[0].impact', 'matrix.indicators[0].likelihood'}),
            ('RecordEvaluationMatrix', pb.RecordEvaluationMatrixRequest(
                request_id=rid(), matrix=pb.EvaluationMatrix(
                    child_id=W['child15'], identified_level='low', vulnerabilities=['vuln.none'])),
             W['sw'], {'matrix.vulnerabilities[0]'}),
            ('RecordAbductionNotice', pb.RecordAbductionNoticeRequest(
                request_id=rid(), notice=pb.AbductionNotice(served_at='soon')),
             W['officer'], {'notice.child_id', 'notice.recipient_name',
                            'notice.officer_collar_number', 'notice.officer_name',
                            'notice.served_at', 'notice.identification_without_photograph',
                            'notice.refusal_reason'}),
            ('RecordIntelligenceReport', pb.RecordIntelligenceReportRequest(
                request_id=rid(), report=pb.IntelligenceReport()), W['sw'],
             {'report.source', 'report.items'}),
            ('RecordIntelligenceReport', pb.RecordIntelligenceReportRequest(
                request_id=rid(), report=pb.IntelligenceReport(
                    source=pb.INTELLIGENCE_SOURCE_DISCLOSURE,
                    items=[pb.IntelligenceItem(ref='S1', kind=pb.INTELLIGENCE_KIND_SUSPECT,
                                               description='x'),
                           pb.IntelligenceItem(ref='S1', kind=pb.INTELLIGENCE_KIND_TIME,
                                               description='y')],
                    links=[pb.IntelligenceLink(from_ref='S1', to_ref='Z9')])), W['sw'],
             {'report.items[1].ref', 'report.items[1].occurred_at', 'report.links[0].to_ref'}),
            ('RecordCpsChecklist', pb.RecordCpsChecklistRequest(
                request_id=rid(), answers=[pb.CpsAnswer(number=11, answer='x'),
                                           pb.CpsAnswer(number=1, answer='')]),
             W['officer'], {'child_id', 'incident_ref', 'answers[0].number', 'answers[1].answer',
                            'answers'}),
        ]
        snap = snapshot()
        for method, req, token, fields in cases:
            code, got = status_of(risk, method, req, token)
            self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT, method)
            self.assertEqual(got, fields, f'{method}: {req}')
        self.assertEqual(snapshot(), snap)

    def test_R_SEC_1_wrong_role_permission_denied_nothing_written(self):
        """R-SEC-1"""
        episode = report_missing(new_child(15, False))
        cases = [
            ('RecordAssessment', pb.RecordAssessmentRequest(
                request_id=rid(), episode_id=episode, stage=pb.STAGE_INITIAL, level='high'),
             W['carer']),
            ('ProposeRisk', pb.ProposeRiskRequest(episode_id=episode), W['sw']),
            ('ResolveDispute', pb.ResolveDisputeRequest(request_id=rid(), dispute_id=rid(),
                                                        outcome=1, rationale='x'), W['handler']),
            ('RecordLacPlan', pb.RecordLacPlanRequest(request_id=rid()), W['officer']),
            ('RecordAbductionNotice', pb.RecordAbductionNoticeRequest(request_id=rid()),
             W['return_worker']),
            ('RecordCseMatrix', pb.RecordCseMatrixRequest(request_id=rid()), W['spoc']),
            ('ListCsePrompts', pb.ListCsePromptsRequest(child_id=W['child15']), W['officer']),
            # Another authority's social worker: refused by the record's owner (R-SEC-1).
            ('GetRiskHistory', pb.GetRiskHistoryRequest(child_id=W['child15']), W['sw_other']),
            ('ListAbductionNotices', pb.ListAbductionNoticesRequest(child_id=W['child15']),
             W['sw_other']),
        ]
        snap = snapshot()
        for method, req, token in cases:
            code, _ = status_of(risk, method, req, token)
            self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, method)
        self.assertEqual(snapshot(), snap)
        code, _ = status_of(R.GetRiskHistory, pb.GetRiskHistoryRequest(child_id=W['child15']),
                            timeout=10)
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        code, _ = status_of(risk, 'ProposeRisk', pb.ProposeRiskRequest(episode_id=rid()),
                            W['handler'])
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)

    def test_R_SEC_2_reads_need_a_reason_and_are_audited(self):
        """R-SEC-2"""
        code, fields = status_of(risk, 'GetRiskHistory',
                                 pb.GetRiskHistoryRequest(child_id=W['child15']), W['sw'],
                                 purpose=None)
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'x-purpose'}))
        risk('GetRiskHistory', pb.GetRiskHistoryRequest(child_id=W['child15']), W['sw'],
             purpose='planning meeting for the child')
        rows = STACK.sql("SELECT subject, record_type, purpose FROM risk.audit WHERE record_id = $1 "
                         "AND action LIKE '%GetRiskHistory'", W['child15'])
        self.assertIn(('sw-1', 'child', 'planning meeting for the child'), rows)
        with self.assertRaises(hw.StackError):
            STACK.sql('DELETE FROM risk.audit', url=STACK.db_url_as('homeward_risk'))


if __name__ == '__main__':
    unittest.main()
