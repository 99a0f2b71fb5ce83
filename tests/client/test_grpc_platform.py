"""test_grpc_platform.py -- common/'s gRPC layer seen by an independent client.

Debian's python3-grpcio calls tests/support/probe_server.c (hw_server,
hw_client, hw_status, hw_auth over the real C core), started here as
subprocesses on free ports: dispatch, auth, status details, deadlines and
their propagation, cancellation, streams, health, message limits and
graceful shutdown. No Postgres or Redis is needed.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import grpc

import tokens
import health_pb2
import health_pb2_grpc
from google.rpc import error_details_pb2, status_pb2
from homeward.testing.v1 import probe_pb2, probe_pb2_grpc

_HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get('HW_SOURCE_DIR') or os.path.dirname(os.path.dirname(_HERE))
BINARY_DIR = os.environ.get('HW_BINARY_DIR') or os.path.join(SOURCE_DIR, 'build')
PROBE_BIN = os.path.join(BINARY_DIR, 'probe-server')
MAX_MESSAGE = 65536
SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:',
                   'ERROR: UndefinedBehaviorSanitizer')

TMP = None
PRIV = PUB = None


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Probe:
    """One probe-server process; its stderr (JSON log lines) goes to a file."""

    def __init__(self, name, **env):
        self.name = name
        self.log_path = os.path.join(TMP, f'{name}.log')
        full_env = dict(os.environ, JWT_PUBLIC_KEY_FILE=PUB, JWT_ISSUER=tokens.ISSUER,
                        JWT_AUDIENCE=tokens.AUDIENCE, PROBE_MAX_MESSAGE=str(MAX_MESSAGE))
        full_env.update({k: str(v) for k, v in env.items()})
        with open(self.log_path, 'w') as log:
            self.proc = subprocess.Popen([PROBE_BIN], env=full_env, stdout=subprocess.PIPE,
                                         stderr=log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith('PORT '):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f'{name} did not start: {self.logs()[-3000:]}')
        self.port = int(line.split()[1])
        self.addr = f'127.0.0.1:{self.port}'
        self.channel = grpc.insecure_channel(
            self.addr, options=[('grpc.max_receive_message_length', 8 * MAX_MESSAGE),
                                ('grpc.max_send_message_length', 8 * MAX_MESSAGE)])
        self.stub = probe_pb2_grpc.ProbeStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def logs(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def threads(self):
        with open(f'/proc/{self.proc.pid}/status') as f:
            for line in f:
                if line.startswith('Threads:'):
                    return int(line.split()[1])
        return -1

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal and wait; returns the exit code."""
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        self.proc.stdout.close()
        return self.proc.returncode

    def assert_clean(self, test):
        text = self.logs()
        for mark in SANITIZER_MARKS:
            test.assertNotIn(mark, text, f'{self.name}: sanitizer report in its log')


def token(roles=('social_worker',), sub='sw-0001', **kw):
    return tokens.mint(PRIV, sub, list(roles), 'la-leic', **kw)


def md(tok=None, purpose='platform test', request_id=None):
    return tokens.bearer(tok or token(), purpose=purpose, request_id=request_id)


def stats(probe):
    return probe.stub.Stats(probe_pb2.StatsRequest(), metadata=md(), timeout=5)


