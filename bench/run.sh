#!/usr/bin/env bash
# The service beside its limits, in one run on one machine, each limit measured just before
# the service runs the same scenario on the same data (so the machine's drift moves both):
#   - bare actix-web answering /hi with no middleware (bench/hello), the ceiling for GET /hi;
#   - pgbench running the service's own SQL (bench/sql/*.sql, prepared), the ceiling for
#     each Postgres scenario;
#   - bench-stack (bench/stack): the same requests on actix-web and sqlx alone, with the
#     service's SQL and nothing else, beside pgbench for each Postgres scenario: what the
#     service's stack does with HTTP in front, so the service's share of it is what its own
#     layers cost;
#   - bench-sqlite (bench/sqlite) running the service's own SQL straight on the SQLite
#     library, the ceiling for each SQLite scenario;
#   - the service (release build) on each backend and database, under wrk.
# For each scenario: requests (or transactions) per second, p50/p99 latency, the service's
# peak RSS, its share of the limit and, on Postgres, its share of bench-stack. Each run's
# database holds 41 orders of two items, placed through the service, before anything is
# measured.
#
#   bench/run.sh                               # 10 s per scenario, 64 connections
#   DURATION=5s CONNECTIONS=32 bench/run.sh
#   POOL=32 SQLITE_POOL=8 bench/run.sh         # DB_POOL_MAX on Postgres, on SQLite (defaults)
#   PARTS="limits pgbouncer" bench/run.sh      # some of: limits services pgbouncer token
#                                              # (without limits: the service alone)
# Only the backends and databases in the root Cargo.toml's `default` features are run.
# Needs wrk; with Postgres also pgbench (Debian: apt-get install wrk postgresql-client) and
# a Postgres at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres; a
# database orders_bench is created and dropped). SQLite's files go in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
POOL="${POOL:-32}"
# SQLite's pool: one file in one process gains nothing from more connections than a few
# per core, and each costs memory (its own page cache, and with sqlx its own thread).
SQLITE_POOL="${SQLITE_POOL:-8}"
PORT="${PORT:-8099}"
ADMIN_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# Every client of the run's database talks to it the same way, in the clear: by default
# (sslmode=prefer) pgbench and both backends would encrypt wherever the server offers TLS,
# as Debian's Postgres does, each with its own TLS library. On loopback that only adds cost
# (and OpenSSL's memory to diesel's RSS); BENCH_SSLMODE=require measures everyone with it.
SSLMODE="${BENCH_SSLMODE:-disable}"
BENCH_URL="${ADMIN_URL%/*}/orders_bench?sslmode=$SSLMODE"
SECONDS_PER_RUN="${DURATION%s}"
PARTS=" ${PARTS:-limits services pgbouncer token} "
part() { [[ "$PARTS" == *" $1 "* ]]; }
features=$(sed -n 's/^default = \[\(.*\)\]/\1/p' Cargo.toml | tr -d '",')
has() { [[ " $features " == *" $1 "* ]]; }

