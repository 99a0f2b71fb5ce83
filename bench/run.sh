#!/usr/bin/env bash
# bench/run.sh -- gRPC health Check throughput and latency: our episodes
# service (C over gRPC C core, with its Postgres and Redis up) against a
# minimal gRPC C++ server (bench/health_cxx.cc) answering the same call.
#
# Needs build/homeward-episodes and build/bench-health-cxx (`./homeward bench`
# builds both). Load: h2load -c 50 -n 200000 -m 10 on one client thread, after
# a warm-up. Latency percentiles come from h2load's per-request log.
# Ports (environment): HW_BENCH_PG_PORT 25442, HW_BENCH_REDIS_PORT 26389,
# HW_BENCH_PORT 50061 (ours), HW_BENCH_CXX_PORT 50062. HW_BENCH_N overrides
# the request count.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${HW_BUILD_DIR:-$ROOT/build}
STACK=$ROOT/deploy/local/stack.sh
PG_PORT=${HW_BENCH_PG_PORT:-25442}
REDIS_PORT=${HW_BENCH_REDIS_PORT:-26389}
OUR_PORT=${HW_BENCH_PORT:-50061}
CXX_PORT=${HW_BENCH_CXX_PORT:-50062}
N=${HW_BENCH_N:-200000}
METHOD=/grpc.health.v1.Health/Check
STATE=$ROOT/.homeward/bench

die() { echo "bench: $*" >&2; exit 1; }
for b in homeward-episodes bench-health-cxx; do
    [[ -x $BUILD/$b ]] || die "$BUILD/$b is missing: run ./homeward bench"
done
for t in h2load nghttp redis-server; do
    command -v "$t" >/dev/null || die "$t is missing: run ./homeward bench"
done

rm -rf "$STATE/work"
mkdir -p "$STATE/work"
WORK=$STATE/work
OUR_PID='' CXX_PID=''
cleanup() {
    [[ -n $OUR_PID ]] && kill -TERM "$OUR_PID" 2>/dev/null && wait "$OUR_PID" 2>/dev/null
    [[ -n $CXX_PID ]] && kill -TERM "$CXX_PID" 2>/dev/null && wait "$CXX_PID" 2>/dev/null
    "$STACK" redis-stop "$REDIS_PORT" || true
    "$STACK" pg-stop "$STATE/pg" || true
}
trap cleanup EXIT

# ---- our service, with the Postgres and Redis it runs against
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/key.pem" 2>/dev/null
openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" 2>/dev/null
"$STACK" pg-start "$STATE/pg" "$PG_PORT" >/dev/null
"$STACK" roles "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" homeward
"$STACK" redis-start "$STATE/redis" "$REDIS_PORT" >/dev/null
DB="127.0.0.1:$PG_PORT/homeward"
env HOMEWARD_LISTEN="127.0.0.1:$OUR_PORT" \
    DATABASE_URL="postgresql://homeward_episodes@$DB" MIGRATE_DATABASE_URL="postgresql://homeward_owner@$DB" \
    DB_RUNTIME_ROLE=homeward_episodes REDIS_ADDR="127.0.0.1:$REDIS_PORT" \
    JWT_PUBLIC_KEY_FILE="$WORK/pub.pem" JWT_ISSUER=homeward-dev JWT_AUDIENCE=homeward \
    SERVICE_TOKEN_KEY_FILE="$WORK/key.pem" EVENT_SUBSCRIBERS='' HOMEWARD_MIGRATIONS_DIR="$ROOT" \
    EPISODES_ADDR="127.0.0.1:$OUR_PORT" RISK_ADDR=127.0.0.1:1 INTERVIEWS_ADDR=127.0.0.1:1 \
    NOTIFICATIONS_ADDR=127.0.0.1:1 MEETINGS_ADDR=127.0.0.1:1 \
    "$BUILD/homeward-episodes" >"$WORK/episodes.log" 2>&1 &
OUR_PID=$!
"$BUILD/bench-health-cxx" "127.0.0.1:$CXX_PORT" >"$WORK/cxx.log" 2>&1 &
CXX_PID=$!