def wait_for(pred, timeout=5.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


MAIN = None


def setUpModule():
    global TMP, PRIV, PUB, MAIN
    if not os.path.exists(PROBE_BIN):
        raise unittest.SkipTest(f'{PROBE_BIN} not built')
    TMP = tempfile.mkdtemp(prefix='hw-grpc-platform-')
    PRIV, PUB = tokens.gen_keypair(os.path.join(TMP, 'keys'))
    MAIN = Probe('main', PROBE_WORKERS=4)


def tearDownModule():
    clean = False
    try:
        if MAIN:
            rc = MAIN.stop()
            if rc != 0:
                raise AssertionError(f'main probe exited {rc}: {MAIN.logs()[-2000:]}')
            text = MAIN.logs()
            for mark in SANITIZER_MARKS:
                if mark in text:
                    raise AssertionError(f'sanitizer report in main probe log:\n{text[-4000:]}')
        clean = True
    finally:
        # Keys and logs: kept when asked (HW_KEEP_TMP=1) or when a check above failed.
        if clean and os.environ.get('HW_KEEP_TMP') != '1':
            shutil.rmtree(TMP, ignore_errors=True)


class Dispatch(unittest.TestCase):
    def test_echo_round_trip_with_metadata(self):
        r = MAIN.stub.Echo(probe_pb2.EchoRequest(text='hello', blob=b'\x00\x01'),
                           metadata=md(purpose='strategy meeting prep', request_id='req-42'),
                           timeout=5)
        self.assertEqual(r.text, 'hello')
        self.assertEqual(r.blob, b'\x00\x01')
        self.assertEqual(r.subject, 'sw-0001')
        self.assertEqual(r.purpose, 'strategy meeting prep')
        self.assertEqual(r.request_id, 'req-42')

    def test_unknown_method_is_unimplemented_at_once(self):
        for path in ('/homeward.testing.v1.Probe/NoSuchMethod', '/no.such.Service/Call'):
            call = MAIN.channel.unary_unary(path)
            t0 = time.monotonic()
            with self.assertRaises(grpc.RpcError) as cm:
                call(b'', metadata=md(), timeout=10)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED, path)
            self.assertLess(time.monotonic() - t0, 1.0, f'{path} hung instead of failing')

    def test_unparseable_request_is_invalid_argument(self):
        call = MAIN.channel.unary_unary('/homeward.testing.v1.Probe/Echo')
        with self.assertRaises(grpc.RpcError) as cm:
            call(b'\xff\xff\xff', metadata=md(), timeout=5)  # truncated varint tag
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_one_json_log_line_per_call(self):
        MAIN.stub.Echo(probe_pb2.EchoRequest(text='x'), metadata=md(request_id='log-line-77'),
                       timeout=5)

        def logged():
            return [l for l in MAIN.logs().splitlines() if 'log-line-77' in l]
        lines = wait_for(logged)
        self.assertEqual(len(lines), 1, lines)
        import json
        rec = json.loads(lines[0])
        self.assertEqual(rec['method'], '/homeward.testing.v1.Probe/Echo')
        self.assertEqual(rec['grpc_code'], 0)
        self.assertIn('duration_ms', rec)
        self.assertEqual(rec['service'], 'probe')


class Auth(unittest.TestCase):
    def assertCode(self, code, fn, *a, **kw):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*a, **kw)
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        return cm.exception

    def test_missing_token_unauthenticated(self):
        self.assertCode(grpc.StatusCode.UNAUTHENTICATED, MAIN.stub.Echo,
                        probe_pb2.EchoRequest(), timeout=5)

    def test_bad_tokens_unauthenticated(self):
        other_priv, _ = tokens.gen_keypair(os.path.join(TMP, 'other-keys'))
        bad = {
            'garbage': 'not.a.jwt',
            'other key': tokens.mint(other_priv, 's', ['admin'], 'o'),
            'expired': token(exp_in=-3600),
            'alg none': token(alg='none'),
            'hs256 with public key': token(alg='HS256'),
            'wrong audience': token(aud='someone-else'),
        }
        for what, tok in bad.items():
            with self.subTest(what):
                self.assertCode(grpc.StatusCode.UNAUTHENTICATED, MAIN.stub.Echo,
                                probe_pb2.EchoRequest(), metadata=md(tok), timeout=5)
        self.assertCode(grpc.StatusCode.UNAUTHENTICATED, MAIN.stub.Echo,
                        probe_pb2.EchoRequest(), metadata=[('authorization', 'Basic abc')],
                        timeout=5)

    def test_wrong_role_permission_denied(self):
        e = self.assertCode(grpc.StatusCode.PERMISSION_DENIED, MAIN.stub.AdminOnly,
                            probe_pb2.AdminRequest(), metadata=md(token(['social_worker'])),
                            timeout=5)
        self.assertIn('AdminOnly', e.details())

    def test_right_role_allowed(self):
        r = MAIN.stub.AdminOnly(probe_pb2.AdminRequest(),
                                metadata=md(token(['social_worker', 'admin'], sub='adm-1')),
                                timeout=5)
        self.assertEqual(r.subject, 'adm-1')


