"""interviews_client.py -- helpers shared by the test_interviews_*.py client tests.

Plain Python over the generated stubs: delivering an "episodes.located"
event, finding an episode's interviews, building forms, reading the
google.rpc.BadRequest of a refused call.
"""

import datetime
import json
import time
import uuid

import grpc

from google.rpc import error_details_pb2, status_pb2
from homeward.events.v1 import events_pb2, events_pb2_grpc
from homeward.interviews.v1 import interviews_pb2 as pb
from homeward.interviews.v1 import interviews_pb2_grpc as rpc

HOUR_MS = 3600 * 1000
FORCE = 'force-staffs'
AUTHORITY = 'la-stoke'


def now_ms():
    return int(time.time() * 1000)


def rfc3339(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return d.strftime('%Y-%m-%dT%H:%M:%S.') + f'{ms % 1000:03d}Z'


def rid():
    return str(uuid.uuid4())


class Client:
    """Calls on one Stack's interviews service as different people."""

    def __init__(self, stack):
        self.stack = stack
        self.stub = rpc.InterviewsStub(stack.channel('interviews'))
        self.sink = events_pb2_grpc.EventSinkStub(stack.channel('interviews'))

    def md(self, role, org, homes=(), sub=None, purpose='return interview follow-up'):
        return self.stack.metadata(self.stack.token(role, org, homes=homes, sub=sub), purpose)

    def located(self, located_at_ms, profile='STAFFS', placement_type='foster', home_id='home-1',
                authority=AUTHORITY, force=FORCE, officer='pc-1', event_id=None, episode_id=None,
                child_id=None):
        """Deliver episodes.located as the episodes service would; returns
        (episode_id, child_id, event_id, DeliverResponse)."""
        episode_id = episode_id or str(uuid.uuid4())
        child_id = child_id or str(uuid.uuid4())
        event_id = event_id or str(uuid.uuid4())
        payload = {
            'episode_id': episode_id, 'child_id': child_id, 'home_id': home_id,
            'responsible_authority': authority, 'force': force, 'assigned_officer': officer,
            'located_at': rfc3339(located_at_ms), 'profile': profile,
            'placement_type': placement_type,
        }
        ev = events_pb2.Event(id=event_id, source='episodes', type='episodes.located',
                              subject=f'episode:{episode_id}', occurred_at_ms=located_at_ms,
                              payload_json=json.dumps(payload))
        tok = self.stack.token('service', 'homeward', sub='service:episodes')
        r = self.sink.Deliver(ev, metadata=self.stack.metadata(tok, 'event delivery'), timeout=10)
        return episode_id, child_id, event_id, r

    def interview_ids(self, episode_id):
        rows = self.stack.sql('SELECT kind, id::text FROM interviews.interviews WHERE episode_id = $1',
                              episode_id)
        return dict(rows)

    def events(self, episode_id, type_=None):
        rows = self.stack.sql("SELECT type, payload::text FROM interviews.outbox "
                              "WHERE payload->>'episode_id' = $1 ORDER BY seq", episode_id)
        out = [(t, json.loads(p)) for t, p in rows]
        return [e for e in out if type_ is None or e[0] == type_]

    def consent(self, interview_id, md, given=True):
        return self.stub.RecordConsent(pb.RecordConsentRequest(
            request_id=rid(), interview_id=interview_id,
            consent=pb.Consent(shared_with='social worker and police',
                               when_shared='within a day of the interview',
                               why_shared='to keep you safe and plan support',
                               consent_given=given)), metadata=md, timeout=10)


def prevention_form(at_ms, disclosures=(), details=''):
    return pb.PreventionInterviewForm(
        interview_at_ms=at_ms, location='placement lounge',
        reasons_for_going=pb.ReasonsForGoing(life_pressures='argument with carer'),
        circumstances_while_away=pb.CircumstancesWhileAway(who_with='two older friends',
                                                           where_stayed='a friend\'s flat'),
        reasons_for_returning=pb.ReasonsForReturning(why_returned='ran out of money', traced_by='POLICE'),
        vulnerability=pb.VulnerabilityIssues(injuries='none seen'),
        disclosures=list(disclosures), disclosure_details=details)


def return_form(contact_at_ms, **kw):
    f = pb.ReturnInterviewForm(
        case_worker='rw-1', contact_at_ms=contact_at_ms, conducted_with='CHILD', seen_independently='YES',
        method='FACE_TO_FACE', location='SCHOOL', ran_from='FOSTER_CARE', closed_after_interview='NO',
        push_pull_factors='wanted to see friends', contributory_factors=['FRIENDS_PEERS'],
        reasons_for_running=['PEER_PRESSURE'], locations_visited=['TOWN_CENTRE'],
        impact=['ADVICE_GUIDANCE', 'SENT_TO_SOCIAL_CARE_AND_POLICE'], date_of_missing='2025-01-01')
    for k, v in kw.items():
        if isinstance(v, list):
            del getattr(f, k)[:]
            getattr(f, k).extend(v)
        else:
            setattr(f, k, v)
    return f


def violations(err):
    """Field violations of a refused call: {field: description}."""
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


def code_of(fn):
    """Call fn; return the grpc.RpcError it raised (or fail)."""
    try:
        fn()
    except grpc.RpcError as e:
        return e
    raise AssertionError('call succeeded but should have been refused')
