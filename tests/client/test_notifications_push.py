"""test_notifications_push.py -- the notifications service seen by an independent client.

Drives the real episodes service (its events reach notifications through
EVENT_SUBSCRIBERS wired by the harness) and checks what each person is told:
a report reaches the SPOC's open stream within seconds (R-EPI-6); a dropped
stream resumed from its last id misses nothing and repeats nothing; a "do not
notify" parent is not told when the child is found (R-NOT-1); a kill -9 of the
notifications service loses nothing and shows nothing twice; the
other-authority letter (R-NOT-3) is readable only by the authorities'
roles; the missing alert (R-NOT-5) is refused too early.
"""

import queue
import threading
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


class Stream:
    """A Subscribe stream read on a thread into a queue."""

    def __init__(self, token, after_id=0):
        self.stub = nt_grpc.NotificationsStub(STACK.channel('notifications'))
        self.call = self.stub.Subscribe(nt.SubscribeRequest(after_id=after_id),
                                        metadata=STACK.metadata(token))
        self.q = queue.Queue()
        self.error = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        first = self.q.get(timeout=10)
        assert first.WhichOneof('body') == 'started', first
        self.cursor = first.started.cursor

    def _read(self):
        try:
            for m in self.call:
                self.q.put(m)
        except grpc.RpcError as e:
            self.error = e

    def next(self, timeout):
        m = self.q.get(timeout=timeout)
        assert m.WhichOneof('body') == 'notification', m
        return m.notification

    def drain(self, seconds):
        out = []
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return out
            try:
                out.append(self.next(left))
            except queue.Empty:
                return out

    def close(self):
        self.call.cancel()
        self.thread.join(timeout=5)


class World:
    """One home with a SPOC, children placed there, set up through episodes."""

    def __init__(self, tag, placing='la-stoke'):
        self.svc_token = STACK.token('service', 'homeward', sub='service:test')
        self.md = STACK.metadata(self.svc_token, purpose='test set-up')
        self.eps = ep_grpc.EpisodesStub(STACK.channel('episodes'))
        self.spoc = f'spoc-{tag}'
        self.sw = f'sw-{tag}'
        self.placing = placing
        home = self.eps.UpsertHome(ep.UpsertHomeRequest(request_id=rid(), home=ep.Home(
            name=f'Home {tag}', host_authority='la-stoke', address='1 Test Lane',
            spoc_officers=[ep.Professional(user_id=self.spoc, name='PC Spoc')])),
            metadata=self.md, timeout=10)
        self.home_id = home.id

    def child(self, contacts=()):
        c = self.eps.UpsertChild(ep.UpsertChildRequest(request_id=rid(), child=ep.Child(
            first_name='Test', last_name='Child', date_of_birth='2011-04-02', looked_after=True,
            responsible_authority=self.placing,
            social_worker=ep.Professional(user_id=self.sw, name='A Social Worker'),
            family_contacts=list(contacts))), metadata=self.md, timeout=10)
        self.eps.UpsertPlacement(ep.UpsertPlacementRequest(request_id=rid(), placement=ep.Placement(
            child_id=c.id, home_id=self.home_id, placement_type="children's home",
            starts_at=ts(datetime.now(timezone.utc) - timedelta(hours=2)),  # Reg 41 not yet due
            placing_authority=self.placing, responsible_authority=self.placing)),
            metadata=self.md, timeout=10)
        return c.id

    def report(self, child_id):
        r = self.eps.ReportMissing(ep.ReportMissingRequest(request_id=rid(), report=ep.MissingReport(
            child_id=child_id, last_seen_at=ts(datetime.now(timezone.utc) - timedelta(hours=1)),
            last_seen_place='bus station', clothing='grey hoodie', circumstances='left after tea',
            reporter_name='Night carer')), metadata=self.md, timeout=10)
        return r.episode.id

    def located(self, episode_id):
        self.eps.MarkLocated(ep.MarkLocatedRequest(request_id=rid(), episode_id=episode_id,
                                                   located=ep.Located(
            at=ts(datetime.now(timezone.utc) - timedelta(minutes=1)), place='town centre',
            by='PC Finder', how=ep.RETURN_METHOD_POLICE)), metadata=self.md, timeout=10)


def inbox(token, **kw):
    stub = nt_grpc.NotificationsStub(STACK.channel('notifications'))
    return stub.ListInbox(nt.ListInboxRequest(page_size=200, **kw),
                          metadata=STACK.metadata(token), timeout=10)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what}')


