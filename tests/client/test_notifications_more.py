"""test_notifications_more.py -- notifications paths seen by an independent client.

Against the real notifications and episodes services: the level 3 letter to
a placing authority (R-ESC-3) from a "meetings.level3_letter" event as the
meetings service publishes it; the Regulation 41 overdue notification
(R-NOT-4) from a placement the real episodes service finds overdue; a
missing-child alert (R-NOT-5) for a child missing four days.
"""

import json
import time
import unittest
import uuid
from datetime import datetime, timedelta, timezone

import grpc

import hw
from homeward.episodes.v1 import episodes_pb2 as ep
from homeward.episodes.v1 import episodes_pb2_grpc as ep_grpc
from homeward.events.v1 import events_pb2, events_pb2_grpc
from homeward.notifications.v1 import notifications_pb2 as nt
from homeward.notifications.v1 import notifications_pb2_grpc as nt_grpc

STACK = hw.Stack(services=('episodes', 'notifications'))


def setUpModule():
    STACK.start()


def tearDownModule():
    STACK.stop()


def rid():
    return str(uuid.uuid4())


def ts(dt):
    return dt.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000Z')


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError(f'timed out waiting for {what}')


def notes():
    return nt_grpc.NotificationsStub(STACK.channel('notifications'))


def inbox(token):
    return notes().ListInbox(nt.ListInboxRequest(page_size=200),
                             metadata=STACK.metadata(token), timeout=10).notifications


class World:
    """A home in la-stoke with a SPOC, and a looked-after child placed there
    with a social worker, team manager and IRO, set up through episodes."""

    def __init__(self, tag, placing='la-stoke', placed_hours_ago=2):
        self.md = STACK.metadata(STACK.token('service', 'homeward', sub='service:test'),
                                 purpose='test set-up')
        self.eps = ep_grpc.EpisodesStub(STACK.channel('episodes'))
        self.tag = tag
        self.spoc, self.sw, self.tm, self.iro = (f'spoc-{tag}', f'sw-{tag}', f'tm-{tag}',
                                                 f'iro-{tag}')
        self.placing = placing
        home = self.eps.UpsertHome(ep.UpsertHomeRequest(request_id=rid(), home=ep.Home(
            name=f'Home {tag}', host_authority='la-stoke', address='1 Test Lane',
            spoc_officers=[ep.Professional(user_id=self.spoc, name='PC Spoc')])),
            metadata=self.md, timeout=10)
        self.home_id = home.id
        c = self.eps.UpsertChild(ep.UpsertChildRequest(request_id=rid(), child=ep.Child(
            first_name='Test', last_name='Child', date_of_birth='2010-07-09', looked_after=True,
            responsible_authority=placing,
            social_worker=ep.Professional(user_id=self.sw, name='A Social Worker'),
            team_manager=ep.Professional(user_id=self.tm, name='A Team Manager'),
            iro=ep.Professional(user_id=self.iro, name='An IRO'))),
            metadata=self.md, timeout=10)
        self.child_id = c.id
        p = self.eps.UpsertPlacement(ep.UpsertPlacementRequest(
            request_id=rid(), placement=ep.Placement(
                child_id=c.id, home_id=self.home_id, placement_type="children's home",
                starts_at=ts(datetime.now(timezone.utc) - timedelta(hours=placed_hours_ago)),
                placing_authority=placing, responsible_authority=placing)),
            metadata=self.md, timeout=10)
        self.placement_id = p.id

    def report(self):
        r = self.eps.ReportMissing(ep.ReportMissingRequest(request_id=rid(), report=ep.MissingReport(
            child_id=self.child_id,
            last_seen_at=ts(datetime.now(timezone.utc) - timedelta(hours=1)),
            last_seen_place='railway station', clothing='blue coat',
            circumstances='did not come back from school', reporter_name='Day carer')),
            metadata=self.md, timeout=10)
        return r.episode.id


