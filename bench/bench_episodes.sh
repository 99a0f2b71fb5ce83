#!/usr/bin/env bash
# bench_episodes.sh -- GetHomeRoster and ReportMissing under load with
# 10,000 children, 3,000 homes and 200,000 episodes loaded, beside the same
# statements run straight against Postgres with pgbench in the same run.
#
#   GetHomeRoster: h2load -c 50 -m 1 against the service (a SPOC's token,
#     one home), pgbench -c 50 -M prepared with bench/episodes/roster.sql
#     followed by bench/episodes/audit_row.sql (the same statements as the
#     service: the read and its audit row, the row committed per read where
#     the service groups the commits), and roster.sql alone (the read
#     statement only). Both ratios are printed; the first is the target's.
#     Target: service >= 0.5 x direct throughput, p99 < 20 ms at 50 clients.
#   ReportMissing: a Python grpcio client with 50 calls in flight, each a new
#     request_id for a different child (h2load repeats one body, which would
#     only measure idempotent replays), and pgbench -c 50 with
#     bench/episodes/report.sql (the same statements in one transaction).
#
# Data is bulk-loaded with generate_series (bench/episodes/load.sql). Needs
# build/homeward-episodes and build/hwctl (`./homeward bench` builds them).
# Environment: HW_BUILD_DIR (default build), HW_BENCH_EP_PG_PORT 25521,
# HW_BENCH_EP_REDIS_PORT 25522, HW_BENCH_EP_PORT 25523, HW_BENCH_EP_WORKERS 4 (the
# service's default handler threads), HW_BENCH_SECONDS 15,
# HW_BENCH_REPORTS 3000.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${HW_BUILD_DIR:-$ROOT/build}
STACK=$ROOT/deploy/local/stack.sh
HERE=$ROOT/bench/episodes
PG_PORT=${HW_BENCH_EP_PG_PORT:-25521}
REDIS_PORT=${HW_BENCH_EP_REDIS_PORT:-25522}
PORT=${HW_BENCH_EP_PORT:-25523}
SECONDS_=${HW_BENCH_SECONDS:-15}
REPORTS=${HW_BENCH_REPORTS:-3000}
CLIENTS=50
STATE=$ROOT/.homeward/bench-episodes
WORK=$STATE/work
PY=/usr/bin/python3
export PYTHONPATH=$BUILD/pygen

die() { echo "bench_episodes: $*" >&2; exit 1; }
for b in homeward-episodes hwctl; do
    [[ -x $BUILD/$b ]] || die "$BUILD/$b is missing: run ./homeward bench"
done
for t in h2load nghttp pgbench psql redis-server; do
    command -v "$t" >/dev/null || [[ -x /usr/lib/postgresql/15/bin/$t ]] ||
        die "$t is missing: run ./homeward bench"
done
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)

