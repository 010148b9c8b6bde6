#!/usr/bin/env bash
# Tests the running service against its own OpenAPI document with schemathesis (PyPI,
# pinned): every check (`--checks all`) in every phase (examples, coverage, fuzzing,
# stateful), first in open mode, then with an identity provider and a valid token. Any
# failure fails the step. Each mode starts the debug binary on a free port with a
# throw-away database. The provider is `dev-token`'s local key set (a `file://` JWKS, which
# the service accepts on loopback only). Run by .ci/run after the Python client, with the
# binary and the venv it passes ($SERVICE_BINARY, $PYTHON_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."

# Examples per operation and phase: enough for every check to see each operation many
# times, few enough that both runs take about a minute.
examples="${SCHEMATHESIS_EXAMPLES:-100}"
work="$PWD/target/schemathesis"
venv=$(realpath -m "${PYTHON_VENV:-target/ci-python}")
# The service's binary is named for its package (the first `name = ` in Cargo.toml).
name=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
binary="${SERVICE_BINARY:-$(cargo build --locked --bin "$name" --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)}"
binary=$(realpath "$binary")

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis==4.32.5'

rm -rf "$work" && mkdir -p "$work"
admin="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
sqlite=$(sed -n 's/^default = \[\(.*\)\]/\1/p' Cargo.toml | grep -c '"sqlite"' || true)
service="" scratch=()
stop() {
  if [ -n "$service" ]; then kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; fi
  service=""
}
cleanup() {
  stop
  for db in "${scratch[@]}"; do psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; done
}
trap cleanup EXIT

# Starts the service as `$1` (a name for its files) with the settings `$2…`, on a fresh
# database (a SQLite file in $work, or in a build without SQLite a new Postgres database on
# TEST_DATABASE_URL's server), and sets `base` to its URL once it listens.
start() {
  local mode=$1 database_url
  shift
  if [ "$sqlite" -gt 0 ]; then
    database_url="sqlite://$work/$mode.db"
  else
    scratch+=("schemathesis_${mode}_$$")
    psql -q "$admin" -c "CREATE DATABASE ${scratch[-1]}" >/dev/null
    database_url="${admin%/*}/${scratch[-1]}"
  fi
  # No .env or developer settings apply: a clean environment.
  env -i PATH="$PATH" DATABASE_URL="$database_url" PORT=0 HI_DELAY_MS=0 RUST_LOG=info "$@" \
    "$binary" >"$work/$mode.log" 2>&1 &
  service=$!
  # The port the system chose, from the log line the service writes once it listens;
  # polled for at most 30 s, and given up on as soon as the service exits.
  base=""
  for _ in $(seq 1 150); do
    base=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$work/$mode.log" | head -n 1 | sed 's/listening on //' || true)
    [ -n "$base" ] && break
    kill -0 "$service" 2>/dev/null || { cat "$work/$mode.log"; echo "the service exited" >&2; exit 1; }
    sleep 0.2
  done
  [ -n "$base" ] || { cat "$work/$mode.log"; echo "the service did not listen within 30 s" >&2; exit 1; }
}

# Every check, every phase, a bounded number of examples; a request that takes 10 s counts
# as a failure (the service must never hang), and the whole run is cut off after 5 minutes.
# Run in $work, so the examples schemathesis keeps (.hypothesis/) stay out of the clone.
fuzz() {
  local started=$SECONDS
  (cd "$work" && timeout 300 "$venv/bin/schemathesis" run "$base/openapi.json" \
    --checks all --phases examples,coverage,fuzzing,stateful --max-examples "$examples" \
    --request-timeout 10 --no-color "$@")
  echo "schemathesis: passed in $((SECONDS - started)) s"
}

echo "--- schemathesis: open mode (no identity provider)"
start open
fuzz
stop

echo "--- schemathesis: with an identity provider and a valid token"
# dev-token writes its key pair into the directory it runs in and prints `export` lines:
# the provider's settings and TOKEN.
eval "$(cd "$work" && "$binary" dev-token --sub schemathesis --minutes 30 | grep '^export ')"
start provider AUTH_JWKS_URL="$AUTH_JWKS_URL" AUTH_ISSUER="$AUTH_ISSUER" AUTH_AUDIENCE="$AUTH_AUDIENCE"
grep -q "accepting development tokens" "$work/provider.log" || { cat "$work/provider.log"; exit 1; }
fuzz -H "Authorization: Bearer $TOKEN"
stop
echo "schemathesis: OK"