class NotificationsPush(unittest.TestCase):

    def test_R_EPI_6_report_reaches_spoc_stream_within_2s(self):
        """R-EPI-6: a new missing episode is pushed to the home's SPOC (and the
        social worker) within 2 seconds of the report."""
        w = World('epi6')
        child = w.child()
        spoc_tok = STACK.token('spoc', 'force-staffs', sub=w.spoc)
        sw_tok = STACK.token('social_worker', 'la-stoke', sub=w.sw)
        spoc = Stream(spoc_tok)
        sw = Stream(sw_tok)
        other = Stream(STACK.token('spoc', 'force-staffs', sub='spoc-elsewhere'))
        try:
            t0 = time.monotonic()
            episode = w.report(child)
            n = spoc.next(timeout=2.0)
            elapsed = time.monotonic() - t0
            self.assertLess(elapsed, 2.0)
            self.assertEqual(n.kind, 'episode_reported')
            self.assertEqual(n.rule, 'R-EPI-6')
            self.assertEqual(n.episode_id, episode)
            self.assertEqual(n.priority, nt.PRIORITY_URGENT)
            self.assertGreater(n.id, spoc.cursor)
            reasons = {r.address: r.reason for r in n.recipients}
            self.assertEqual(reasons.get(f'user:{w.spoc}'), 'spoc')
            self.assertEqual(reasons.get(f'user:{w.sw}'), 'social_worker')
            self.assertNotIn('Test', n.title + n.body)  # no child's name in a push
            self.assertEqual(sw.next(timeout=2.0).id, n.id)
            # A user sees only their own notifications.
            self.assertEqual(other.drain(1.0), [])
            self.assertNotIn(n.id, [x.id for x in inbox(
                STACK.token('spoc', 'force-staffs', sub='spoc-elsewhere')).notifications])
        finally:
            for s in (spoc, sw, other):
                s.close()

    def test_stream_dropped_and_resumed_misses_nothing_duplicates_nothing(self):
        """R-EPI-6: a phone that lost signal resumes from its last id: every
        notification after it once, in order, then live ones."""
        w = World('resume')
        a, b, c = w.child(), w.child(), w.child()
        tok = STACK.token('spoc', 'force-staffs', sub=w.spoc)
        s = Stream(tok)
        ep_a = w.report(a)
        first = s.next(timeout=5)
        self.assertEqual(first.episode_id, ep_a)
        s.close()
        # While disconnected.
        ep_b = w.report(b)
        w.located(ep_a)
        # Both made (by the SPOC's inbox) before resuming.
        wait_for(lambda: len([n for n in inbox(tok).notifications if n.id > first.id]) >= 2, 15,
                 'two notifications while disconnected')
        s2 = Stream(tok, after_id=first.id)
        try:
            got = s2.drain(2.0)
            ids = [n.id for n in got]
            self.assertEqual(ids, sorted(ids))
            self.assertEqual(len(ids), len(set(ids)))
            self.assertNotIn(first.id, ids)
            self.assertEqual([(n.kind, n.episode_id) for n in got],
                             [('episode_reported', ep_b), ('child_found', ep_a)])
            # Then live, after the replay, still no repeat.
            ep_c = w.report(c)
            live = s2.next(timeout=3)
            self.assertEqual(live.episode_id, ep_c)
            self.assertGreater(live.id, ids[-1])
            self.assertEqual(s2.drain(1.0), [])
        finally:
            s2.close()

    def test_R_NOT_1_do_not_notify_parent_not_told_when_found(self):
        """R-NOT-1: when the child is found everyone informed is told, family
        contacts included -- but never one marked "do not notify"."""
        w = World('not1')
        child = w.child(contacts=[
            ep.FamilyContact(name='Parent Told', relationship='mother', phone='07700900111'),
            ep.FamilyContact(name='Parent Withheld', relationship='father', phone='07700900222',
                             do_not_notify=True)])
        episode = w.report(child)
        sw_tok = STACK.token('social_worker', 'la-stoke', sub=w.sw)
        wait_for(lambda: any(n.episode_id == episode for n in inbox(sw_tok).notifications), 10,
                 'the report notification')
        w.located(episode)
        found = wait_for(lambda: [n for n in inbox(sw_tok).notifications
                                  if n.episode_id == episode and n.kind == 'child_found'], 10,
                         'child_found')
        self.assertEqual(found[0].rule, 'R-NOT-1')
        addresses = {r.address for r in found[0].recipients}
        self.assertIn(f'user:{w.spoc}', addresses)
        self.assertIn(f'user:{w.sw}', addresses)
        lead = STACK.token('csc_lead', 'la-stoke', sub='lead-not1')
        stub = nt_grpc.NotificationsStub(STACK.channel('notifications'))
        msgs = stub.ListExternalMessages(nt.ListExternalMessagesRequest(page_size=200),
                                         metadata=STACK.metadata(lead, 'R-NOT-1 check'),
                                         timeout=10).messages
        mine = [m for m in msgs if m.episode_id == episode]
        self.assertEqual([(m.channel, m.to_address, m.reason, m.status) for m in mine],
                         [('phone', '07700900111', 'family_contact', 'pending')])
        self.assertFalse(any(m.to_address == '07700900222' for m in msgs))
        rows = STACK.sql("SELECT count(*) FROM notifications.external_messages"
                         " WHERE to_address = '07700900222'")
        self.assertEqual(rows, [('0',)])

    def test_kill_9_between_claim_and_delivery_delivered_after_restart_shown_once(self):
        """A kill -9 of notifications while an event is owed: the event is
        delivered after restart (the sender retries), the resumed stream gets
        it, and a repeat of the event changes nothing (shown once)."""
        w = World('kill9')
        child = w.child()
        tok = STACK.token('spoc', 'force-staffs', sub=w.spoc)
        s = Stream(tok)
        cursor = s.cursor
        STACK.kill('notifications')
        s.close()
        episode = w.report(child)
        STACK.start_service('notifications')
        s2 = Stream(tok, after_id=cursor)
        try:
            got = []
            end = time.monotonic() + 40
            while not got and time.monotonic() < end:
                got = [n for n in s2.drain(1.0) if n.episode_id == episode]
            self.assertEqual(len(got), 1, 'delivered after restart')
            n = got[0]
            # The same event again, as a relay retry would send it.
            sink = events_pb2_grpc.EventSinkStub(STACK.channel('notifications'))
            svc_tok = STACK.token('service', 'homeward', sub='service:episodes')
            r = sink.Deliver(events_pb2.Event(id=n.event_id, source='episodes',
                                              type='episodes.reported',
                                              subject=f'episode:{episode}',
                                              occurred_at_ms=int(time.time() * 1000),
                                              payload_json='{}'),
                             metadata=STACK.metadata(svc_tok), timeout=10)
            self.assertTrue(r.duplicate)
            self.assertEqual(s2.drain(1.5), [])
            self.assertEqual(len([x for x in inbox(tok).notifications
                                  if x.episode_id == episode and x.kind == 'episode_reported']), 1)
        finally:
            s2.close()

    def test_inbox_unread_first_and_acknowledge(self):
        """What arrived while the app was closed: unread first, acknowledged after."""
        w = World('inbox')
        a, b = w.child(), w.child()
        tok = STACK.token('social_worker', 'la-stoke', sub=w.sw)
        ep_a, ep_b = w.report(a), w.report(b)
        wait_for(lambda: len(inbox(tok).notifications) >= 2, 10, 'two notifications')
        box = inbox(tok)
        self.assertEqual(box.unread_count, 2)
        older = [n for n in box.notifications if n.episode_id == ep_a][0]
        stub = nt_grpc.NotificationsStub(STACK.channel('notifications'))
        req_id = rid()
        ack = stub.Acknowledge(nt.AcknowledgeRequest(request_id=req_id, ids=[older.id]),
                               metadata=STACK.metadata(tok), timeout=10)
        self.assertEqual((ack.acknowledged, ack.unread_count), (1, 1))
        again = stub.Acknowledge(nt.AcknowledgeRequest(request_id=req_id, ids=[older.id]),
                                 metadata=STACK.metadata(tok), timeout=10)
        self.assertEqual((again.acknowledged, again.unread_count), (1, 1))  # first result
        box = inbox(tok)
        self.assertEqual([n.episode_id for n in box.notifications], [ep_b, ep_a])
        self.assertFalse(box.notifications[0].acknowledged)
        self.assertTrue(box.notifications[1].acknowledged)
        self.assertEqual([n.episode_id for n in inbox(tok, unread_only=True).notifications], [ep_b])
        # Someone else cannot acknowledge (or see) them.
        other = STACK.token('social_worker', 'la-stoke', sub='sw-someone-else')
        r = stub.Acknowledge(nt.AcknowledgeRequest(request_id=rid(), up_to_id=10**9),
                             metadata=STACK.metadata(other), timeout=10)
        self.assertEqual(r.acknowledged, 0)
        self.assertEqual(inbox(tok).unread_count, 1)

    def test_R_NOT_3_other_authority_letter_only_for_its_authorities(self):
        """R-NOT-3: a child placed here by another authority: a letter to it,
        stored, retrievable by the authorities' roles only, its e-mail kept
        pending (no relay configured), and audited."""
        w = World('not3', placing='la-wessex')
        child = w.child()
        episode = w.report(child)
        stub = nt_grpc.NotificationsStub(STACK.channel('notifications'))
        wessex = STACK.token('csc_lead', 'la-wessex', sub='lead-wessex')
        letters = wait_for(lambda: stub.ListLetters(nt.ListLettersRequest(episode_id=episode),
                                                    metadata=STACK.metadata(wessex, 'R-NOT-3'),
                                                    timeout=10).letters, 10, 'the letter')
        self.assertEqual(len(letters), 1)
        self.assertEqual(letters[0].kind, nt.LETTER_KIND_OTHER_AUTHORITY_MISSING)
        self.assertEqual((letters[0].from_authority, letters[0].to_authority),
                         ('la-stoke', 'la-wessex'))
        full = stub.GetLetter(nt.GetLetterRequest(letter_id=letters[0].id),
                              metadata=STACK.metadata(wessex, 'R-NOT-3 letter'), timeout=10)
        self.assertIn('Test Child', full.text)
        self.assertIn('2011-04-02', full.text)
        self.assertIn('bus station', full.text)
        self.assertNotIn('{{', full.text)
        # The same letter as a PDF, laid out from the stored text. libharu
        # writes it uncompressed, so each shown line is a literal string in
        # a content stream: the subject first, then the episode's facts.
        self.assertTrue(full.pdf.startswith(b'%PDF-'), full.pdf[:16])
        self.assertEqual(full.pdf.rstrip(b'\r\n')[-5:], b'%%EOF')
        subject = b'(' + full.subject_line.encode('ascii') + b') Tj'
        self.assertIn(subject, full.pdf)
        self.assertLess(full.pdf.index(subject), full.pdf.index(b'(Last seen: bus station) Tj'))
        self.assertIn(b'(To: Designated Safeguarding Lead, la-wessex) Tj', full.pdf)
        self.assertEqual(letters[0].pdf, b'')   # listings carry no PDF
        again = stub.GetLetter(nt.GetLetterRequest(letter_id=letters[0].id),
                               metadata=STACK.metadata(wessex, 'R-NOT-3 letter'), timeout=10)
        self.assertEqual(again.pdf, full.pdf)   # the same letter, the same bytes
        self.assertEqual(len(full.external_message_ids), 1)
        status = STACK.sql_one("SELECT status FROM notifications.external_messages WHERE id = $1",
                               full.external_message_ids[0])
        self.assertEqual(status, 'pending')
        for tok in (STACK.token('csc_lead', 'la-leics', sub='lead-leics'),
                    STACK.token('spoc', 'force-staffs', sub=w.spoc)):
            with self.assertRaises(grpc.RpcError) as cm:
                stub.GetLetter(nt.GetLetterRequest(letter_id=letters[0].id),
                               metadata=STACK.metadata(tok, 'curious'), timeout=10)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        with self.assertRaises(grpc.RpcError) as cm:
            stub.GetLetter(nt.GetLetterRequest(letter_id=letters[0].id),
                           metadata=STACK.metadata(wessex, purpose=None), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        audited = STACK.sql_one("SELECT count(*) FROM notifications.audit WHERE record_type ="
                                " 'letter' AND record_id = $1 AND subject = 'lead-wessex'",
                                letters[0].id)
        self.assertEqual(audited, '2')   # both reads above, the refused ones not
        # A child placed by the home's own authority makes no letter.
        w2 = World('not3-same')
        ep_same = w2.report(w2.child())
        wait_for(lambda: STACK.sql_one("SELECT count(*) FROM notifications.notifications"
                                       " WHERE episode_id = $1", ep_same) == '1', 10, 'notified')
        self.assertEqual(STACK.sql_one("SELECT count(*) FROM notifications.letters"
                                       " WHERE episode_id = $1", ep_same), '0')

    def test_R_NOT_5_missing_alert_refused_for_a_child_missing_hours(self):
        """R-NOT-5: an alert is for a child missing several days; refused
        before that, and only by an authorised role."""
        w = World('not5')
        episode = w.report(w.child())
        stub = nt_grpc.NotificationsStub(STACK.channel('notifications'))
        tm = STACK.token('team_manager', 'la-stoke', sub='tm-not5')
        req = nt.RaiseMissingAlertRequest(request_id=rid(), episode_id=episode,
                                          ground=nt.ALERT_GROUND_UNACCOMPANIED_ASYLUM_SEEKER,
                                          scope=nt.ALERT_SCOPE_NATIONAL, rationale='test')
        with self.assertRaises(grpc.RpcError) as cm:
            stub.RaiseMissingAlert(req, metadata=STACK.metadata(tm, 'R-NOT-5'), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        with self.assertRaises(grpc.RpcError) as cm:
            stub.RaiseMissingAlert(req, metadata=STACK.metadata(
                STACK.token('care_staff', 'la-stoke', sub='carer'), 'R-NOT-5'), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)


if __name__ == '__main__':
    unittest.main()
