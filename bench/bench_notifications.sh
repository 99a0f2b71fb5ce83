#!/usr/bin/env bash
# bench/bench_notifications.sh -- 10,000 concurrent idle Subscribe streams on
# the notifications service: its RSS (VmHWM/VmRSS) and the time from a
# missing report to its delivery on every stream it targets (p50/p99).
# Targets: under 200 MB, p99 under 1 s. A private Postgres and Redis on free
# ports (tests/harness/hw.py). Use a build without sanitizers:
#   HW_BUILD_DIR=build bash bench/bench_notifications.sh
# BENCH_STREAMS, BENCH_CHANNELS, BENCH_EVENTS, BENCH_USERS tune the load;
# BENCH_MALLOC_ARENA_MAX (default 2) is passed to the service as MALLOC_ARENA_MAX.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${HW_BUILD_DIR:-$ROOT/build}
for b in homeward-episodes homeward-notifications; do
    [[ -x $BUILD/$b ]] || { echo "bench: $BUILD/$b is missing: build first" >&2; exit 1; }
done
[[ -d $BUILD/pygen ]] || { echo "bench: $BUILD/pygen is missing: build the pystubs target" >&2; exit 1; }
# Each stream is a file-free HTTP/2 stream, but be generous with descriptors.
ulimit -n 65536 2>/dev/null || true
unset HW_TEST_PG_URL
HW_SOURCE_DIR=$ROOT HW_BINARY_DIR=$BUILD \
PYTHONPATH=$ROOT/tests/harness:$BUILD/pygen PYTHONDONTWRITEBYTECODE=1 \
    exec /usr/bin/python3 "$ROOT/bench/bench_notifications.py"