printf '\0\0\0\0\0' >"$WORK/req.grpc"   # uncompressed, length 0: HealthCheckRequest{service: ""}

# grpc-status of one Check, read from the trailers.
grpc_status() {
    nghttp -v -H 'content-type: application/grpc' -H 'te: trailers' -d "$WORK/req.grpc" \
        "http://127.0.0.1:$1$METHOD" 2>&1 | sed -n 's/.*grpc-status: \([0-9]*\).*/\1/p' | tail -n 1
}

wait_ok() {
    local name=$1 port=$2 pid=$3 log=$4 i
    for ((i = 0; i < 120; i++)); do
        [[ "$(grpc_status "$port")" == 0 ]] && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; die "$name exited"; }
        sleep 0.5
    done
    tail -n 30 "$log" >&2
    die "$name never answered $METHOD with grpc-status 0"
}
wait_ok ours "$OUR_PORT" "$OUR_PID" "$WORK/episodes.log"
wait_ok c++ "$CXX_PORT" "$CXX_PID" "$WORK/cxx.log"

# run NAME PORT PID: sets RPS P50 P99 (microseconds) and HWM (KiB).
run() {
    local name=$1 port=$2 pid=$3 out ok failed
    local h2=(h2load -c 50 -m 10 -d "$WORK/req.grpc" -H 'content-type: application/grpc'
              -H 'te: trailers' "http://127.0.0.1:$port$METHOD")
    "${h2[@]}" -n $((N / 10)) >/dev/null 2>&1 || true   # warm-up
    out=$("${h2[@]}" -n "$N" --log-file="$WORK/$name.lat" 2>&1) || { echo "$out" >&2; die "h2load failed on $name"; }
    echo "$out" >"$WORK/$name.h2load"
    RPS=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
    ok=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
    failed=$(sed -n 's/^requests: .* \([0-9]*\) failed.*/\1/p' <<<"$out")
    [[ "$ok" == "$N" && "$failed" == 0 ]] || { echo "$out" >&2; die "$name: $ok of $N succeeded"; }
    # The grpc-status after the load: the server still answers correctly.
    [[ "$(grpc_status "$port")" == 0 ]] || die "$name: grpc-status not 0 after the load"
    read -r P50 P99 < <(cut -f3 "$WORK/$name.lat" | sort -n |
        awk '{v[NR]=$1} END {i50=int(NR*0.50); i99=int(NR*0.99); if(i50<1)i50=1; if(i99<1)i99=1; print v[i50], v[i99]}')
    HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
}

echo "bench: $METHOD, h2load -c 50 -n $N -m 10, $(nproc) cores"
run ours "$OUR_PORT" "$OUR_PID"
o_rps=$RPS o_p50=$P50 o_p99=$P99 o_hwm=$HWM
run cxx "$CXX_PORT" "$CXX_PID"
c_rps=$RPS c_p50=$P50 c_p99=$P99 c_hwm=$HWM

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '\n| server | req/s | p50 (us) | p99 (us) | peak RSS (MiB) |\n'
printf '|---|---|---|---|---|\n'
printf '| homeward-episodes (C) | %.0f | %s | %s | %.1f |\n' "$o_rps" "$o_p50" "$o_p99" "$(awk -v k="$o_hwm" 'BEGIN{print k/1024}')"
printf '| gRPC C++ callback server | %.0f | %s | %s | %.1f |\n' "$c_rps" "$c_p50" "$c_p99" "$(awk -v k="$c_hwm" 'BEGIN{print k/1024}')"
printf '| ratio ours / C++ | %s | %s | %s | %s |\n' "$(ratio "$o_rps" "$c_rps")" "$(ratio "$o_p50" "$c_p50")" \
    "$(ratio "$o_p99" "$c_p99")" "$(ratio "$o_hwm" "$c_hwm")"
echo
echo "(raw h2load output and per-request latencies in ${WORK#"$ROOT"/}/)"
