"""bench_notifications.py -- 10,000 idle Subscribe streams on the notifications service.

Starts a private stack (Postgres, Redis, episodes, notifications) with the
test harness, opens N Subscribe streams (grpc.aio, spread over C channels)
as care staff of one children's home, reports children of that home missing
through the episodes service, and measures, per report, the time from the
ReportMissing call to the notification's arrival on every stream it targets.
Prints the service's VmHWM/VmRSS and the p50/p99 delivery latency.

Environment: HW_BINARY_DIR (use a build without sanitizers), BENCH_STREAMS
(10000), BENCH_CHANNELS (50), BENCH_EVENTS (5), BENCH_USERS (100 care staff,
each with STREAMS/USERS devices).
"""

import asyncio
import os
import sys
import traceback
import time
import uuid
from datetime import datetime, timedelta, timezone

import grpc

import hw
from homeward.episodes.v1 import episodes_pb2 as ep
from homeward.episodes.v1 import episodes_pb2_grpc as ep_grpc
from homeward.notifications.v1 import notifications_pb2 as nt
from homeward.notifications.v1 import notifications_pb2_grpc as nt_grpc

STREAMS = int(os.environ.get('BENCH_STREAMS', '10000'))
CHANNELS = int(os.environ.get('BENCH_CHANNELS', '50'))
EVENTS = int(os.environ.get('BENCH_EVENTS', '5'))
USERS = int(os.environ.get('BENCH_USERS', '100'))


def rid():
    return str(uuid.uuid4())


def ts(dt):
    return dt.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000Z')


def mem(pid):
    out = {}
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(('VmHWM', 'VmRSS')):
                k, v = line.split(':')
                out[k] = int(v.split()[0]) // 1024
    return out


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


async def main(stack):
    md = stack.metadata(stack.token('service', 'homeward', sub='service:bench'), 'bench set-up')
    eps = ep_grpc.EpisodesStub(stack.channel('episodes'))
    home = eps.UpsertHome(ep.UpsertHomeRequest(request_id=rid(), home=ep.Home(
        name='Bench Home', host_authority='la-stoke')), metadata=md, timeout=10)
    children = []
    for _ in range(EVENTS):
        c = eps.UpsertChild(ep.UpsertChildRequest(request_id=rid(), child=ep.Child(
            first_name='Bench', last_name='Child', date_of_birth='2010-01-01',
            looked_after=True, responsible_authority='la-stoke')), metadata=md, timeout=10)
        eps.UpsertPlacement(ep.UpsertPlacementRequest(request_id=rid(), placement=ep.Placement(
            child_id=c.id, home_id=home.id, placement_type="children's home",
            starts_at=ts(datetime.now(timezone.utc) - timedelta(hours=2)),
            placing_authority='la-stoke', responsible_authority='la-stoke')),
            metadata=md, timeout=10)
        children.append(c.id)

    tokens = [stack.token('care_staff', 'la-stoke', homes=(home.id,), sub=f'carer-{i}')
              for i in range(USERS)]
    channels = [grpc.aio.insecure_channel(stack.addr('notifications'),
                                          options=[('grpc.use_local_subchannel_pool', 1)])
                for _ in range(CHANNELS)]
    arrivals = {}          # episode id -> list of arrival times
    started = 0
    ready = asyncio.Event()

    async def one(i):
        nonlocal started
        stub = nt_grpc.NotificationsStub(channels[i % CHANNELS])
        call = stub.Subscribe(nt.SubscribeRequest(),
                              metadata=stack.metadata(tokens[i % USERS]))
        async for m in call:
            if m.WhichOneof('body') == 'started':
                started += 1
                if started == STREAMS:
                    ready.set()
            else:
                arrivals.setdefault(m.notification.episode_id, []).append(time.monotonic())

    base = mem(stack.pid('notifications'))
    print(f'notifications service before any stream: VmRSS {base["VmRSS"]} MB')
    t_open = time.monotonic()
    tasks = [asyncio.ensure_future(one(i)) for i in range(STREAMS)]
    await asyncio.wait_for(ready.wait(), timeout=300)
    print(f'{STREAMS} streams open in {time.monotonic() - t_open:.1f} s '
          f'over {CHANNELS} channels')
    await asyncio.sleep(3)
    pid = stack.pid('notifications')
    idle = mem(pid)
    print(f'notifications service, {STREAMS} idle streams: VmRSS {idle["VmRSS"]} MB, '
          f'VmHWM {idle["VmHWM"]} MB')

    latencies = []
    loop = asyncio.get_running_loop()
    for child in children:
        t0 = time.monotonic()
        r = await loop.run_in_executor(None, lambda: eps.ReportMissing(ep.ReportMissingRequest(
            request_id=rid(), report=ep.MissingReport(
                child_id=child, last_seen_at=ts(datetime.now(timezone.utc) - timedelta(minutes=5)),
                last_seen_place='bench', clothing='bench', circumstances='bench',
                reporter_name='bench')), metadata=md, timeout=30))
        eid = r.episode.id
        deadline = time.monotonic() + 30
        while len(arrivals.get(eid, [])) < STREAMS and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        got = arrivals.get(eid, [])
        print(f'report {eid[:8]}: delivered to {len(got)}/{STREAMS} streams, '
              f'last after {(max(got) - t0) * 1000:.0f} ms' if got else 'not delivered')
        latencies += [(t - t0) * 1000 for t in got]
        await asyncio.sleep(1)
    peak = mem(pid)
    n_expected = STREAMS * EVENTS
    print(f'deliveries {len(latencies)}/{n_expected}: p50 {pct(latencies, 50):.0f} ms, '
          f'p99 {pct(latencies, 99):.0f} ms, max {max(latencies):.0f} ms')
    print(f'notifications service after the events: VmRSS {peak["VmRSS"]} MB, '
          f'VmHWM {peak["VmHWM"]} MB (target < 200 MB; p99 target < 1000 ms)')
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for ch in channels:
        await ch.close()
    ok = (len(latencies) == n_expected and peak['VmHWM'] < 200 and pct(latencies, 99) < 1000)
    print('RESULT', 'PASS' if ok else 'FAIL')
    _stop_and_exit(stack, 0 if ok else 1)


def _stop_and_exit(stack, rc):
    """Stop the stack and leave at once: grpc.aio's shutdown at the end of
    asyncio.run() hangs here after 10,000 cancelled streams (seen twice: the
    figures printed, then the process and its servers stayed up)."""
    try:
        stack.stop(close_channels=False)
    except Exception as e:
        print(f"bench: stack stop: {e}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


if __name__ == '__main__':
    # glibc gives each gRPC thread its own malloc arena; two keep the
    # per-stream allocations of many threads from fragmenting into many.
    arenas = os.environ.get('BENCH_MALLOC_ARENA_MAX', '2')
    stack = hw.Stack(services=('episodes', 'notifications'), private_pg=True,
                     name='bench_notifications', workers=4,
                     env_overrides={'notifications': {'MALLOC_ARENA_MAX': arenas}})
    stack.start()
    rc = 1
    try:
        rc = asyncio.run(main(stack))
    except BaseException:
        traceback.print_exc()
    _stop_and_exit(stack, rc)