# The service and the limits (bench/*) in one release build, so they share their
# dependencies. Each binary's path comes from cargo's report; the service's is named after
# the package.
binaries=$(cargo build --release --quiet --workspace --exclude xtask --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p')
hello=$(grep '/bench-hello$' <<<"$binaries")
bench_sqlite=$(grep '/bench-sqlite$' <<<"$binaries" || true) # none without SQLite
bench_stack=$(grep '/bench-stack$' <<<"$binaries" || true)   # none without Postgres
service=$(grep -Ev '/bench-(hello|sqlite|stack)$' <<<"$binaries")
work=$(mktemp -d)
chmod 755 "$work" # PgBouncer runs as the postgres user and reads its files here.
pid='' limit_pid='' # the service's, and that of a limit running (bench-hello, bench-stack)
cleanup() { for p in $pid $limit_pid; do kill "$p" 2>/dev/null; done; rm -rf "$work"; psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS orders_bench WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# wrk's rps, p50 and p99 (in ms) and non-2xx count for URL; extra wrk arguments after it.
load() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ {rps=$2} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /Non-2xx/ {bad=$5}
    END {printf "%.0f %.2f %.2f %d", rps, p50, p99, bad+0}'
}

wait_healthy() {
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.05; done
  echo "no answer on port $1" >&2; return 1
}

peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

printf '%-22s %-16s %9s %8s %8s %8s %7s %7s\n' scenario run rps p50_ms p99_ms rss_mb share stack
percent() { [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100 * a / b}' || echo -; }
row() { # scenario run rps p50 p99 rss [limit [stack]]
  printf '%-22s %-16s %9s %8s %8s %8s %7s %7s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$(percent "$3" "${7:-}")" "$(percent "$3" "${8:-}")"
}

# Loads the limit started as $limit_pid (bench-hello, bench-stack) on PORT at PATH once it
# answers, after a second's warm-up as the service gets; prints its row as RUN and stops
# it. Its rate goes to $rate.
rate=
load_limit_server() { # key run port path [wrk arguments]
  local key=$1 run=$2 url="http://127.0.0.1:$3$4" bad; shift 4
  for _ in $(seq 1 200); do curl -s -o /dev/null "$url" && break; sleep 0.05; done
  DURATION=1s load "$url" "$@" >/dev/null
  read -r rate p50 p99 bad <<<"$(load "$url" "$@")"
  [ "$bad" = 0 ] || echo "  ($bad non-2xx answers)"
  row "$key" "$run" "$rate" "$p50" "$p99" "$(peak_rss_mb "$limit_pid")"
  kill "$limit_pid"; wait "$limit_pid" 2>/dev/null || true; limit_pid=
}

# The limit of one scenario, printed as its row; its rate goes to $limit. Arguments: the
# scenario, then where the run's data is: "postgres URL" or "sqlite FILE", the order to
# read and its owner. pgbench and bench-sqlite run on the run's own database (Postgres
# directly, also for a run through PgBouncer), whose service is idle meanwhile.
limit=
measure_limit() { # key database target order owner
  local key=$1 database=$2 target=$3 order=$4 owner=$5 script
  limit=
  part limits || return 0
  script=$(case $key in "GET /orders/{id}") echo get_order;; "GET /orders") echo list_orders;; *) echo place_order;; esac)
  case "$key|$database" in
    "GET /hi|"*)
      PORT=8098 "$hello" & limit_pid=$!
      load_limit_server "$key" "bare actix-web" 8098 /hi
      limit=$rate ;;
    *"|postgres")
      # The values the service binds for the same requests (bench/post_order.lua's order).
      local values=(-D order_id="$order" -D owner="$owner" -D cancelled=cancelled -D page_limit=20 -D page_offset=0
        -D status=created -D positions="{0,1}" -D products="{latte,tea}" -D sizes="{big,small}" -D quantities="{2,1}")
      local out
      out=$(pgbench -n -M prepared -c "$POOL" -j "$THREADS" -T "$SECONDS_PER_RUN" "${values[@]}" -f "bench/sql/$script.sql" "$target" 2>/dev/null)
      limit=$(awk '/^tps/ {printf "%.0f", $3}' <<<"$out")
      row "$key" pgbench "$limit" "avg $(awk '/latency average/ {print $4}' <<<"$out")" - - ;;
    *"|sqlite")
      read -r limit p50 p99 <<<"$("$bench_sqlite" "$target" "$script" "$SECONDS_PER_RUN" "$THREADS")"
      row "$key" bench-sqlite "$limit" "$p50" "$p99" - ;;
  esac
}

# The same scenario on bench-stack (actix-web and sqlx alone), on the run's own Postgres
# database directly (also for a run through PgBouncer, as pgbench); its rate goes to $stack.
stack=
measure_stack() { # key database target owner path [wrk arguments]
  local key=$1 database=$2 target=$3 owner=$4 path=$5; shift 5
  stack=
  part limits && [ "$database" = postgres ] && [ "$key" != "GET /hi" ] || return 0
  PORT=8097 DATABASE_URL="$target" OWNER="$owner" POOL="$POOL" "$bench_stack" & limit_pid=$!
  load_limit_server "$key" "actix-web + sqlx" 8097 "$path" "$@"
  stack=$rate
}

