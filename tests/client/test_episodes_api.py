"""test_episodes_api.py -- the Episodes service from an independent client
(Python grpcio) against real Postgres and Redis: a child's journey from
absence to closure, the SPOC's roster, the watch stream, access rules, bad
input, idempotency, counts and the statutory return.

Every test names the PROTOCOL.md rule it proves."""

import json
import queue
import threading
import time
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc

import hw
from google.rpc import error_details_pb2, status_pb2
from homeward.episodes.v1 import episodes_pb2 as pb
from homeward.episodes.v1 import episodes_pb2_grpc as pbg
from homeward.events.v1 import events_pb2, events_pb2_grpc

STACK = hw.Stack(services=('episodes',))
E = None          # the Episodes stub
W = {}            # the fixture world: ids and tokens


def setUpModule():
    global E
    STACK.start()
    E = pbg.EpisodesStub(STACK.channel('episodes'))
    _build_world()


def tearDownModule():
    STACK.stop()


def rid():
    return str(uuid.uuid4())


def md(token, purpose='test: safeguarding enquiry'):
    return STACK.metadata(token, purpose=purpose)


def call(method, request, token, purpose='test: safeguarding enquiry'):
    return getattr(E, method)(request, metadata=md(token, purpose), timeout=10)


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


def deliver(event_type, payload, subject=''):
    """Deliver an event to the service's EventSink as another service would."""
    stub = events_pb2_grpc.EventSinkStub(STACK.channel('episodes'))
    ev = events_pb2.Event(id=rid(), source=event_type.split('.')[0], type=event_type,
                          subject=subject, occurred_at_ms=int(time.time() * 1000),
                          payload_json=json.dumps(payload))
    return stub.Deliver(ev, metadata=md(W['service']), timeout=10), ev


def count(table, where='true', *params):
    return int(STACK.sql_one(f'SELECT count(*) FROM episodes.{table} WHERE {where}', *params))


def new_child(token=None, **kw):
    fields = dict(first_name='Alex', last_name='Fictional', date_of_birth='2010-04-01',
                  looked_after=True, responsible_authority='la-stoke')
    fields.update(kw)
    return call('UpsertChild', pb.UpsertChildRequest(request_id=rid(), child=pb.Child(**fields)),
                token or W['sw'])


def place(child_id, home_id, starts_at='2025-01-01T10:00:00Z', token=None, **kw):
    return call('UpsertPlacement', pb.UpsertPlacementRequest(
        request_id=rid(), placement=pb.Placement(child_id=child_id, home_id=home_id,
                                                 starts_at=starts_at,
                                                 placement_type="children's home", **kw)),
        token or W['sw'])


def report(child_id, token=None, request_id=None, **kw):
    fields = dict(child_id=child_id, last_seen_at='2026-01-10T21:30:00Z',
                  last_seen_place='bus station', clothing='grey hoodie',
                  circumstances='did not return after school', reporter_name='Carer One')
    fields.update(kw)
    return call('ReportMissing', pb.ReportMissingRequest(
        request_id=request_id or rid(), report=pb.MissingReport(**fields)),
        token or W['carer_a'])


def locate(episode_id, token=None):
    return call('MarkLocated', pb.MarkLocatedRequest(
        request_id=rid(), episode_id=episode_id,
        located=pb.Located(at='2026-01-11T08:00:00Z', place='friend\'s flat', by='PC Demo',
                           how=pb.RETURN_METHOD_POLICE)), token or W['officer'])


def _build_world():
    t = STACK.token
    W['csc'] = t('csc_lead', 'la-stoke', sub='csc-1')
    W['sw'] = t('social_worker', 'la-stoke', sub='sw-1')
    W['sw_leics'] = t('social_worker', 'la-leics', sub='sw-9')
    W['officer'] = t('police_officer', 'force-staffs', sub='pc-1')
    W['officer_llr'] = t('police_officer', 'force-llr', sub='pc-9')
    W['sergeant'] = t('lpt_sergeant', 'force-staffs', sub='sgt-1')
    W['service'] = t('service', 'homeward', sub='interviews')
    W['return_worker'] = t('return_interview_worker', 'la-stoke', sub='rw-1')
    home_a = call('UpsertHome', pb.UpsertHomeRequest(request_id=rid(), home=pb.Home(
        name='Willow House (demo)', address='1 Example Road', host_authority='la-stoke',
        spoc_officers=[pb.Professional(user_id='spoc-1', name='PC Spoc')])), W['csc'])
    home_b = call('UpsertHome', pb.UpsertHomeRequest(request_id=rid(), home=pb.Home(
        name='Birch Lodge (demo)', address='2 Example Road', host_authority='la-stoke')),
        W['csc'])
    W['home_a'], W['home_b'] = home_a.id, home_b.id
    W['spoc_a'] = t('spoc', 'force-staffs', homes=(home_a.id,), sub='spoc-1')
    W['spoc_llr'] = t('spoc', 'force-llr', homes=(home_b.id,), sub='spoc-9')
    W['carer_a'] = t('care_staff', 'provider-demo', homes=(home_a.id,), sub='carer-1')
    W['carer_b'] = t('care_staff', 'provider-demo', homes=(home_b.id,), sub='carer-2')


