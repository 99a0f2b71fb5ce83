"""hw.py -- a real Homeward stack for one client test module.

Each Stack has its own database (in the shared test Postgres of the ctest
fixture, or in a private Postgres), its own Redis, its own key pair and its
own service processes on free ports, so test modules run in parallel without
seeing each other's data, keys or Redis entries.

    import hw
    STACK = hw.Stack(services=('episodes', 'notifications'))

    def setUpModule():
        STACK.start()

    def tearDownModule():
        STACK.stop()

    class T(unittest.TestCase):
        def test_x(self):
            stub = episodes_pb2_grpc.EpisodesStub(STACK.channel('episodes'))
            tok = STACK.token('spoc', 'force-01', homes=('home-001',))
            stub.GetEpisode(req, metadata=STACK.metadata(tok), timeout=5)

Per-service environment: Stack(env_overrides={'notifications':
{'HOMEWARD_CLOCK_OFFSET_MS': '90000000'}}) or start(env_overrides=...);
restart(svc, env={...}) changes it for one service later.

Environment: HW_BINARY_DIR (service binaries), HW_SOURCE_DIR (migrations),
HW_TEST_PG_URL (superuser URL of the shared Postgres; without it a private
Postgres is started), HW_KEEP_TMP=1 keeps the temporary folder (logs) after
stop(). Service logs are in STACK.logs(svc); a service that fails to come up
raises with the end of its log.

Ownership: the Stack owns every process it starts. stop() is idempotent and
also runs at interpreter exit, so a failing setUpModule leaves nothing behind.
"""

import atexit
import ctypes
import inspect
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

SERVICES = ('episodes', 'risk', 'interviews', 'notifications', 'meetings')
ISSUER = 'homeward-dev'
AUDIENCE = 'homeward'

_HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get('HW_SOURCE_DIR') or os.path.dirname(os.path.dirname(_HERE))
BINARY_DIR = os.environ.get('HW_BINARY_DIR') or os.path.join(SOURCE_DIR, 'build')
STACK_SH = os.path.join(SOURCE_DIR, 'deploy', 'local', 'stack.sh')

# Marks SQL NULL in psql output; no real value looks like this.
_NULL = '\x01NULL\x01'
# Signs of a sanitizer report in a service's stderr.
_SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:',
                    'ERROR: UndefinedBehaviorSanitizer')


class StackError(RuntimeError):
    """A part of the stack failed to start, stop or answer."""


def free_port():
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _tail(path, lines=40):
    try:
        with open(path, 'r', errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError as e:
        return f'(no log: {e})'


def _die_with_parent():
    # A service must not outlive a test process killed by ctest's timeout.
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _run(args, check=True, **kw):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, **kw)
    if check and p.returncode != 0:
        raise StackError(f'{" ".join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}')
    return p


def _caller_name():
    for frame in inspect.stack()[2:]:
        mod = os.path.splitext(os.path.basename(frame.filename))[0]
        if mod not in ('hw', '<frozen importlib._bootstrap>') and not mod.startswith('<'):
            return mod
    return 'test'


class _Service:
    def __init__(self, name, port):
        self.name = name
        self.port = port
        self.proc = None
        self.log_path = None
        self.killed = False   # stopped by a test on purpose: its exit status is expected
        self.terminating = False  # SIGTERM already sent