class StatusDetails(unittest.TestCase):
    def test_invalid_argument_carries_bad_request(self):
        with self.assertRaises(grpc.RpcError) as cm:
            MAIN.stub.Fail(probe_pb2.FailRequest(), metadata=md(), timeout=5)
        e = cm.exception
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(e.details(), 'invalid fields: report.last_seen_at, report.home_id')
        raw = dict(e.trailing_metadata()).get('grpc-status-details-bin')
        self.assertIsNotNone(raw, 'grpc-status-details-bin missing')
        st = status_pb2.Status.FromString(raw)
        self.assertEqual(st.code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertEqual(st.message, e.details())
        self.assertEqual(len(st.details), 1)
        br = error_details_pb2.BadRequest()
        self.assertTrue(st.details[0].Unpack(br), st.details[0].type_url)
        got = [(v.field, v.description) for v in br.field_violations]
        self.assertEqual(got, [('report.last_seen_at', 'required'),
                               ('report.home_id', 'unknown home home-999')])


class Deadlines(unittest.TestCase):
    def test_deadline_visible_to_handler(self):
        r = MAIN.stub.Echo(probe_pb2.EchoRequest(), metadata=md(), timeout=5)
        self.assertGreater(r.ms_left, 4000)
        self.assertLessEqual(r.ms_left, 5050)  # grpc-timeout is rounded up a little
        r = MAIN.stub.Echo(probe_pb2.EchoRequest(), metadata=md())
        self.assertEqual(r.ms_left, -1)

    def test_deadline_honoured(self):
        before = stats(MAIN).sleeps_cut_short
        t0 = time.monotonic()
        with self.assertRaises(grpc.RpcError) as cm:
            MAIN.stub.Sleep(probe_pb2.SleepRequest(ms=3000), metadata=md(), timeout=0.3)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(time.monotonic() - t0, 1.5)
        # The handler saw the deadline pass and stopped working for nobody.
        self.assertTrue(wait_for(lambda: stats(MAIN).sleeps_cut_short > before, 2.0))

    def test_health_answers_while_workers_are_busy(self):
        # 8 sleeps on 4 workers: every worker busy, 4 calls queued.
        with grpc.insecure_channel(MAIN.addr) as ch:
            stub = probe_pb2_grpc.ProbeStub(ch)
            futs = [stub.Sleep.future(probe_pb2.SleepRequest(ms=2000), metadata=md(), timeout=15)
                    for _ in range(8)]
            time.sleep(0.3)
            t0 = time.monotonic()
            r = MAIN.health.Check(health_pb2.HealthCheckRequest(), timeout=5)
            self.assertEqual(r.status, health_pb2.HealthCheckResponse.SERVING)
            # Waiting for a free worker would take about 1.7 s.
            self.assertLess(time.monotonic() - t0, 1.0, 'health waited for busy workers')
            for f in futs:
                self.assertGreaterEqual(f.result().slept_ms, 2000)


class Propagation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = Probe('peer-b')
        cls.a = Probe('peer-a', PEER_ADDR=cls.b.addr)

    @classmethod
    def tearDownClass(cls):
        for p in (cls.a, cls.b):
            rc = p.stop()
            if rc != 0:
                raise AssertionError(f'{p.name} exited {rc}')

    def test_parent_deadline_caps_child(self):
        r = self.a.stub.CallPeer(probe_pb2.CallPeerRequest(method='Echo', timeout_ms=30000),
                                 metadata=md(), timeout=2)
        self.assertEqual(r.peer_code, 0, r.peer_message)
        self.assertGreater(r.peer_ms_left, 0)
        self.assertLessEqual(r.peer_ms_left, 2050, 'peer saw its own 30 s, not our 2 s')

    def test_child_timeout_when_shorter(self):
        r = self.a.stub.CallPeer(probe_pb2.CallPeerRequest(method='Sleep', sleep_ms=3000,
                                                           timeout_ms=200),
                                 metadata=md(), timeout=5)
        self.assertEqual(r.peer_code, grpc.StatusCode.DEADLINE_EXCEEDED.value[0])
        self.assertLess(r.elapsed_ms, 1000)

    def test_expired_parent_cancels_child(self):
        before = stats(self.b).sleeps_cut_short
        t0 = time.monotonic()
        with self.assertRaises(grpc.RpcError) as cm:
            self.a.stub.CallPeer(probe_pb2.CallPeerRequest(method='Sleep', sleep_ms=5000,
                                                           timeout_ms=30000),
                                 metadata=md(), timeout=0.5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(time.monotonic() - t0, 1.5)
        # B's handler stopped well before its 5 s: the deadline reached it.
        self.assertTrue(wait_for(
            lambda: stats(self.b).sleeps_cut_short > before, 2.0))

    def test_token_relayed_to_peer(self):
        # Peer's Echo needs a valid token: the caller's was relayed.
        r = self.a.stub.CallPeer(probe_pb2.CallPeerRequest(method='Echo', timeout_ms=2000),
                                 metadata=md(token(sub='relayed-7')), timeout=5)
        self.assertEqual(r.peer_code, 0, r.peer_message)

    def test_idempotent_retry_until_peer_appears(self):
        port = free_port()
        lone = Probe('lone', PEER_ADDR=f'127.0.0.1:{port}')
        try:
            # Not idempotent: one try, UNAVAILABLE at once.
            r = lone.stub.CallPeer(probe_pb2.CallPeerRequest(method='Echo', timeout_ms=3000),
                                   metadata=md(), timeout=10)
            self.assertEqual(r.peer_code, grpc.StatusCode.UNAVAILABLE.value[0])
            self.assertLess(r.elapsed_ms, 1000)
            # Idempotent: retried with backoff until the peer comes up.
            result = {}

            def call():
                result['r'] = lone.stub.CallPeer(
                    probe_pb2.CallPeerRequest(method='Echo', timeout_ms=8000, idempotent=True),
                    metadata=md(), timeout=12)
            th = threading.Thread(target=call)
            th.start()
            time.sleep(0.5)
            late = Probe('late', PROBE_LISTEN=f'127.0.0.1:{port}')
            try:
                th.join(15)
                self.assertFalse(th.is_alive())
                r = result['r']
                self.assertEqual(r.peer_code, 0, r.peer_message)
                self.assertGreaterEqual(r.elapsed_ms, 400)
            finally:
                self.assertEqual(late.stop(), 0)
        finally:
            self.assertEqual(lone.stop(), 0)


class Streams(unittest.TestCase):
    def test_ticks_in_order_then_ok(self):
        got = [t.seq for t in MAIN.stub.Ticks(probe_pb2.TicksRequest(count=5, interval_ms=10),
                                              metadata=md(), timeout=5)]
        self.assertEqual(got, [0, 1, 2, 3, 4])

    def test_stream_needs_token(self):
        it = MAIN.stub.Ticks(probe_pb2.TicksRequest(count=1), timeout=5)
        with self.assertRaises(grpc.RpcError) as cm:
            list(it)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_stream_handler_error_status(self):
        it = MAIN.stub.Ticks(probe_pb2.TicksRequest(count=-1), metadata=md(), timeout=5)
        with self.assertRaises(grpc.RpcError) as cm:
            list(it)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_cancelled_stream_frees_its_call(self):
        base = stats(MAIN)
        it = MAIN.stub.Ticks(probe_pb2.TicksRequest(count=0, interval_ms=20), metadata=md(),
                             timeout=30)
        self.assertEqual(next(it).seq, 0)
        self.assertEqual(next(it).seq, 1)
        self.assertEqual(stats(MAIN).open_streams, base.open_streams + 1)
        it.cancel()
        self.assertTrue(wait_for(lambda: stats(MAIN).open_streams == base.open_streams, 3.0),
                        'the cancelled stream is still open on the server')
        self.assertGreater(stats(MAIN).closed_streams, base.closed_streams)

    def test_many_idle_streams_hold_no_threads(self):
        base = stats(MAIN).open_streams
        threads_before = MAIN.threads()
        n = 300
        its = [MAIN.stub.Ticks(probe_pb2.TicksRequest(count=0, interval_ms=600000),
                               metadata=md(), timeout=60) for _ in range(n)]
        try:
            for it in its:
                self.assertEqual(next(it).seq, 0)
            self.assertEqual(stats(MAIN).open_streams, base + n)
            self.assertLess(MAIN.threads(), threads_before + 10,
                            'open streams are costing threads')
        finally:
            for it in its:
                it.cancel()
        self.assertTrue(wait_for(lambda: stats(MAIN).open_streams == base, 5.0))


class Health(unittest.TestCase):
    def test_check_without_token(self):
        for name in ('', 'homeward.testing.v1.Probe', 'probe'):
            r = MAIN.health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            self.assertEqual(r.status, health_pb2.HealthCheckResponse.SERVING, name)

    def test_check_unknown_service_not_found(self):
        with self.assertRaises(grpc.RpcError) as cm:
            MAIN.health.Check(health_pb2.HealthCheckRequest(service='nope.Nope'), timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_watch_follows_changes(self):
        p = Probe('watched')
        try:
            it = p.health.Watch(health_pb2.HealthCheckRequest(service=''), timeout=20)
            S = health_pb2.HealthCheckResponse
            self.assertEqual(next(it).status, S.SERVING)
            p.stub.SetServing(probe_pb2.SetServingRequest(serving=False), metadata=md(), timeout=5)
            self.assertEqual(next(it).status, S.NOT_SERVING)
            self.assertEqual(p.health.Check(health_pb2.HealthCheckRequest(), timeout=5).status,
                             S.NOT_SERVING)
            p.stub.SetServing(probe_pb2.SetServingRequest(serving=True), metadata=md(), timeout=5)
            self.assertEqual(next(it).status, S.SERVING)
            unknown = p.health.Watch(health_pb2.HealthCheckRequest(service='nope'), timeout=20)
            self.assertEqual(next(unknown).status, S.SERVICE_UNKNOWN)
            unknown.cancel()
            # Shutdown tells watchers NOT_SERVING, then ends the stream.
            p.proc.send_signal(signal.SIGTERM)
            self.assertEqual(next(it).status, S.NOT_SERVING)
            with self.assertRaises(grpc.RpcError) as cm:
                next(it)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
        finally:
            self.assertEqual(p.stop(), 0)
            p.assert_clean(self)


class MessageSize(unittest.TestCase):
    def test_request_too_large(self):
        with self.assertRaises(grpc.RpcError) as cm:
            MAIN.stub.Echo(probe_pb2.EchoRequest(blob=b'x' * (MAX_MESSAGE + 1000)),
                           metadata=md(), timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)

    def test_reply_too_large(self):
        with self.assertRaises(grpc.RpcError) as cm:
            MAIN.stub.Echo(probe_pb2.EchoRequest(reply_blob_bytes=MAX_MESSAGE + 1000),
                           metadata=md(), timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)

    def test_within_limit(self):
        r = MAIN.stub.Echo(probe_pb2.EchoRequest(blob=b'y' * (MAX_MESSAGE - 100)),
                           metadata=md(), timeout=5)
        self.assertEqual(len(r.blob), MAX_MESSAGE - 100)


class Shutdown(unittest.TestCase):
    def test_sigterm_lets_inflight_call_finish(self):
        p = Probe('graceful', PROBE_GRACE_MS=10000)
        try:
            fut = p.stub.Sleep.future(probe_pb2.SleepRequest(ms=1500), metadata=md(), timeout=10)
            stream = p.stub.Ticks(probe_pb2.TicksRequest(count=0, interval_ms=50), metadata=md(),
                                  timeout=10)
            self.assertEqual(next(stream).seq, 0)
            time.sleep(0.2)
            t0 = time.monotonic()
            p.proc.send_signal(signal.SIGTERM)
            self.assertGreaterEqual(fut.result(timeout=10).slept_ms, 1500)
            # The open stream is ended by the server, not left hanging.
            with self.assertRaises(grpc.RpcError) as cm:
                for _ in stream:
                    pass
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
            self.assertEqual(p.proc.wait(10), 0)
            self.assertLess(time.monotonic() - t0, 5.0)
        finally:
            self.assertEqual(p.stop(), 0)
        p.assert_clean(self)

    def test_grace_period_bounds_shutdown(self):
        p = Probe('impatient', PROBE_GRACE_MS=300)
        try:
            fut = p.stub.Sleep.future(probe_pb2.SleepRequest(ms=8000), metadata=md(), timeout=20)
            time.sleep(0.3)
            t0 = time.monotonic()
            p.proc.send_signal(signal.SIGTERM)
            with self.assertRaises(grpc.RpcError) as cm:
                fut.result(timeout=10)
            self.assertIn(cm.exception.code(), (grpc.StatusCode.CANCELLED,
                                                 grpc.StatusCode.UNAVAILABLE))
            self.assertEqual(p.proc.wait(10), 0)
            self.assertLess(time.monotonic() - t0, 3.0)
        finally:
            self.assertEqual(p.stop(), 0)
        p.assert_clean(self)


if __name__ == '__main__':
    unittest.main()
