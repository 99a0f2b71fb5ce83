#!/usr/bin/env bash
# stack.sh -- start and stop a development Postgres 15 and Redis 7 in a folder.
#
# The one place that knows how: ./homeward, the ctest fixture and
# tests/harness/hw.py all call it.
#
#   stack.sh pg-start DIR PORT      initdb on first use, start, wait until ready
#   stack.sh pg-stop DIR            fast shutdown (no-op when not running)
#   stack.sh pg-restart DIR PORT    stop then start (the data survives)
#   stack.sh pg-status DIR          exit 0 when running
#   stack.sh pg-url PORT            superuser URL to database postgres
#   stack.sh redis-start DIR PORT   start (or reuse the one already on PORT)
#   stack.sh redis-stop PORT        SHUTDOWN (no-op when nothing answers)
#   stack.sh redis-status PORT      exit 0 when it answers PING
#   stack.sh roles URL [DB]         create the owner and runtime roles, and DB
#                                   owned by homeward_owner, idempotently
#
# Postgres listens on 127.0.0.1 only, with trust authentication: for a
# developer's machine and tests, never for anything shared. Its superuser is
# "postgres". HW_PG_FAST=1 turns fsync off (test stacks: a crash of the
# machine may lose their data, which nobody keeps).
#
# Postgres refuses to run as root. As root we run it as the unprivileged user
# "homeward" (created when missing). When that user cannot reach DIR (a clone
# under /root, mode 0700), the data lives under /var/tmp/homeward-pg and DIR
# becomes a symlink to it.
set -euo pipefail