# --- The service, each backend on each database.
declare -A direct=() # each backend's rate per scenario on Postgres directly
new_order='{"order":[{"product":"latte","size":"big"},{"product":"tea","size":"small"}]}'
run_service() { # label "postgres URL"|"sqlite FILE" env...
  local label=$1 database=${2%% *} target=${2#* } pool=$POOL; shift 2
  [ "$database" = sqlite ] && pool=$SQLITE_POOL
  env "$@" PORT="$PORT" HI_DELAY_MS=0 RUST_LOG="${BENCH_RUST_LOG:-warn}" DB_POOL_MAX="$pool" "$service" >"$work/service.log" 2>&1 &
  pid=$!
  wait_healthy "$PORT"
  local auth=(-H "${AUTH_HEADER:-X-None: 1}") id owner=${AUTH_OWNER:-anonymous}
  id=$(curl -sf -XPOST -H 'Content-Type: application/json' "${auth[@]}" -d "$new_order" "http://127.0.0.1:$PORT/orders" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  for _ in $(seq 1 40); do
    curl -sf -o /dev/null -XPOST -H 'Content-Type: application/json' "${auth[@]}" -d "$new_order" "http://127.0.0.1:$PORT/orders"
  done
  for scenario in "GET /hi|/hi|" "GET /orders/{id}|/orders/$id|" "GET /orders|/orders?limit=20|" \
    "POST /orders|/orders|-s bench/post_order.lua" "POST /orders + key|/orders|-s bench/post_order_keyed.lua"; do
    IFS='|' read -r key path extra <<<"$scenario"
    if [ "$key" = "POST /orders + key" ]; then
      # The cost of an Idempotency-Key: compare with the row above (the limits are its).
      limit='' stack=''
    else
      measure_limit "$key" "$database" "$target" "$id" "$owner"
      # shellcheck disable=SC2086
      measure_stack "$key" "$database" "$target" "$owner" "$path" $extra
    fi
    # A second's warm-up first (the pool opens its connections on demand, diesel's
    # blocking threads start as needed), as pgbench connects before its clock starts.
    # shellcheck disable=SC2086
    DURATION=1s load "http://127.0.0.1:$PORT$path" $extra ${AUTH_HEADER:+-H "$AUTH_HEADER"} >/dev/null
    # shellcheck disable=SC2086
    read -r rps p50 p99 bad <<<"$(load "http://127.0.0.1:$PORT$path" $extra ${AUTH_HEADER:+-H "$AUTH_HEADER"})"
    [ "$bad" = 0 ] || echo "  ($bad non-2xx answers)"
    row "$key" "$label" "$rps" "$p50" "$p99" "$(peak_rss_mb "$pid")" "$limit" "$stack"
    # Through PgBouncer: the share of the same backend's rate on Postgres directly.
    case $label in
      *+postgres) direct["${label%+*}|$key"]=$rps ;;
      *+pgbouncer) echo "  ${label%+*} through PgBouncer: $(percent "$rps" "${direct["${label%+*}|$key"]:-}") of direct" ;;
    esac
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

fresh_postgres() {
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS orders_bench WITH (FORCE)" -c "CREATE DATABASE orders_bench" >/dev/null
  DATABASE_URL="$BENCH_URL" RUST_LOG=warn "$service" migrate
}

for backend in sqlx diesel; do
  part services && has "$backend" || continue
  if has postgres; then
    fresh_postgres
    run_service "$backend+postgres" "postgres $BENCH_URL" DATA_BACKEND=$backend DATABASE_URL="$BENCH_URL"
  fi
  if has sqlite; then
    rm -f "$work"/bench.db*
    run_service "$backend+sqlite" "sqlite $work/bench.db" DATA_BACKEND=$backend DATABASE_URL="sqlite://$work/bench.db"
  fi
done

# --- Through PgBouncer in transaction mode (DB_POOLER=transaction), where it is installed.
if part pgbouncer && has postgres && { command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; }; then
  bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  server=${ADMIN_URL#*@}; server=${server%%/*}
  mkdir -p "$work/bouncer"
  printf '"postgres" ""\n' >"$work/bouncer/users.txt"
  cat >"$work/bouncer/pgbouncer.ini" <<INI
[databases]
* = host=${server%:*} port=${server##*:}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6439
unix_socket_dir =
auth_type = trust
auth_file = $work/bouncer/users.txt
pool_mode = transaction
server_tls_sslmode = $SSLMODE
ignore_startup_parameters = extra_float_digits
max_client_conn = 500
default_pool_size = $POOL
pidfile = $work/bouncer/pid
logfile = $work/bouncer/log
INI
  as_user=(); [ "$(id -u)" = 0 ] && { chown -R postgres "$work/bouncer"; as_user=(-u postgres); }
  "$bouncer" "${as_user[@]}" -d -q "$work/bouncer/pgbouncer.ini" 2>/dev/null || true
  # The service to PgBouncer on loopback in the clear; PgBouncer to Postgres as the rest.
  bounced="postgres://postgres@127.0.0.1:6439/orders_bench?sslmode=disable"
  for backend in sqlx diesel; do
    has "$backend" || continue
    fresh_postgres
    run_service "$backend+pgbouncer" "postgres $BENCH_URL" DATA_BACKEND=$backend DATABASE_URL="$bounced" DB_POOLER=transaction
  done
  kill "$(cat "$work/bouncer/pid")" 2>/dev/null || true
fi

# --- Token checks on the hot path: the default backend on Postgres, with a development token.
if part token && has postgres; then
  fresh_postgres
  (cd "$work" && "$service" dev-token --sub bench >"$work/token.sh")
  # shellcheck disable=SC1091
  . "$work/token.sh"
  AUTH_HEADER="Authorization: Bearer $TOKEN" AUTH_OWNER=bench run_service "postgres+token" "postgres $BENCH_URL" DATABASE_URL="$BENCH_URL" \
    AUTH_JWKS_URL="$AUTH_JWKS_URL" AUTH_ISSUER="$AUTH_ISSUER" AUTH_AUDIENCE="$AUTH_AUDIENCE"
fi
