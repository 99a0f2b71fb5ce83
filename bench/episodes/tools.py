"""tools.py -- helpers for bench_episodes.sh (run with /usr/bin/python3).

  tools.py frame HOME_ID OUT            a gRPC-framed GetHomeRosterRequest for h2load
  tools.py h2stats LOGFILE              "p50_ms p99_ms n" from h2load --log-file
  tools.py pgstats LOGFILE...           "p50_ms p99_ms n" from pgbench --log files
  tools.py report ADDR TOKEN IDS N C    ReportMissing load: N calls, C in flight, one
                                        child each; prints "req_per_s p50_ms p99_ms ok errors"
"""
import statistics
import sys
import threading
import time
import uuid


def pct(values, p):
    if not values:
        return float('nan')
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


def frame(home_id, out):
    from homeward.episodes.v1 import episodes_pb2 as pb
    msg = pb.GetHomeRosterRequest(home_id=home_id).SerializeToString()
    with open(out, 'wb') as f:
        f.write(b'\x00' + len(msg).to_bytes(4, 'big') + msg)


def h2stats(path):
    # Lines: start time (us since epoch), status, elapsed time (us).
    lat = []
    bad = 0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3:
                continue
            if parts[1] != '200':
                bad += 1
            lat.append(int(parts[2]) / 1000.0)
    print(f'{pct(lat, 50):.2f} {pct(lat, 99):.2f} {len(lat)} {bad}')


def pgstats(paths):
    # pgbench --log: client_id transaction_no time(us) script_no time_epoch time_us
    lat = []
    for path in paths:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    lat.append(int(parts[2]) / 1000.0)
    print(f'{pct(lat, 50):.2f} {pct(lat, 99):.2f} {len(lat)}')


def report(addr, token, ids_path, n, concurrency):
    import grpc
    from homeward.episodes.v1 import episodes_pb2 as pb
    from homeward.episodes.v1 import episodes_pb2_grpc as pbg
    ids = [line.strip() for line in open(ids_path) if line.strip()][:n]
    channel = grpc.insecure_channel(addr)
    stub = pbg.EpisodesStub(channel)
    md = [('authorization', f'Bearer {token}'), ('x-purpose', 'bench')]
    sem = threading.Semaphore(concurrency)
    lock = threading.Lock()
    lat, errors = [], []
    done = threading.Event()
    remaining = [len(ids)]

    def finished(fut, t0):
        ms = (time.perf_counter() - t0) * 1000.0
        with lock:
            if fut.exception() is None:
                lat.append(ms)
            else:
                errors.append(fut.exception().code().name)
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()
        sem.release()

    # Warm the channel first.
    grpc.channel_ready_future(channel).result(timeout=10)
    start = time.perf_counter()
    for child_id in ids:
        sem.acquire()
        req = pb.ReportMissingRequest(request_id=str(uuid.uuid4()), report=pb.MissingReport(
            child_id=child_id, last_seen_at='2026-01-01T00:00:00Z', last_seen_place='bench',
            clothing='bench', circumstances='bench', reporter_name='bench'))
        t0 = time.perf_counter()
        fut = stub.ReportMissing.future(req, metadata=md, timeout=30)
        fut.add_done_callback(lambda f, t0=t0: finished(f, t0))
    done.wait(timeout=600)
    elapsed = time.perf_counter() - start
    kinds = ','.join(sorted(set(errors))) or '-'
    print(f'{len(lat) / elapsed:.0f} {pct(lat, 50):.2f} {pct(lat, 99):.2f} {len(lat)} {len(errors)} {kinds}')


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'frame':
        frame(sys.argv[2], sys.argv[3])
    elif cmd == 'h2stats':
        h2stats(sys.argv[2])
    elif cmd == 'pgstats':
        pgstats(sys.argv[2:])
    elif cmd == 'report':
        report(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        sys.exit(__doc__)