class Journey(unittest.TestCase):
    def test_R_EPI_3_R_DEF_2_absence_missing_located_closed(self):
        """R-DEF-2 absence with the carer's log, R-EPI-3 lifecycle to closure,
        R-DEF-1 missing until located (a missing episode cannot be closed),
        R-DEF-7 closure only after the prevention interview event."""
        child = new_child(first_name='Jordan')
        place(child.id, W['home_a'])
        ab = call('RecordAbsence', pb.RecordAbsenceRequest(
            request_id=rid(), child_id=child.id, away_since='2026-01-10T18:00:00Z',
            believed_location="aunt's house", carer_plan='collect at 21:00'), W['carer_a'])
        ep = ab.episode
        self.assertEqual(ep.status, pb.EPISODE_STATUS_ABSENT)
        self.assertEqual(ep.classification, pb.CLASSIFICATION_AWAY_FROM_PLACEMENT)
        call('AddAbsenceLog', pb.AddAbsenceLogRequest(
            request_id=rid(), episode_id=ep.id, at='2026-01-10T19:00:00Z',
            contact='rang aunt: not there', decision='report missing'), W['carer_a'])
        conv = call('ConvertAbsenceToMissing', pb.ConvertAbsenceToMissingRequest(
            request_id=rid(), episode_id=ep.id, report=pb.MissingReport(
                last_seen_at='2026-01-10T18:00:00Z', last_seen_place='gate',
                clothing='blue coat', circumstances='aunt has not seen them',
                reporter_name='Carer One')), W['carer_a'])
        self.assertEqual(conv.episode.status, pb.EPISODE_STATUS_MISSING)
        self.assertEqual(conv.episode.classification, pb.CLASSIFICATION_MISSING_FROM_CARE)
        self.assertTrue(conv.episode.was_missing)

        # R-DEF-7: a live missing record cannot be closed, even by a supervisor.
        code, _ = status_of(call, 'CloseEpisode', pb.CloseEpisodeRequest(
            request_id=rid(), episode_id=ep.id, reason='duplicate'), W['sergeant'])
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)

        located = locate(ep.id)
        self.assertEqual(located.episode.status, pb.EPISODE_STATUS_LOCATED)
        self.assertEqual(located.episode.located.how, pb.RETURN_METHOD_POLICE)
        self.assertEqual(located.episode.located.by, 'PC Demo')
        # An impossible transition (R-EPI-3): located twice.
        code, _ = status_of(locate, ep.id)
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)
        # Not yet: no prevention interview, and an officer is no supervisor.
        code, _ = status_of(call, 'CloseEpisode', pb.CloseEpisodeRequest(
            request_id=rid(), episode_id=ep.id), W['officer'])
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)

        resp, ev = deliver('interviews.prevention_submitted', {'episode_id': ep.id},
                           subject=f'episode:{ep.id}')
        self.assertFalse(resp.duplicate)
        closed = call('CloseEpisode', pb.CloseEpisodeRequest(request_id=rid(), episode_id=ep.id),
                      W['officer'])
        self.assertEqual(closed.episode.status, pb.EPISODE_STATUS_CLOSED)

        got = call('GetEpisode', pb.GetEpisodeRequest(episode_id=ep.id), W['sw'])
        kinds = [t.kind for t in got.timeline]
        self.assertEqual(kinds, ['absent', 'absence_log', 'missing', 'located',
                                 'prevention_interview', 'closed'])
        self.assertTrue(all(t.actor_id for t in got.timeline))
        self.assertTrue(all(t.at for t in got.timeline))
        # Events in the outbox: ids and facts, never names or dates of birth.
        rows = STACK.sql("SELECT type, payload::text FROM episodes.outbox WHERE subject = $1"
                         " ORDER BY seq", f'episode:{ep.id}')
        self.assertEqual([r[0] for r in rows], [
            'episodes.absence_recorded', 'episodes.updated', 'episodes.reported',
            'episodes.located', 'episodes.updated', 'episodes.closed'])
        for _, payload in rows:
            self.assertNotIn('Jordan', payload)
            self.assertNotIn('Fictional', payload)
            self.assertNotIn('2010-04-01', payload)
            p = json.loads(payload)
            self.assertEqual(p['episode_id'], ep.id)
            self.assertEqual(p['force'], 'force-staffs')
        # The same event again changes nothing.
        stub = events_pb2_grpc.EventSinkStub(STACK.channel('episodes'))
        again = stub.Deliver(ev, metadata=md(W['service']), timeout=10)
        self.assertTrue(again.duplicate)
        self.assertEqual(count('timeline', 'episode_id = $1::uuid', ep.id), 6)

    def test_R_DEF_7_supervisor_closes_with_reason(self):
        child = new_child(first_name='Sam')
        place(child.id, W['home_a'])
        ep = report(child.id).episode
        locate(ep.id)
        code, fields = status_of(call, 'CloseEpisode', pb.CloseEpisodeRequest(
            request_id=rid(), episode_id=ep.id), W['sergeant'])
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(fields, {'reason'})
        closed = call('CloseEpisode', pb.CloseEpisodeRequest(
            request_id=rid(), episode_id=ep.id, reason='child moved out of area'), W['sergeant'])
        self.assertEqual(closed.episode.status, pb.EPISODE_STATUS_CLOSED)
        self.assertEqual(closed.episode.close_reason, 'child moved out of area')
        # The long-term deadline (R-LONG-3) was cancelled when located.
        self.assertEqual(STACK.sql_one(
            "SELECT state FROM episodes.deadlines WHERE kind = 'long_term' AND subject = $1",
            f'episode:{ep.id}'), 'cancelled')

    def test_R_EPI_5_police_references_kept(self):
        """R-EPI-5: the police incident number and the missing persons
        database reference are kept."""
        child = new_child(first_name='Harper')
        place(child.id, W['home_a'])
        ep = report(child.id, police_incident_ref='INC-0001').episode
        self.assertEqual(ep.police_incident_ref, 'INC-0001')
        upd = call('UpdateEpisode', pb.UpdateEpisodeRequest(
            request_id=rid(), episode_id=ep.id, kind=pb.ENTRY_KIND_ACTION,
            text='circulated on the missing persons database', mispers_ref='MPD-42'), W['officer'])
        self.assertEqual((upd.episode.police_incident_ref, upd.episode.mispers_ref),
                         ('INC-0001', 'MPD-42'))

    def test_R_DEF_3_R_EPI_2_prefill_and_classification(self):
        """Pre-filled from the child and placement (R-EPI-2); a child not
        looked after is missing from home (R-DEF-3)."""
        child = new_child(first_name='Casey', description=pb.Description(height_cm=150, hair='brown'),
                          vulnerabilities='asthma attacks when anxious', mobile_number='07700900000')
        place(child.id, W['home_a'])
        r = report(child.id)
        self.assertEqual(r.episode.classification, pb.CLASSIFICATION_MISSING_FROM_CARE)
        self.assertTrue({'description', 'vulnerabilities', 'mobile_number', 'missing_from'}
                        <= set(r.prefilled))
        self.assertEqual(r.episode.report.description.height_cm, 150)
        self.assertIn('Willow House', r.episode.report.missing_from)
        self.assertEqual(r.episode.profile, 'STAFFS')

        home_child = new_child(W['officer'], first_name='Robin', looked_after=False,
                               responsible_authority='')
        r2 = report(home_child.id, token=W['officer'], missing_from='12 Demo Street')
        self.assertEqual(r2.episode.classification, pb.CLASSIFICATION_MISSING_FROM_HOME)
        self.assertEqual(r2.episode.force, 'force-staffs')