class Stack:
    def __init__(self, services=SERVICES, private_pg=False, name=None,
                 env_overrides=None, workers=None):
        unknown = set(services) - set(SERVICES)
        if unknown:
            raise ValueError(f'unknown services: {sorted(unknown)}')
        self.services = tuple(services)
        self.private_pg = private_pg or not os.environ.get('HW_TEST_PG_URL')
        base = re.sub(r'[^a-z0-9_]', '_', (name or _caller_name()).lower())[:40]
        self.name = base
        self.db = f'hw_{base}_{random.getrandbits(32):08x}'
        self.env_overrides = {k: dict(v) for k, v in (env_overrides or {}).items()}
        self.workers = workers
        self.tmp = None
        self._started = False
        self._pg_dir = None
        self._pg_port = None
        self._su_url = None       # superuser, database postgres
        self._redis_dir = None
        self.redis_port = None
        self._priv = self._pub = None
        self._svc = {s: _Service(s, None) for s in SERVICES}
        self._channels = {}
        self._db_created = False
        self._tokens = None

    # ------------------------------------------------------------ lifecycle
    def start(self, env_overrides=None):
        """Start everything; returns self. On failure cleans up and raises."""
        if self._started:
            return self
        for svc, env in (env_overrides or {}).items():
            self.env_overrides.setdefault(svc, {}).update(env)
        self._started = True
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop(check=False)
            raise
        return self

    def _start(self):
        import tokens  # written beside this file; imported late so hw imports alone
        self._tokens = tokens
        self.tmp = tempfile.mkdtemp(prefix=f'hw-{self.name[:20]}-')
        # The Postgres user (not root) must be able to traverse to its data.
        os.chmod(self.tmp, 0o711)
        keydir = os.path.join(self.tmp, 'keys')
        os.mkdir(keydir, 0o700)
        self._priv, self._pub = tokens.gen_keypair(keydir)

        if self.private_pg:
            self._pg_dir = os.path.join(self.tmp, 'pg')
            self._pg_port = free_port()
            _run(['bash', STACK_SH, 'pg-start', self._pg_dir, str(self._pg_port)],
                 env={**os.environ, 'HW_PG_FAST': '1'})
            self._su_url = f'postgresql://postgres@127.0.0.1:{self._pg_port}/postgres'
        else:
            self._su_url = os.environ['HW_TEST_PG_URL']
            self._pg_port = urllib.parse.urlsplit(self._su_url).port or 5432
        _run(['bash', STACK_SH, 'roles', self._su_url, self.db])
        self._db_created = True

        self._redis_dir = os.path.join(self.tmp, 'redis')
        self.redis_port = free_port()
        _run(['bash', STACK_SH, 'redis-start', self._redis_dir, str(self.redis_port)])

        for s in SERVICES:
            self._svc[s].port = free_port()
        for s in self.services:
            self._spawn(s)
        for s in self.services:
            self.wait_serving(s)

    def stop(self, check=True, close_channels=True):
        """Stop services, drop the database, stop Redis (and a private
        Postgres), remove the temporary folder. Raises afterwards if a
        service's log holds a sanitizer report. close_channels=False leaves
        the client channels to the process's exit (a process that also ran
        grpc.aio can hang closing them)."""
        if not self._started:
            return
        self._started = False
        if close_channels:
            for ch in self._channels.values():
                ch.close()
        self._channels.clear()
        # SIGTERM to all first: their graceful shutdowns overlap.
        for s in self.services:
            p = self._svc[s].proc
            if p is not None and p.poll() is None:
                p.terminate()
                self._svc[s].terminating = True
        for s in self.services:
            self._terminate(s)
        problems = []
        for s in self.services:
            svc = self._svc[s]
            if svc.log_path and os.path.exists(svc.log_path):
                with open(svc.log_path, errors='replace') as f:
                    text = f.read()
                if any(m in text for m in _SANITIZER_MARKS):
                    problems.append(f'--- {s}: sanitizer report in its log:\n{_tail(svc.log_path, 60)}')
                    continue
            rc = svc.proc.returncode if svc.proc else 0
            if not svc.killed and rc is not None and rc < 0 and -rc not in (signal.SIGTERM, signal.SIGKILL):
                problems.append(f'--- {s}: died of signal {-rc}; its log:\n{_tail(svc.log_path, 60)}')
        errors = []
        if self._db_created:
            try:
                self.sql_admin(f'DROP DATABASE IF EXISTS {self.db} WITH (FORCE)')
            except StackError as e:
                errors.append(str(e))
            self._db_created = False
        if self.redis_port:
            _run(['bash', STACK_SH, 'redis-stop', str(self.redis_port)], check=False)
        if self.private_pg and self._pg_dir:
            _run(['bash', STACK_SH, 'pg-stop', self._pg_dir], check=False)
        if self.tmp:
            if os.environ.get('HW_KEEP_TMP') == '1' or problems:
                print(f'hw: kept {self.tmp}')
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        if check and problems:
            raise AssertionError('\n'.join(problems))
        if check and errors:
            raise StackError('\n'.join(errors))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)
        return False

    # ------------------------------------------------------------ services
    def addr(self, svc):
        return f'127.0.0.1:{self._svc[svc].port}'

    def env_for(self, svc):
        """The environment a service is started with (also useful to a test
        that runs a binary itself)."""
        pg = f'127.0.0.1:{self._pg_port}/{self.db}'
        env = dict(os.environ)
        env.update({
            'HOMEWARD_LISTEN': self.addr(svc),
            'DATABASE_URL': f'postgresql://homeward_{svc}@{pg}',
            'MIGRATE_DATABASE_URL': f'postgresql://homeward_owner@{pg}',
            'DB_RUNTIME_ROLE': f'homeward_{svc}',
            'REDIS_ADDR': f'127.0.0.1:{self.redis_port}',
            'JWT_PUBLIC_KEY_FILE': self._pub,
            'JWT_ISSUER': ISSUER,
            'JWT_AUDIENCE': AUDIENCE,
            'SERVICE_TOKEN_KEY_FILE': self._priv,
            'EVENT_SUBSCRIBERS': ','.join(self.addr(s) for s in self.services if s != svc),
            'HOMEWARD_MIGRATIONS_DIR': SOURCE_DIR,
            'HOMEWARD_GRACE_MS': '3000',
        })
        # Every peer has an address; one not started simply answers UNAVAILABLE.
        for s in SERVICES:
            env[f'{s.upper()}_ADDR'] = self.addr(s)
        if self.workers:
            env['HOMEWARD_WORKERS'] = str(self.workers)
        env.update(self.env_overrides.get(svc, {}))
        return env

    def _spawn(self, svc):
        s = self._svc[svc]
        binary = os.path.join(BINARY_DIR, f'homeward-{svc}')
        if not os.access(binary, os.X_OK):
            raise StackError(f'{binary} is not built')
        s.log_path = os.path.join(self.tmp, f'{svc}.log')
        with open(s.log_path, 'a') as log:
            log.write(f'--- hw: starting {svc} on {self.addr(svc)} at {time.time():.3f}\n')
            log.flush()
            s.proc = subprocess.Popen([binary], env=self.env_for(svc), stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=subprocess.STDOUT,
                                      preexec_fn=_die_with_parent)
        s.killed = False
        s.terminating = False

    def wait_serving(self, svc, timeout=60.0):
        """Poll grpc.health.v1 until SERVING; raise with the log tail if the
        process exits or the time runs out."""
        import grpc
        import health_pb2
        import health_pb2_grpc
        s = self._svc[svc]
        deadline = time.monotonic() + timeout
        last = 'no answer'
        with grpc.insecure_channel(self.addr(svc)) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while time.monotonic() < deadline:
                rc = s.proc.poll()
                if rc is not None:
                    raise StackError(f'{svc} exited with {rc} while starting; its log:\n'
                                     f'{_tail(s.log_path)}')
                try:
                    r = stub.Check(health_pb2.HealthCheckRequest(service=''), timeout=1)
                    if r.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                    last = health_pb2.HealthCheckResponse.ServingStatus.Name(r.status)
                except grpc.RpcError as e:
                    last = e.code().name
                time.sleep(0.1)
        raise StackError(f'{svc} not SERVING after {timeout:.0f} s (last: {last}); its log:\n'
                         f'{_tail(s.log_path)}')

    def channel(self, svc):
        """A grpc channel to svc, cached; closed by stop()."""
        import grpc
        if svc not in self._channels:
            self._channels[svc] = grpc.insecure_channel(self.addr(svc))
        return self._channels[svc]

    def pid(self, svc):
        p = self._svc[svc].proc
        return p.pid if p and p.poll() is None else None

    def running(self, svc):
        return self.pid(svc) is not None

    def kill(self, svc, sig=signal.SIGKILL, wait=True):
        """Send sig to svc. With SIGKILL/SIGTERM (and wait) returns its exit status."""
        s = self._svc[svc]
        if s.proc is None or s.proc.poll() is not None:
            return s.proc.returncode if s.proc else None
        s.killed = True
        s.proc.send_signal(sig)
        if wait and sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            try:
                return s.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                s.proc.kill()
                return s.proc.wait()
        return None

    def _terminate(self, svc):
        s = self._svc[svc]
        if s.proc is None or s.proc.poll() is not None:
            return
        if not s.terminating:
            s.proc.terminate()
        try:
            s.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with open(s.log_path, 'a') as log:
                log.write('--- hw: no exit 20 s after SIGTERM; killed\n')
            s.proc.kill()
            s.proc.wait()

    def restart(self, svc, env=None, wait=True):
        """Stop svc gracefully (if running) and start it again on the same
        port; env adds or replaces variables from then on."""
        if env:
            self.env_overrides.setdefault(svc, {}).update(env)
        self._terminate(svc)
        # A fresh channel: the old one may sit in reconnect backoff.
        self._channels.pop(svc, None)
        self._spawn(svc)
        if wait:
            self.wait_serving(svc)

    def start_service(self, svc, env=None, wait=True):
        """Start a service that is not running (e.g. after kill())."""
        if self.running(svc):
            raise StackError(f'{svc} is already running')
        if svc not in self.services:
            self.services = self.services + (svc,)
        self.restart(svc, env=env, wait=wait)

    def logs(self, svc):
        s = self._svc[svc]
        if not s.log_path or not os.path.exists(s.log_path):
            return ''
        with open(s.log_path, errors='replace') as f:
            return f.read()

    # ------------------------------------------------------------ tokens
    def token(self, role, org, homes=(), sub=None, **claims):
        """A signed ES256 token. role: a role name or a sequence of them;
        extra keyword arguments go to tokens.mint (iss, aud, exp_in...)."""
        roles = [role] if isinstance(role, str) else list(role)
        sub = sub or f'{roles[0]}-{org}'
        return self._tokens.mint(self._priv, sub, roles, org, homes=tuple(homes), **claims)

    @staticmethod
    def metadata(token, purpose='test', request_id=None):
        md = [('authorization', f'Bearer {token}')]
        if purpose:
            md.append(('x-purpose', purpose))
        if request_id:
            md.append(('x-request-id', request_id))
        return md

    @property
    def private_key(self):
        return self._priv

    @property
    def public_key(self):
        return self._pub

    # ------------------------------------------------------------ Postgres
    @property
    def db_url(self):
        """Superuser URL of this stack's database."""
        return f'postgresql://postgres@127.0.0.1:{self._pg_port}/{self.db}'

    def db_url_as(self, role):
        return f'postgresql://{role}@127.0.0.1:{self._pg_port}/{self.db}'

    def sql(self, query, *params, url=None):
        """Run query (may hold several statements) as superuser on this
        stack's database. $1..$n are bound to params as quoted literals by
        psql itself (str() of each; None is NULL; cast in SQL: $1::int).
        Returns the rows every statement printed, as tuples of str (None for
        NULL); [] for statements without rows."""
        return self._psql(url or self.db_url, query, params)

    def sql_one(self, query, *params):
        """The first column of the first row, or None when there is no row."""
        rows = self.sql(query, *params)
        return rows[0][0] if rows else None

    def sql_admin(self, query, *params):
        """As sql(), on database postgres (CREATE/DROP DATABASE...)."""
        return self._psql(self._su_url, query, params)

    @staticmethod
    def _psql(url, query, params):
        args = ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
                '-F', '\x1f', '-0', '-P', f'null={_NULL}', '-d', url]
        null_params = set()
        for i, p in enumerate(params, 1):
            if p is None:
                null_params.add(i)
            else:
                args += ['-v', f'hwp{i}={p}']

        def bind(m):
            i = int(m.group(1))
            if i < 1 or i > len(params):
                raise ValueError(f'${i} has no parameter')
            return 'NULL' if i in null_params else f":'hwp{i}'"
        # Outside string literals only: a '$1' inside quotes stays text.
        parts = re.split(r"('(?:[^']|'')*')", query)
        query = ''.join(p if p.startswith("'") else re.sub(r'\$(\d+)', bind, p) for p in parts)
        p = subprocess.run(args, input=query, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode != 0:
            raise StackError(f'SQL failed: {p.stderr.strip()}\n{query}')
        # -0: every row ends with a NUL byte, which no SQL text can contain.
        return [tuple(None if f == _NULL else f for f in rec.split('\x1f'))
                for rec in p.stdout.split('\0')[:-1]]

    def pg_restart(self):
        """Restart this stack's private Postgres (data kept)."""
        if not self.private_pg:
            raise StackError('pg_restart needs Stack(private_pg=True)')
        _run(['bash', STACK_SH, 'pg-restart', self._pg_dir, str(self._pg_port)],
             env={**os.environ, 'HW_PG_FAST': '1'})

    def pg_stop(self):
        if not self.private_pg:
            raise StackError('pg_stop needs Stack(private_pg=True)')
        _run(['bash', STACK_SH, 'pg-stop', self._pg_dir])

    def pg_start(self):
        if not self.private_pg:
            raise StackError('pg_start needs Stack(private_pg=True)')
        _run(['bash', STACK_SH, 'pg-start', self._pg_dir, str(self._pg_port)],
             env={**os.environ, 'HW_PG_FAST': '1'})

    # ------------------------------------------------------------ Redis
    @property
    def redis_addr(self):
        return f'127.0.0.1:{self.redis_port}'

    def redis_cli(self, *args):
        """Run redis-cli against this stack's Redis; returns stdout stripped."""
        p = _run(['redis-cli', '-h', '127.0.0.1', '-p', str(self.redis_port)]
                 + [str(a) for a in args])
        return p.stdout.strip()

    def redis_stop(self):
        _run(['bash', STACK_SH, 'redis-stop', str(self.redis_port)])

    def redis_start(self):
        _run(['bash', STACK_SH, 'redis-start', self._redis_dir, str(self.redis_port)])

    def redis_restart(self):
        """SHUTDOWN and start again on the same port (the AOF is reloaded)."""
        self.redis_stop()
        self.redis_start()