rm -rf "$WORK" "$STATE/pg"
mkdir -p "$WORK"
SVC_PID=''
cleanup() {
    [[ -n $SVC_PID ]] && kill -TERM "$SVC_PID" 2>/dev/null && wait "$SVC_PID" 2>/dev/null
    "$STACK" redis-stop "$REDIS_PORT" >/dev/null 2>&1 || true
    "$STACK" pg-stop "$STATE/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# ---- Postgres, Redis, keys, the service
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/key.pem" 2>/dev/null
openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" 2>/dev/null
"$STACK" pg-start "$STATE/pg" "$PG_PORT" >/dev/null
"$STACK" roles "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" homeward
"$STACK" redis-start "$STATE/redis" "$REDIS_PORT" >/dev/null
DB="127.0.0.1:$PG_PORT/homeward"
SU_URL="postgresql://postgres@$DB"
env HOMEWARD_LISTEN="127.0.0.1:$PORT" HOMEWARD_WORKERS=${HW_BENCH_EP_WORKERS:-4} \
    DATABASE_URL="postgresql://homeward_episodes@$DB" MIGRATE_DATABASE_URL="postgresql://homeward_owner@$DB" \
    DB_RUNTIME_ROLE=homeward_episodes REDIS_ADDR="127.0.0.1:$REDIS_PORT" \
    JWT_PUBLIC_KEY_FILE="$WORK/pub.pem" JWT_ISSUER=homeward-dev JWT_AUDIENCE=homeward \
    EVENT_SUBSCRIBERS='' HOMEWARD_MIGRATIONS_DIR="$ROOT" \
    "$BUILD/homeward-episodes" >"$WORK/episodes.log" 2>&1 &
SVC_PID=$!
export EPISODES_ADDR=127.0.0.1:$PORT JWT_ISSUER=homeward-dev JWT_AUDIENCE=homeward
export HOMEWARD_DEV_KEY=$WORK/key.pem
for ((i = 0; i < 120; i++)); do
    "$BUILD/hwctl" health episodes >/dev/null 2>&1 && break
    kill -0 "$SVC_PID" 2>/dev/null || { tail -n 30 "$WORK/episodes.log" >&2; die "the service exited"; }
    sleep 0.5
done
"$BUILD/hwctl" health episodes >/dev/null 2>&1 || die "the service never became SERVING"

# ---- data
echo "bench_episodes: loading 3,000 homes, 10,000 children, 200,000 episodes"
t0=$(date +%s)
psql -X -q -d "$SU_URL" -f "$HERE/load.sql" >/dev/null
psql -X -q -d "$SU_URL" -c "GRANT USAGE ON SCHEMA bench TO homeward_episodes" >/dev/null
echo "bench_episodes: loaded in $(( $(date +%s) - t0 )) s: $(psql -X -At -d "$SU_URL" -c \
    "SELECT (SELECT count(*) FROM episodes.children) || ' children, ' || (SELECT count(*) FROM episodes.homes)
     || ' homes, ' || (SELECT count(*) FROM episodes.episodes) || ' episodes'")"

HOME_ID=$(psql -X -At -d "$SU_URL" -c "SELECT id FROM bench.homes WHERE n = 1")
NOW_MS=$(( $(date +%s) * 1000 ))
FROM90=$(( NOW_MS - 90 * 86400000 ))
FROM12=$(psql -X -At -d "$SU_URL" -c \
    "SELECT floor(extract(epoch from to_timestamp($NOW_MS / 1000.0) - interval '1 year') * 1000)::bigint")

SPOC=$("$BUILD/hwctl" token --role spoc --org force-staffs --home "$HOME_ID" --sub bench-spoc)
OFFICER=$("$BUILD/hwctl" token --role police_officer --org force-staffs --sub bench-officer --ttl 7200)
"$PY" "$HERE/tools.py" frame "$HOME_ID" "$WORK/roster.grpc"
ROSTER_URL="http://127.0.0.1:$PORT/homeward.episodes.v1.Episodes/GetHomeRoster"
H2_HEADERS=(-H 'content-type: application/grpc' -H 'te: trailers' -H "authorization: Bearer $SPOC"
            -H 'x-purpose: bench: roster under load')

# The call must really succeed (h2load counts any HTTP 200 as success).
status=$(nghttp -v "${H2_HEADERS[@]}" -d "$WORK/roster.grpc" "$ROSTER_URL" 2>&1 |
         sed -n 's/.*grpc-status: \([0-9]*\).*/\1/p' | tail -n 1)
[[ $status == 0 ]] || die "GetHomeRoster answered grpc-status '$status'"
children=$(HOMEWARD_TOKEN=$SPOC "$BUILD/hwctl" call episodes GetHomeRoster "{\"home_id\":\"$HOME_ID\"}" --compact |
           "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["homes"][0].get("children", [])))')
episodes=$(psql -X -At -d "$SU_URL" -c "SELECT count(*) FROM episodes.episodes e JOIN episodes.placements p
    ON p.child_id = e.child_id AND p.ends_at IS NULL WHERE p.home_id = '$HOME_ID'")
echo "bench_episodes: the roster of home 1: $children children with $episodes episodes between them"

# ---- GetHomeRoster: the service
h2load -c "$CLIENTS" -m 1 -D 3 -d "$WORK/roster.grpc" "${H2_HEADERS[@]}" "$ROSTER_URL" >/dev/null 2>&1 || true
out=$(h2load -c "$CLIENTS" -m 1 -D "$SECONDS_" -d "$WORK/roster.grpc" "${H2_HEADERS[@]}" \
      --log-file="$WORK/roster.lat" "$ROSTER_URL" 2>&1) || { echo "$out" >&2; die "h2load failed"; }
echo "$out" >"$WORK/roster.h2load"
failed=$(sed -n 's/^requests: .* \([0-9]*\) failed.*/\1/p' <<<"$out")
[[ $failed == 0 ]] || { echo "$out" >&2; die "GetHomeRoster: $failed requests failed"; }
s_rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
read -r s_p50 s_p99 s_n _ < <("$PY" "$HERE/tools.py" h2stats "$WORK/roster.lat")
status=$(nghttp -v "${H2_HEADERS[@]}" -d "$WORK/roster.grpc" "$ROSTER_URL" 2>&1 |
         sed -n 's/.*grpc-status: \([0-9]*\).*/\1/p' | tail -n 1)
[[ $status == 0 ]] || die "GetHomeRoster answered grpc-status '$status' after the load"

# ---- GetHomeRoster: direct
PGB=("$PGBENCH" -n -M prepared -c "$CLIENTS" -j 2 -D home="$HOME_ID" -D now_ms="$NOW_MS"
     -D from90="$FROM90" -D from12="$FROM12")
"${PGB[@]}" -T 3 -f "$HERE/roster.sql" "$SU_URL" >/dev/null 2>&1 || true
(cd "$WORK" && "${PGB[@]}" -T "$SECONDS_" -f "$HERE/roster.sql" --log --log-prefix=roster_pg "$SU_URL" \
    >"$WORK/roster.pgbench" 2>&1) || { cat "$WORK/roster.pgbench" >&2; die "pgbench failed"; }
d_rps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/roster.pgbench" | head -n 1)
read -r d_p50 d_p99 d_n < <("$PY" "$HERE/tools.py" pgstats "$WORK"/roster_pg.*)
cat "$HERE/roster.sql" "$HERE/audit_row.sql" >"$WORK/roster_audited.sql"
(cd "$WORK" && "${PGB[@]}" -T "$SECONDS_" -f "$WORK/roster_audited.sql" --log --log-prefix=roster_pga \
    "$SU_URL" >"$WORK/roster_audited.pgbench" 2>&1) || { cat "$WORK/roster_audited.pgbench" >&2; die "pgbench failed"; }
a_rps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/roster_audited.pgbench" | head -n 1)
read -r a_p50 a_p99 a_n < <("$PY" "$HERE/tools.py" pgstats "$WORK"/roster_pga.*)

# ---- ReportMissing: the service (different children, new request ids)
# Children the officer's force may see (R-SEC-1): placed in a force-staffs area.
psql -X -At -d "$SU_URL" -c "SELECT c.id FROM bench.children c
    JOIN episodes.placements p ON p.child_id = c.id AND p.ends_at IS NULL
    JOIN episodes.homes h ON h.id = p.home_id JOIN episodes.authorities a ON a.code = h.host_authority
    WHERE a.force = 'force-staffs' ORDER BY c.n LIMIT $REPORTS" >"$WORK/children.txt"
read -r r_rps r_p50 r_p99 r_ok r_err r_kinds < <("$PY" "$HERE/tools.py" report "127.0.0.1:$PORT" \
    "$OFFICER" "$WORK/children.txt" "$REPORTS" "$CLIENTS")
[[ $r_err == 0 ]] || die "ReportMissing: $r_err of $REPORTS failed ($r_kinds)"

# ---- ReportMissing: direct
(cd "$WORK" && "$PGBENCH" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_" -f "$HERE/report.sql" \
    --log --log-prefix=report_pg "$SU_URL" >"$WORK/report.pgbench" 2>&1) ||
    { cat "$WORK/report.pgbench" >&2; die "pgbench failed"; }
rd_rps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/report.pgbench" | head -n 1)
read -r rd_p50 rd_p99 rd_n < <("$PY" "$HERE/tools.py" pgstats "$WORK"/report_pg.*)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
meets() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = op == ">=" ? v >= t : v < t; print ok ? "met" : "NOT met" }'; }
ra=$(ratio "$s_rps" "$a_rps")
rr=$(ratio "$s_rps" "$d_rps")
printf '\nbench_episodes: %s clients, %s s per run, %s cores\n' "$CLIENTS" "$SECONDS_" "$(nproc)"
printf '| call | path | req/s | p50 (ms) | p99 (ms) | requests |\n|---|---|---|---|---|---|\n'
printf '| GetHomeRoster | service (h2load) | %.0f | %s | %s | %s |\n' "$s_rps" "$s_p50" "$s_p99" "$s_n"
printf '| GetHomeRoster | direct: read + audit row (pgbench) | %.0f | %s | %s | %s |\n' "$a_rps" "$a_p50" "$a_p99" "$a_n"
printf '| GetHomeRoster | direct: read alone (pgbench) | %.0f | %s | %s | %s |\n' "$d_rps" "$d_p50" "$d_p99" "$d_n"
printf '| ReportMissing | service (grpcio) | %.0f | %s | %s | %s |\n' "$r_rps" "$r_p50" "$r_p99" "$r_ok"
printf '| ReportMissing | direct (pgbench) | %.0f | %s | %s | %s |\n' "$rd_rps" "$rd_p50" "$rd_p99" "$rd_n"
printf '\nGetHomeRoster service / the same statements direct: %s (target >= 0.5: %s)\n' "$ra" "$(meets "$ra" '>=' 0.5)"
printf 'GetHomeRoster service / the read statement alone: %s (>= 0.5: %s)\n' "$rr" "$(meets "$rr" '>=' 0.5)"
printf 'GetHomeRoster p99 at %s clients: %s ms (target < 20: %s)\n' "$CLIENTS" "$s_p99" "$(meets "$s_p99" '<' 20)"
printf 'ReportMissing service/direct throughput: %s\n' "$(ratio "$r_rps" "$rd_rps")"
echo "(raw outputs in ${WORK#"$ROOT"/}/)"