class NotificationsMore(unittest.TestCase):

    def test_R_ESC_3_level3_letter_to_placing_authority_copied_to_police(self):
        """R-ESC-3: a level 3 escalation for a child placed here by another
        authority writes to that authority's designated safeguarding lead,
        copied to the police missing person champion; readable by those
        organisations only; a repeated event writes nothing more."""
        w = World('esc3', placing='la-wessex')
        meeting_id = rid()
        # The payload exactly as services/meetings/intake.c builds it.
        payload = json.dumps({'child_id': w.child_id, 'episode_id': '', 'meeting_id': meeting_id,
                              'placing_authority': 'la-wessex',
                              'responsible_authority': 'la-wessex',
                              'copy_to': 'missing_person_coordinator', 'force': 'force-staffs',
                              'episodes_in_90_days': 6}, separators=(',', ':'))
        event_id = rid()
        event = events_pb2.Event(id=event_id, source='meetings', type='meetings.level3_letter',
                                 subject=f'meeting:{meeting_id}',
                                 occurred_at_ms=int(time.time() * 1000), payload_json=payload)
        sink = events_pb2_grpc.EventSinkStub(STACK.channel('notifications'))
        svc_md = STACK.metadata(STACK.token('service', 'homeward', sub='service:meetings'))
        first = sink.Deliver(event, metadata=svc_md, timeout=15)
        self.assertFalse(first.duplicate)

        stub = notes()
        wessex = STACK.token('csc_lead', 'la-wessex', sub='lead-wessex-esc3')
        letters = stub.ListLetters(nt.ListLettersRequest(
            child_id=w.child_id, kind=nt.LETTER_KIND_LEVEL3_ESCALATION),
            metadata=STACK.metadata(wessex, 'R-ESC-3'), timeout=10).letters
        self.assertEqual(len(letters), 1)
        letter = letters[0]
        self.assertEqual(letter.rule, 'R-ESC-3')
        self.assertEqual(letter.event_id, event_id)
        self.assertEqual((letter.from_authority, letter.to_authority), ('la-stoke', 'la-wessex'))
        self.assertEqual(letter.addressee, 'Designated Safeguarding Lead')
        self.assertEqual(letter.copy_to, 'Police missing person champion (force-staffs)')

        full = stub.GetLetter(nt.GetLetterRequest(letter_id=letter.id),
                              metadata=STACK.metadata(wessex, 'R-ESC-3 letter'), timeout=10)
        self.assertIn('To: Designated Safeguarding Lead, la-wessex', full.text)
        self.assertIn('Copy: Police missing person champion, force-staffs', full.text)
        self.assertIn('Test Child', full.text)
        self.assertIn('2010-07-09', full.text)
        self.assertIn('Home esc3, 1 Test Lane', full.text)
        self.assertNotIn('{{', full.text)
        self.assertTrue(full.pdf.startswith(b'%PDF-'), full.pdf[:16])
        self.assertIn(b'(To: Designated Safeguarding Lead, la-wessex) Tj', full.pdf)
        # The copied force may read it too; another authority may not.
        police = STACK.token('missing_person_coordinator', 'force-staffs', sub='mpc-esc3')
        copy = stub.GetLetter(nt.GetLetterRequest(letter_id=letter.id),
                              metadata=STACK.metadata(police, 'R-ESC-3 copy'), timeout=10)
        self.assertEqual(copy.text, full.text)
        with self.assertRaises(grpc.RpcError) as cm:
            stub.GetLetter(nt.GetLetterRequest(letter_id=letter.id), metadata=STACK.metadata(
                STACK.token('csc_lead', 'la-leics', sub='lead-leics-esc3'), 'curious'),
                timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        # Its e-mail to the placing authority's safeguarding lead waits (no relay).
        self.assertEqual(len(full.external_message_ids), 1)
        row = STACK.sql("SELECT to_authority, reason, status FROM notifications.external_messages"
                        " WHERE id = $1", full.external_message_ids[0])
        self.assertEqual(row, [('la-wessex', 'placing_authority_letter', 'pending')])

        # Those the rule names are told, the placing authority's lead included.
        note = wait_for(lambda: [n for n in inbox(wessex) if n.event_id == event_id], 10,
                        'the level 3 notification')
        self.assertEqual(len(note), 1)
        self.assertEqual((note[0].kind, note[0].rule, note[0].letter_id),
                         ('level3_escalation', 'R-ESC-3', letter.id))
        reasons = {r.address: r.reason for r in note[0].recipients}
        self.assertEqual(reasons.get(f'user:{w.sw}'), 'social_worker')
        self.assertEqual(reasons.get(f'user:{w.iro}'), 'iro')
        self.assertEqual(reasons.get('role:missing_person_coordinator@force-staffs'),
                         'missing_person_coordinator')
        self.assertEqual(reasons.get('role:csc_lead@la-wessex'), 'csc_lead')
        self.assertIn(event_id, [n.event_id for n in inbox(police)])

        # The relay retries the same event: nothing new.
        again = sink.Deliver(event, metadata=svc_md, timeout=15)
        self.assertTrue(again.duplicate)
        self.assertEqual(STACK.sql_one("SELECT count(*) FROM notifications.letters"
                                       " WHERE child_id = $1", w.child_id), '1')
        self.assertEqual(STACK.sql_one("SELECT count(*) FROM notifications.notifications"
                                       " WHERE event_id = $1", event_id), '1')
        self.assertEqual(STACK.sql_one("SELECT count(*) FROM notifications.external_messages"
                                       " WHERE letter_id = $1", letter.id), '1')

    def test_R_NOT_4_reg41_overdue_reaches_home_staff_sw_tm_spoc(self):
        """R-NOT-4: a placement whose Regulation 41 notification is 24 hours
        overdue: episodes publishes episodes.reg41_overdue, and the home's
        staff, the social worker, the team manager and the SPOC are told."""
        w = World('not4', placed_hours_ago=30)
        sw = STACK.token('social_worker', 'la-stoke', sub=w.sw)
        got = wait_for(lambda: [n for n in inbox(sw) if n.kind == 'reg41_overdue'], 60,
                       'the reg41_overdue notification')
        self.assertEqual(len(got), 1)
        n = got[0]
        self.assertEqual(n.rule, 'R-NOT-4')
        self.assertEqual(n.subject, f'placement:{w.placement_id}')
        self.assertEqual(n.child_id, w.child_id)
        self.assertEqual({r.address: r.reason for r in n.recipients}, {
            f'home-staff:{w.home_id}': 'home_staff', f'user:{w.sw}': 'social_worker',
            f'user:{w.tm}': 'team_manager', f'user:{w.spoc}': 'spoc'})
        # The event is the one episodes built (its payload as in store.c).
        payload = json.loads(STACK.sql_one(
            "SELECT payload FROM episodes.outbox WHERE type = 'episodes.reg41_overdue'"
            " AND subject = $1", f'placement:{w.placement_id}'))
        self.assertEqual((payload['placement_id'], payload['home_id'], payload['spoc_ids']),
                         (w.placement_id, w.home_id, [w.spoc]))
        for tok in (STACK.token('team_manager', 'la-stoke', sub=w.tm),
                    STACK.token('spoc', 'force-staffs', sub=w.spoc),
                    STACK.token('care_staff', 'la-stoke', homes=(w.home_id,), sub='carer-not4')):
            self.assertEqual([x.id for x in inbox(tok) if x.kind == 'reg41_overdue'], [n.id])
        # Not the IRO, nor staff of another home.
        for tok in (STACK.token('iro', 'la-stoke', sub=w.iro),
                    STACK.token('care_staff', 'la-stoke', homes=(rid(),), sub='carer-other')):
            self.assertEqual([x for x in inbox(tok) if x.kind == 'reg41_overdue'], [])

    def test_R_NOT_5_missing_alert_for_child_missing_four_days(self):
        """R-NOT-5: an unaccompanied asylum-seeking child missing four days:
        an authorised role raises an alert to the authority's missing-children
        mailbox, the case owners are told; an unauthorised role is refused,
        as is a CSE ground while the risk is not high."""
        w = World('not5')
        episode = w.report()
        four_days_ago = ts(datetime.now(timezone.utc) - timedelta(days=4, hours=1))
        # Set-up: the report made four days ago (episodes records "now").
        STACK.sql("UPDATE episodes.episodes SET reported_at = $1::timestamptz,"
                  " missing_since = $1::timestamptz WHERE id = $2::uuid", four_days_ago, episode)
        stub = notes()
        tm = STACK.token('team_manager', 'la-stoke', sub=w.tm)
        req = nt.RaiseMissingAlertRequest(request_id=rid(), episode_id=episode,
                                          ground=nt.ALERT_GROUND_UNACCOMPANIED_ASYLUM_SEEKER,
                                          scope=nt.ALERT_SCOPE_NATIONAL,
                                          rationale='may be moved out of the area')
        for tok in (STACK.token('care_staff', 'la-stoke', sub='carer-not5'),
                    STACK.token('team_manager', 'la-leics', sub='tm-leics')):
            with self.assertRaises(grpc.RpcError) as cm:
                stub.RaiseMissingAlert(req, metadata=STACK.metadata(tok, 'R-NOT-5'), timeout=10)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        cse = nt.RaiseMissingAlertRequest(request_id=rid(), episode_id=episode,
                                          ground=nt.ALERT_GROUND_HIGH_RISK_CSE,
                                          scope=nt.ALERT_SCOPE_NATIONAL, rationale='cse')
        with self.assertRaises(grpc.RpcError) as cm:
            stub.RaiseMissingAlert(cse, metadata=STACK.metadata(tm, 'R-NOT-5'), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(STACK.sql_one("SELECT count(*) FROM notifications.letters"
                                       " WHERE episode_id = $1", episode), '0')

        alert = stub.RaiseMissingAlert(req, metadata=STACK.metadata(tm, 'R-NOT-5'), timeout=15)
        self.assertEqual(alert.episode_id, episode)
        self.assertEqual(alert.child_id, w.child_id)
        self.assertEqual(alert.days_missing, 4)
        self.assertEqual(alert.raised_by, w.tm)
        self.assertEqual(len(alert.letter_id), 36)
        # The same request again: the first answer, nothing new.
        again = stub.RaiseMissingAlert(req, metadata=STACK.metadata(tm, 'R-NOT-5'), timeout=15)
        self.assertEqual((again.id, again.letter_id), (alert.id, alert.letter_id))

        lead = STACK.token('csc_lead', 'la-stoke', sub='lead-not5')
        letter = stub.GetLetter(nt.GetLetterRequest(letter_id=alert.letter_id),
                                metadata=STACK.metadata(lead, 'R-NOT-5 letter'), timeout=10)
        self.assertEqual(letter.kind, nt.LETTER_KIND_MISSING_ALERT)
        self.assertEqual((letter.from_authority, letter.to_authority), ('la-stoke', 'national'))
        self.assertTrue(letter.pdf.startswith(b'%PDF-'))
        self.assertIn('may be moved out of the area', letter.text)
        # Sent to the authority's own missing-children mailbox (pending: no relay).
        self.assertEqual(STACK.sql("SELECT channel, to_authority, reason, status"
                                   " FROM notifications.external_messages WHERE letter_id = $1",
                                   alert.letter_id),
                         [('email', 'la-stoke', 'missing_alert', 'pending')])
        # The case owners hear of it: the social worker and the authority's lead.
        for tok in (STACK.token('social_worker', 'la-stoke', sub=w.sw), lead):
            raised = [n for n in inbox(tok) if n.kind == 'missing_alert_raised']
            self.assertEqual(len(raised), 1)
            self.assertEqual((raised[0].rule, raised[0].episode_id, raised[0].letter_id),
                             ('R-NOT-5', episode, alert.letter_id))
        self.assertEqual([n for n in inbox(STACK.token('spoc', 'force-staffs', sub=w.spoc))
                          if n.kind == 'missing_alert_raised'], [])
        self.assertEqual(STACK.sql_one("SELECT count(*) FROM notifications.letters"
                                       " WHERE episode_id = $1 AND kind = 'missing_alert'",
                                       episode), '1')


if __name__ == '__main__':
    unittest.main()
