#!/usr/bin/env bash
# Instructions per request, from valgrind's callgrind: steadier than rates on a shared
# machine, for comparing two builds of one change (bench/README.md quotes its figures).
#
#   bench/instructions.sh BINARY SCENARIO [BACKEND]
#
# Runs BINARY (a release build of the service) under callgrind on a fresh Postgres database
# (BENCH_DATABASE_URL's server, database ir_bench), with one worker, sends N requests of
# SCENARIO over one keep-alive connection, and stops it; twice, with N = 100 and 300. The
# difference of the two totals over 200 is one request's instructions, start-up and
# shutdown cancelled out. SCENARIO: get (GET /orders/{id}), post (POST /orders, two
# items), postkey (the same with an Idempotency-Key of its own), pay, paykey. BACKEND:
# sqlx (default) or diesel. Extra environment (e.g. OTEL_EXPORTER_OTLP_ENDPOINT) passes on.
# Needs valgrind, curl, psql.
set -euo pipefail
bin=$1 scenario=$2 backend=${3:-sqlx}
admin="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db="${admin%/*}/ir_bench"
port=8111 base=http://127.0.0.1:8111
body='{"order":[{"product":"latte","size":"big","quantity":2},{"product":"tea","size":"small"}]}'
out=$(mktemp -d)
trap 'rm -rf "$out"; psql -q "$admin" -c "DROP DATABASE IF EXISTS ir_bench WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

total() { # requests -> the run's total instructions
  local n=$1 args=() ids=() i
  psql -q "$admin" -c "DROP DATABASE IF EXISTS ir_bench WITH (FORCE)" -c "CREATE DATABASE ir_bench" >/dev/null
  DATABASE_URL=$db RUST_LOG=warn "$bin" migrate >/dev/null
  PORT=$port DATABASE_URL=$db DATA_BACKEND=$backend RUST_LOG=warn WORKERS=1 DB_POOL_MAX=2 \
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind" "$bin" >"$out/log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
  # The orders the requests need: one to read, or one to pay per request.
  for i in $(seq 0 "$n"); do
    ids+=("$(curl -sf -XPOST -H 'Content-Type: application/json' -d "$body" "$base/orders" | sed 's/.*"id":"\([^"]*\)".*/\1/')")
    [[ $scenario == pay* ]] || break
  done
  local json=(-XPOST -H 'Content-Type: application/json' -d "$body")
  for i in $(seq 1 "$n"); do
    case $scenario in
      get) args+=("$base/orders/${ids[0]}" --next) ;;
      post) args+=("${json[@]}" "$base/orders" --next) ;;
      postkey) args+=("${json[@]}" -H "Idempotency-Key: $n-$i-$RANDOM" "$base/orders" --next) ;;
      pay) args+=(-XPOST "$base/orders/${ids[$i]}/pay" --next) ;;
      paykey) args+=(-XPOST -H "Idempotency-Key: $n-$i-$RANDOM" "$base/orders/${ids[$i]}/pay" --next) ;;
      *) echo "unknown scenario $scenario" >&2; exit 2 ;;
    esac
  done
  unset 'args[-1]'
  curl -s "${args[@]}" >/dev/null
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  awk '/^totals:/ {print $2}' "$out/callgrind"
}

few=$(total 100); many=$(total 300)
echo "$scenario ($backend): $(((many - few) / 200)) instructions per request"