class BadInput(unittest.TestCase):
    def snapshot(self):
        # Regulation 41 deadlines of the 2025 placements fall due at once and
        # fire on the scheduler's own time, adding their overdue event
        # whenever they run: those rows are not the refused call's doing.
        return tuple(count(t) for t in ('episodes', 'timeline', 'changes', 'audit',
                                         'deadlines', 'children', 'placements')) + (
            count('outbox', "type <> 'episodes.reg41_overdue'"),)

    def test_R_EPI_1_missing_fields_named_nothing_written(self):
        """R-EPI-1: a report without what police need is refused, each
        missing field named, and nothing is written."""
        child = new_child(first_name='Morgan')
        place(child.id, W['home_a'])
        before = self.snapshot()
        code, fields = status_of(call, 'ReportMissing', pb.ReportMissingRequest(
            report=pb.MissingReport(child_id=child.id)), W['carer_a'])
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(fields, {'request_id', 'report.last_seen_at', 'report.last_seen_place',
                                  'report.clothing', 'report.circumstances',
                                  'report.reporter_name'})
        cases = [
            ('ReportMissing', pb.ReportMissingRequest(request_id=rid()), {'report'}),
            ('ReportMissing', pb.ReportMissingRequest(request_id=rid(), report=pb.MissingReport(
                child_id='not-a-uuid', last_seen_at='yesterday', last_seen_place='x',
                clothing='x', circumstances='x', reporter_name='x')),
             {'report.child_id', 'report.last_seen_at'}),
            ('ReportMissing', pb.ReportMissingRequest(request_id=rid(), report=pb.MissingReport(
                child_id=child.id, last_seen_at='2999-01-01T00:00:00Z', last_seen_place='x',
                clothing='x', circumstances='x', reporter_name='x')), {'report.last_seen_at'}),
            ('UpsertChild', pb.UpsertChildRequest(request_id=rid(), child=pb.Child(
                date_of_birth='2010-02-30', looked_after=True)),
             {'child.first_name', 'child.last_name', 'child.date_of_birth',
              'child.responsible_authority'}),
            ('UpsertChild', pb.UpsertChildRequest(request_id=rid(), child=pb.Child(
                first_name='A', last_name='B', date_of_birth='2010-01-01', looked_after=True,
                responsible_authority='la-nowhere')), {'child.responsible_authority'}),
            ('MarkLocated', pb.MarkLocatedRequest(request_id=rid(), episode_id=str(uuid.uuid4()),
                                                  located=pb.Located()),
             {'located.at', 'located.place', 'located.by', 'located.how'}),
            ('UpsertPlacement', pb.UpsertPlacementRequest(request_id=rid(), placement=pb.Placement(
                child_id=child.id, starts_at='2026-01-02T00:00:00Z',
                ends_at='2026-01-01T00:00:00Z')),
             {'placement.address', 'placement.ends_at'}),
            ('UpdateEpisode', pb.UpdateEpisodeRequest(request_id=rid(), episode_id='x'),
             {'episode_id', 'kind', 'text'}),
            ('ListEpisodes', pb.ListEpisodesRequest(page_token='garbage', page_size=9999),
             {'page_token', 'page_size'}),
            ('ExportStatutoryReturn', pb.ExportStatutoryReturnRequest(
                authority='la-stoke', period_start='2026-02-01', period_end='2026-01-01'),
             {'period_end'}),
        ]
        for method, req, want in cases:
            with self.subTest(method=method, want=want):
                token = W['csc'] if method == 'ExportStatutoryReturn' else W['sw']
                code, fields = status_of(call, method, req, token)
                self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
                self.assertEqual(fields, want)
        # No stated reason (R-SEC-2): refused before anything happens.
        code, fields = status_of(call, 'GetChild', pb.GetChildRequest(child_id=child.id),
                                 W['sw'], '')
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT, {'x-purpose'}))
        self.assertEqual(self.snapshot(), before)

    def test_R_EPI_1_missing_from_needed_without_placement_nothing_written(self):
        """R-EPI-1: with no placement to pre-fill from, where the child went
        missing from must be given."""
        child = new_child(W['officer'], first_name='Drew', looked_after=False,
                          responsible_authority='')
        before = self.snapshot()
        code, fields = status_of(report, child.id, W['officer'])
        self.assertEqual((code, fields), (grpc.StatusCode.INVALID_ARGUMENT,
                                          {'report.missing_from'}))
        self.assertEqual(self.snapshot(), before)

    def test_idempotent_repeat_returns_first_result(self):
        child = new_child(first_name='Riley')
        place(child.id, W['home_a'])
        request_id = rid()
        first = report(child.id, request_id=request_id)
        before = self.snapshot()
        second = report(child.id, request_id=request_id)
        self.assertEqual(first.episode.id, second.episode.id)
        self.assertEqual(first, second)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(count('episodes', 'child_id = $1::uuid', child.id), 1)
        # A new request for the same child is refused while the episode is open.
        code, _ = status_of(report, child.id)
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)


