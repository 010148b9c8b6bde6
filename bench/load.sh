#!/usr/bin/env bash
# Load benchmark: the release binary under wrk, on loopback, for each backend and database
# in the root Cargo.toml's `default` features.
#   bench/load.sh                      # every backend on every database compiled in
#   DURATION=30s CONNECTIONS=64 bench/load.sh
# Needs wrk (apt-get install wrk) and, for Postgres, BENCH_DATABASE_URL's server
# (default postgres://postgres@127.0.0.1:5432/postgres; a database orders_bench is created).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PORT="${PORT:-8099}"
ADMIN_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# The binary is named after the package: take its path from cargo's build report.
bin=$(cargo build --release --quiet --message-format=json \
  | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bin" ] || { echo "no binary built" >&2; exit 1; }
features=$(sed -n 's/^default = \[\(.*\)\]/\1/p' Cargo.toml | tr -d '",')
has() { [[ " $features " == *" $1 "* ]]; }
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

run() { # backend url
  if [[ "$2" == postgres* ]]; then
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS orders_bench WITH (FORCE)" -c "CREATE DATABASE orders_bench" >/dev/null
  fi
  rm -f "$work"/bench.db*
  DATA_BACKEND="$1" DATABASE_URL="$2" PORT="$PORT" HI_DELAY_MS=0 RUST_LOG=warn DB_POOL_MAX=16 \
    "$bin" >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
  local id
  id=$(curl -sf -XPOST -H 'Content-Type: application/json' \
    -d '{"order":[{"product":"latte","size":"big"}]}' "http://127.0.0.1:$PORT/orders" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  for _ in $(seq 1 200); do curl -sf -XPOST -H 'Content-Type: application/json' \
    -d '{"order":[{"product":"latte","size":"big"},{"product":"tea","size":"small"}]}' "http://127.0.0.1:$PORT/orders" >/dev/null; done
  for scenario in "GET /hi|/hi|" "GET one order|/orders/$id|" "GET a page of 20|/orders|" \
                  "POST an order|/orders|-s bench/post_order.lua"; do
    IFS='|' read -r name path extra <<<"$scenario"
    # shellcheck disable=SC2086
    result=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency $extra "http://127.0.0.1:$PORT$path" \
      | awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$5} END {printf "%10s req/s  p99 %-9s non-2xx %s", rps, p99, bad+0}')
    printf '%-7s %-9s %-17s %s\n' "$1" "${2%%:*}" "$name" "$result"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for backend in sqlx diesel; do
  has "$backend" || continue
  if has sqlite; then run "$backend" "sqlite://$work/bench.db"; fi
  if has postgres; then run "$backend" "${ADMIN_URL%/*}/orders_bench"; fi
done