PG_BIN=${HW_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=homeward
RUNTIME_ROLES=(homeward_episodes homeward_risk homeward_interviews homeward_notifications homeward_meetings)

die() { echo "stack.sh: $*" >&2; exit 1; }

need_port() {
    [[ "${1:-}" =~ ^[0-9]+$ ]] && (( $1 > 0 && $1 < 65536 )) || die "bad port '${1:-}'"
}

# Run a command as the Postgres user (ourselves unless we are root).
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

ensure_pg_user() {
    [[ $EUID -eq 0 ]] || return 0
    if ! id -u "$PG_USER" >/dev/null 2>&1; then
        # Two parallel callers may race here: the loser's useradd fails, which is fine
        # as long as the user exists afterwards.
        useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$PG_USER" 2>/dev/null || true
        id -u "$PG_USER" >/dev/null 2>&1 || die "could not create user $PG_USER"
    fi
}

# Print the real data directory for DIR, creating it (and the symlink
# fallback) when needed.
pg_data_dir() {
    local dir=$1 real parent
    if [[ -L "$dir" ]]; then
        real=$(readlink -f "$dir")
        mkdir -p "$real"   # the target may have been cleaned away
        echo "$real"
        return
    fi
    if [[ -d "$dir/base" || $EUID -ne 0 ]]; then
        mkdir -p "$dir"
        readlink -f "$dir"
        return
    fi
    mkdir -p "$dir"
    real=$(readlink -f "$dir")
    parent=$(dirname "$real")
    if as_pg test -x "$parent" 2>/dev/null; then
        echo "$real"
        return
    fi
    # The Postgres user cannot traverse to DIR: keep the data where it can.
    rmdir "$dir" 2>/dev/null || die "$dir is not reachable by user $PG_USER and not empty"
    local alt
    alt=/var/tmp/homeward-pg/$(printf '%s' "$real" | md5sum | cut -c1-16)
    mkdir -p /var/tmp/homeward-pg
    chmod 0755 /var/tmp/homeward-pg
    rm -rf "$alt"
    mkdir -p "$alt"
    ln -s "$alt" "$dir"
    echo "$alt"
}

pg_running() {
    local data=$1
    [[ -f "$data/postmaster.pid" ]] || return 1
    as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

pg_start() {
    local dir=$1 port=$2 data sockdir
    need_port "$port"
    [[ -x "$PG_BIN/pg_ctl" ]] || die "Postgres 15 not found in $PG_BIN (apt-get install postgresql-15)"
    ensure_pg_user
    data=$(pg_data_dir "$dir")
    if [[ $EUID -eq 0 ]]; then
        chown "$PG_USER:" "$data"
    fi
    chmod 0700 "$data"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        [[ -z "$(ls -A "$data")" ]] || die "$dir is neither empty nor a Postgres data directory"
        local out
        out=$(as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=trust \
                  --encoding=UTF8 --no-locale 2>&1) || { echo "$out" >&2; die "initdb failed in $dir"; }
    fi
    # A unix socket path is limited to 107 bytes; past that, TCP only.
    sockdir=$data
    if (( ${#sockdir} > 90 )); then sockdir=''; fi
    # Rewritten on every start so a changed port or mode takes effect.
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$sockdir'"
        echo "max_connections = 300"
        echo "shared_buffers = 64MB"
        echo "log_min_messages = warning"
        echo "log_min_error_statement = panic"
        echo "log_line_prefix = '%m [%p] '"
        echo "timezone = 'UTC'"
        if [[ "${HW_PG_FAST:-0}" == 1 ]]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } >"$data/homeward.conf"
    if [[ $EUID -eq 0 ]]; then chown "$PG_USER:" "$data/homeward.conf"; fi
    grep -q "^include_if_exists = 'homeward.conf'" "$data/postgresql.conf" \
        || echo "include_if_exists = 'homeward.conf'" >>"$data/postgresql.conf"
    if pg_running "$data"; then
        local running_port
        running_port=$(sed -n 4p "$data/postmaster.pid")
        [[ "$running_port" == "$port" ]] || die "Postgres in $dir already runs on port $running_port, not $port"
        echo "postgres: already running in $dir on 127.0.0.1:$port"
        return 0
    fi
    # A postmaster.pid left by a killed server is removed by postgres itself.
    if ! as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 -s start >/dev/null; then
        tail -n 30 "$data/postgres.log" >&2 || true
        die "Postgres did not start in $dir on port $port"
    fi
    echo "postgres: running in $dir on 127.0.0.1:$port"
}

pg_stop() {
    local dir=$1 data
    [[ -e "$dir" ]] || return 0
    data=$(readlink -f "$dir")
    if pg_running "$data"; then
        as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 -s stop
    fi
}

pg_url() {
    need_port "$1"
    echo "postgresql://postgres@127.0.0.1:$1/postgres"
}

redis_ping() {
    [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]
}

redis_start() {
    local dir=$1 port=$2 i
    need_port "$port"
    command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
    if redis_ping "$port"; then
        local running_dir
        running_dir=$(redis-cli -h 127.0.0.1 -p "$port" config get dir 2>/dev/null | sed -n 2p)
        if [[ "$running_dir" != "$(readlink -f "$dir")" ]]; then
            die "another Redis (dir $running_dir) already answers on port $port"
        fi
        echo "redis: already running in $dir on 127.0.0.1:$port"
        return 0
    fi
    mkdir -p "$dir"
    dir=$(readlink -f "$dir")
    # noeviction: a scheduler entry must never be dropped to make room.
    # appendonly: a restart keeps what was written (the services re-arm from
    # Postgres anyway).
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --dir "$dir" \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        --appendonly yes --maxmemory-policy noeviction --save '' >/dev/null \
        || die "redis-server failed to start on port $port"
    for ((i = 0; i < 100; i++)); do
        redis_ping "$port" && { echo "redis: running in $dir on 127.0.0.1:$port"; return 0; }
        sleep 0.1
    done
    tail -n 20 "$dir/redis.log" >&2 || true
    die "Redis did not answer on port $port"
}

redis_stop() {
    local port=$1 i
    need_port "$port"
    redis_ping "$port" || return 0
    redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
    for ((i = 0; i < 100; i++)); do
        redis_ping "$port" || return 0
        sleep 0.1
    done
    die "Redis on port $port did not stop"
}

roles() {
    local url=$1 db=${2:-}
    local sql="" r
    # Parallel callers race on CREATE ROLE: a duplicate is fine.
    for r in homeward_owner "${RUNTIME_ROLES[@]}"; do
        sql+="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$r') THEN
    CREATE ROLE $r LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END \$\$;
"
    done
    psql -X -q -v ON_ERROR_STOP=1 -d "$url" >/dev/null <<<"$sql" || die "creating roles failed"
    if [[ -n "$db" ]]; then
        [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name '$db'"
        if [[ "$(psql -X -At -d "$url" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
            psql -X -q -v ON_ERROR_STOP=1 -d "$url" -c "CREATE DATABASE $db OWNER homeward_owner" >/dev/null \
                || die "creating database $db failed"
        fi
    fi
}

cmd=${1:-}
shift || true
case "$cmd" in
    pg-start)     [[ $# -eq 2 ]] || die "usage: pg-start DIR PORT"; pg_start "$1" "$2" ;;
    pg-stop)      [[ $# -eq 1 ]] || die "usage: pg-stop DIR"; pg_stop "$1" ;;
    pg-restart)   [[ $# -eq 2 ]] || die "usage: pg-restart DIR PORT"; pg_stop "$1"; pg_start "$1" "$2" ;;
    pg-status)    [[ $# -eq 1 ]] || die "usage: pg-status DIR"; [[ -e "$1" ]] && pg_running "$(readlink -f "$1")" ;;
    pg-url)       [[ $# -eq 1 ]] || die "usage: pg-url PORT"; pg_url "$1" ;;
    redis-start)  [[ $# -eq 2 ]] || die "usage: redis-start DIR PORT"; redis_start "$1" "$2" ;;
    redis-stop)   [[ $# -eq 1 ]] || die "usage: redis-stop PORT"; redis_stop "$1" ;;
    redis-status) [[ $# -eq 1 ]] || die "usage: redis-status PORT"; redis_ping "$1" ;;
    roles)        [[ $# -ge 1 && $# -le 2 ]] || die "usage: roles URL [DB]"; roles "$@" ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