class Access(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.child = new_child(first_name='Quinn', health=pb.Health(medication='inhaler'),
                              beliefs=pb.Beliefs(religion='Quaker'),
                              cse=pb.CseMatters(concern=True, notes='older associates',
                                                trafficking_concern=True))
        place(cls.child.id, W['home_a'])
        cls.episode = report(cls.child.id).episode

    def test_R_SEC_1_permission_denied(self):
        ep = self.episode.id
        denied = [
            ('GetEpisode', pb.GetEpisodeRequest(episode_id=ep), W['officer_llr']),
            ('GetEpisode', pb.GetEpisodeRequest(episode_id=ep), W['sw_leics']),
            ('GetEpisode', pb.GetEpisodeRequest(episode_id=ep), W['carer_b']),
            ('GetChild', pb.GetChildRequest(child_id=self.child.id), W['carer_b']),
            ('GetHomeRoster', pb.GetHomeRosterRequest(home_id=W['home_a']), W['spoc_llr']),
            ('GetHomeRoster', pb.GetHomeRosterRequest(home_id=W['home_a']), W['carer_b']),
            ('GetHomeRoster', pb.GetHomeRosterRequest(home_id=W['home_a']), W['sw']),  # role
            ('ReportMissing', pb.ReportMissingRequest(request_id=rid()), W['return_worker']),
            ('CloseEpisode', pb.CloseEpisodeRequest(request_id=rid(), episode_id=ep), W['carer_a']),
            ('ExportStatutoryReturn', pb.ExportStatutoryReturnRequest(
                authority='la-stoke', period_start='2026-01-01', period_end='2026-12-31'),
             STACK.token('csc_lead', 'la-leics')),
            ('UpdateEpisode', pb.UpdateEpisodeRequest(
                request_id=rid(), episode_id=ep, kind=pb.ENTRY_KIND_NOTE, text='x'),
             W['officer_llr']),
        ]
        before = count('timeline')
        for method, req, token in denied:
            with self.subTest(method=method):
                code, _ = status_of(call, method, req, token)
                self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(count('timeline'), before)
        # ...and the people R-SEC-1 names do see it.
        for token in (W['officer'], W['sw'], W['carer_a'], W['spoc_a']):
            got = call('GetEpisode', pb.GetEpisodeRequest(episode_id=ep), token)
            self.assertEqual(got.episode.id, ep)

    def test_R_SEC_3_special_categories_by_role(self):
        def child_as(token):
            return call('GetChild', pb.GetChildRequest(child_id=self.child.id), token)
        officer = child_as(W['officer'])
        self.assertEqual(officer.health.medication, 'inhaler')
        self.assertEqual(officer.beliefs.religion, 'Quaker')
        self.assertTrue(officer.cse.concern)
        self.assertTrue(officer.cse.trafficking_concern)    # R-RISK-10 needs it
        self.assertEqual(list(officer.withheld), [])
        spoc = child_as(W['spoc_a'])
        self.assertFalse(spoc.HasField('health'))
        self.assertFalse(spoc.HasField('beliefs'))
        self.assertTrue(spoc.cse.concern)
        self.assertEqual(set(spoc.withheld), {'health', 'beliefs'})
        carer = child_as(W['carer_a'])
        self.assertEqual(carer.health.medication, 'inhaler')
        self.assertFalse(carer.HasField('cse'))      # the trafficking flag with it
        self.assertEqual(set(carer.withheld), {'cse'})
        # The stored report was pre-filled with health; the SPOC does not see it.
        ep = call('GetEpisode', pb.GetEpisodeRequest(episode_id=self.episode.id), W['spoc_a'])
        self.assertFalse(ep.episode.report.HasField('health'))
        self.assertIn('health', ep.episode.withheld)
        ep = call('GetEpisode', pb.GetEpisodeRequest(episode_id=self.episode.id), W['officer'])
        self.assertEqual(ep.episode.report.health.medication, 'inhaler')
        # A caller who may not see a group cannot wipe it by saving the record.
        spoc_view = child_as(W['sw'])
        spoc_view.ClearField('health')
        spoc_view.ClearField('withheld')
        spoc_view.ClearField('updated_at')
        spoc_view.ClearField('current_placement')
        spoc_view.age_years = 0
        call('UpsertChild', pb.UpsertChildRequest(request_id=rid(), child=spoc_view),
             STACK.token('csc_lead', 'la-stoke'))
        self.assertEqual(child_as(W['officer']).health.medication, 'inhaler')

    def test_R_SEC_2_reads_audited_with_reason(self):
        call('GetChild', pb.GetChildRequest(child_id=self.child.id), W['officer'],
             'locating a missing child')
        rows = STACK.sql("SELECT subject, purpose FROM episodes.audit WHERE record_id = $1"
                         " AND purpose = 'locating a missing child'", self.child.id)
        self.assertEqual(rows, [('pc-1', 'locating a missing child')])

    def test_R_SEC_2_concurrent_reads_each_audited_exactly(self):
        # Reads' rows are written in shared commits (group commit): forty
        # reads at once, each with its own reason, leave forty rows, each
        # exactly as stated, with the caller's request id.
        tag = rid()[:8]
        purposes = [f'enquiry {tag} #{i}: "quoted", {{braced}}, back\\slash' for i in range(40)]

        def read(i):
            meta = STACK.metadata(W['officer'], purposes[i], request_id=f'{tag}-{i}')
            return E.GetChild(pb.GetChildRequest(child_id=self.child.id), metadata=meta, timeout=10)

        with ThreadPoolExecutor(max_workers=20) as pool:
            got = list(pool.map(read, range(40)))
        self.assertEqual({c.id for c in got}, {self.child.id})
        rows = STACK.sql("SELECT purpose, request_id, subject, record_type, action FROM episodes.audit"
                         " WHERE record_id = $1 AND request_id LIKE $2 ORDER BY request_id",
                         self.child.id, f'{tag}-%')
        self.assertEqual(sorted(rows), sorted(
            (purposes[i], f'{tag}-{i}', 'pc-1', 'child', '/homeward.episodes.v1.Episodes/GetChild')
            for i in range(40)))

    def test_R_SEC_2_read_given_up_while_its_audit_row_waits(self):
        # The audit table is locked, so the read's row cannot be committed; the
        # caller's deadline passes first and it gets nothing. Once the lock
        # goes the row is written (the record was read), the late answer goes
        # nowhere, and the service goes on answering.
        tag = rid()
        holder = threading.Thread(target=STACK.sql, args=(
            'BEGIN; LOCK TABLE episodes.audit IN EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT;',))
        holder.start()
        try:
            time.sleep(0.5)
            code, _ = status_of(E.GetChild, pb.GetChildRequest(child_id=self.child.id),
                                metadata=md(W['officer'], tag), timeout=0.8)
            self.assertEqual(code, grpc.StatusCode.DEADLINE_EXCEEDED)
        finally:
            holder.join()
        deadline = time.time() + 10
        while count('audit', 'purpose = $1', tag) == 0 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(count('audit', 'purpose = $1', tag), 1)
        got = E.GetChild(pb.GetChildRequest(child_id=self.child.id), metadata=md(W['officer'], tag),
                         timeout=10)
        self.assertEqual(got.id, self.child.id)
        self.assertEqual(count('audit', 'purpose = $1', tag), 2)

    def test_R_SEC_2_no_audit_row_no_answer(self):
        # When the audit row cannot be written the read shows nothing.
        tag = rid()
        STACK.sql('REVOKE INSERT ON episodes.audit FROM homeward_episodes')
        try:
            code, _ = status_of(E.GetChild, pb.GetChildRequest(child_id=self.child.id),
                                metadata=md(W['officer'], tag), timeout=10)
            self.assertEqual(code, grpc.StatusCode.UNAVAILABLE)
            code, _ = status_of(E.GetHomeRoster, pb.GetHomeRosterRequest(home_id=W['home_a']),
                                metadata=md(W['spoc_a'], tag), timeout=10)
            self.assertEqual(code, grpc.StatusCode.UNAVAILABLE)
        finally:
            STACK.sql('GRANT INSERT ON episodes.audit TO homeward_episodes')
        self.assertEqual(count('audit', 'purpose = $1', tag), 0)
        got = E.GetChild(pb.GetChildRequest(child_id=self.child.id), metadata=md(W['officer'], tag),
                         timeout=10)
        self.assertEqual(got.id, self.child.id)
        self.assertEqual(count('audit', 'purpose = $1', tag), 1)


class RosterAndCounts(unittest.TestCase):
    def test_R_SPOC_1_roster_as_the_spoc_sees_it(self):
        child = new_child(first_name='Avery', last_name='Aardvark-Demo')
        place(child.id, W['home_a'], starts_at='2026-01-01T00:00:00Z')
        ep = report(child.id).episode
        deliver('risk.level_changed', {'episode_id': ep.id, 'child_id': child.id,
                                       'level': 'high', 'scale_version': 'staffs-2019'})
        roster = call('GetHomeRoster', pb.GetHomeRosterRequest(), W['spoc_a'])
        self.assertEqual([h.home.id for h in roster.homes], [W['home_a']])
        entries = {c.child_id: c for c in roster.homes[0].children}
        e = entries[child.id]
        self.assertEqual(e.current_status, pb.EPISODE_STATUS_MISSING)
        self.assertEqual(e.open_episode_id, ep.id)
        self.assertEqual(e.risk_level, 'high')
        self.assertEqual(e.missing_90_days, 1)
        self.assertFalse(e.repeat_missing)
        self.assertEqual(e.reg41_status, pb.REG41_STATUS_OVERDUE)  # placed long ago, never sent
        self.assertEqual(roster.homes[0].home.spoc_officers[0].user_id, 'spoc-1')
        # Nobody else's children are on it.
        self.assertNotIn('Birch', roster.homes[0].home.name)
        # Risk change is on the timeline (received from the risk service).
        got = call('GetEpisode', pb.GetEpisodeRequest(episode_id=ep.id), W['spoc_a'])
        self.assertIn('risk_changed', [t.kind for t in got.timeline])
        self.assertEqual(got.episode.risk_level, 'high')

    def test_R_EPI_4_R_DEF_4_counts_as_of_a_date(self):
        child = new_child(first_name='Blake')
        place(child.id, W['home_b'])
        # Earlier episodes, loaded directly: missing at -10 d, -100 d, -400 d and
        # an absence at -5 d, relative to 2026-06-30T12:00Z.
        for when, missing in (('2026-06-20T12:00:00Z', True), ('2026-03-22T12:00:00Z', True),
                              ('2025-05-26T12:00:00Z', True), ('2026-06-25T12:00:00Z', False)):
            STACK.sql("INSERT INTO episodes.episodes (child_id, status, classification,"
                      " was_missing, force, profile, reported_by_id, reported_at)"
                      " VALUES ($1::uuid, 'closed', $2, $3::bool, 'force-staffs', 'STAFFS',"
                      " 'loader', $4::timestamptz)", child.id,
                      'missing_from_care' if missing else 'away_from_placement',
                      'true' if missing else 'false', when)

        def counts(as_of):
            return call('GetChildCounts', pb.GetChildCountsRequest(child_id=child.id, as_of=as_of),
                        W['service'])
        c = counts('2026-06-30T12:00:00Z')
        self.assertEqual((c.missing_90_days, c.missing_12_months, c.absences_90_days,
                          c.absences_12_months, c.repeat_missing), (1, 2, 1, 1, True))
        # As of a date before the second episode: once in 12 months, not repeat (R-DEF-4).
        c = counts('2026-06-01T00:00:00Z')
        self.assertEqual((c.missing_90_days, c.missing_12_months, c.repeat_missing), (1, 1, False))
        # Exactly 12 months after the oldest: it has left the window.
        c = counts('2026-05-26T12:00:00Z')
        self.assertEqual(c.missing_12_months, 1)

    def test_R_EPI_7_statutory_return(self):
        child = new_child(first_name='Charlie')
        place(child.id, W['home_b'])
        ab = call('RecordAbsence', pb.RecordAbsenceRequest(
            request_id=rid(), child_id=child.id, away_since='2026-01-10T18:00:00Z',
            believed_location='cinema'), STACK.token('care_staff', 'p', homes=(W['home_b'],)))
        rows = call('ExportStatutoryReturn', pb.ExportStatutoryReturnRequest(
            authority='la-stoke', period_start='2000-01-01', period_end='2099-12-31'),
            W['csc']).rows
        mine = [r for r in rows if r.child_id == child.id]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0].type, 'A')
        self.assertEqual(mine[0].end_date, '')
        self.assertTrue(any(r.type == 'M' for r in rows))
        self.assertTrue(all(r.start_date for r in rows))
        self.assertTrue(ab.episode.id)

    def test_list_episodes_stable_pages(self):
        child = new_child(first_name='Dana')
        for i in range(7):
            STACK.sql("INSERT INTO episodes.episodes (child_id, status, classification,"
                      " was_missing, force, profile, reported_by_id, reported_at)"
                      " VALUES ($1::uuid, 'closed', 'missing_from_care', true, 'force-staffs',"
                      " 'STAFFS', 'loader', timestamptz '2025-01-01' + $2::int * interval '1 hour')",
                      child.id, i // 2)  # pairs share a reported_at: the id breaks the tie
        seen, token = [], ''
        for _ in range(10):
            page = call('ListEpisodes', pb.ListEpisodesRequest(child_id=child.id, page_size=3,
                                                               page_token=token), W['officer'])
            seen += [e.id for e in page.episodes]
            token = page.next_page_token
            if not token:
                break
        self.assertEqual(len(seen), 7)
        self.assertEqual(len(set(seen)), 7)
        # Another force sees none of them (R-SEC-1).
        other = call('ListEpisodes', pb.ListEpisodesRequest(child_id=child.id), W['officer_llr'])
        self.assertEqual(len(other.episodes), 0)


class Watch(unittest.TestCase):
    def open(self, token, cursor=''):
        q = queue.Queue()
        stream = E.WatchEpisodes(pb.WatchEpisodesRequest(after_cursor=cursor),
                                 metadata=md(token))

        def pump():
            try:
                for m in stream:
                    q.put(m)
            except grpc.RpcError as e:
                q.put(e)
        threading.Thread(target=pump, daemon=True).start()
        return stream, q

    def next_change(self, q, timeout=5.0):
        m = q.get(timeout=timeout)
        if isinstance(m, Exception):
            raise m
        return m

    def test_R_EPI_6_push_and_resume_without_loss_or_repeat(self):
        spoc, q = self.open(W['spoc_a'])
        other, q_other = self.open(W['officer_llr'])
        started = self.next_change(q)
        self.assertEqual(started.change, 'watch.started')
        self.assertEqual(self.next_change(q_other).change, 'watch.started')

        child = new_child(first_name='Eden')
        place(child.id, W['home_a'])
        t0 = time.monotonic()
        ep = report(child.id).episode
        m = self.next_change(q)
        while m.episode.id != ep.id:
            m = self.next_change(q)
        self.assertEqual(m.change, 'episodes.reported')
        self.assertLess(time.monotonic() - t0, 3.0)   # within seconds, by push
        self.assertEqual(m.episode.child_name, 'Eden Fictional')
        last = m.cursor

        spoc.cancel()
        # While disconnected: three changes.
        for i in range(3):
            call('UpdateEpisode', pb.UpdateEpisodeRequest(
                request_id=rid(), episode_id=ep.id, kind=pb.ENTRY_KIND_SIGHTING,
                text=f'seen at shop {i}'), W['officer'])
        resumed, q2 = self.open(W['spoc_a'], cursor=last)
        self.assertEqual(self.next_change(q2).change, 'watch.started')
        got = []
        while len(got) < 3:
            m = self.next_change(q2)
            if m.episode.id == ep.id:
                got.append(m)
        self.assertEqual([m.change for m in got], ['episodes.updated'] * 3)
        cursors = [int(m.cursor) for m in got]
        self.assertEqual(cursors, sorted(set(cursors)))
        self.assertGreater(cursors[0], int(last))
        # Nothing more, and nothing repeated.
        with self.assertRaises(queue.Empty):
            while True:
                m = self.next_change(q2, timeout=1.5)
                self.assertNotEqual(m.episode.id, ep.id)
        # Another force's officer never saw this child's episode (R-SEC-1).
        seen_other = []
        while not q_other.empty():
            m = q_other.get()
            if not isinstance(m, Exception):
                seen_other.append(m.episode.id)
        self.assertNotIn(ep.id, seen_other)
        resumed.cancel()
        other.cancel()


if __name__ == '__main__':
    unittest.main()
