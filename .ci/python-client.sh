#!/usr/bin/env bash
# Proves that a typed Python client generated from the service's OpenAPI document works:
# starts the debug binary on a free port with a throw-away SQLite database, generates the
# client from its /openapi.json with openapi-python-client, and drives an order's whole
# life through it (clients/python/drive.py). Run by .ci/run after the tests; needs python3
# with venv, and PyPI for the pinned generator.
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/python-client
venv="${PYTHON_VENV:-target/ci-python}"
# The service's binary is named for its package (the first `name = ` in Cargo.toml).
name=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
# The binary .ci/run passes (the test build's), or else one built with the default
# features; its path from cargo's report, wherever CARGO_TARGET_DIR puts it.
binary="${SERVICE_BINARY:-$(cargo build --locked --bin "$name" --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)}"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'openapi-python-client==0.29.1'

rm -rf "$work" && mkdir -p "$work"
log="$work/service.log"
# A throw-away database: a SQLite file in $work, or (in a build without SQLite) a new
# Postgres database on TEST_DATABASE_URL's server, dropped at the end.
admin="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
scratch=""
if sed -n 's/^default = \[\(.*\)\]/\1/p' Cargo.toml | grep -q '"sqlite"'; then
  database_url="sqlite://$PWD/$work/service.db"
else
  scratch="python_client_$$"
  psql -q "$admin" -c "CREATE DATABASE $scratch" >/dev/null
  database_url="${admin%/*}/$scratch"
fi
# No .env or developer settings apply: a clean environment.
env -i PATH="$PATH" DATABASE_URL="$database_url" PORT=0 HI_DELAY_MS=0 RUST_LOG=info \
  "$binary" >"$log" 2>&1 &
service=$!
cleanup() {
  kill "$service" 2>/dev/null || true
  wait "$service" 2>/dev/null || true
  if [ -n "$scratch" ]; then psql -q "$admin" -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" >/dev/null || true; fi
}
trap cleanup EXIT

# The port the system chose, from the log line the service writes once it listens;
# polled for at most 30 s, and given up on as soon as the service exits.
base=""
for _ in $(seq 1 150); do
  base=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$log" | head -n 1 | sed 's/listening on //' || true)
  [ -n "$base" ] && break
  kill -0 "$service" 2>/dev/null || { cat "$log"; echo "the service exited" >&2; exit 1; }
  sleep 0.2
done
[ -n "$base" ] || { cat "$log"; echo "the service did not listen within 30 s" >&2; exit 1; }
"$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' "$base/health"

"$venv/bin/openapi-python-client" generate --url "$base/openapi.json" \
  --config clients/python/openapi-python-client.yaml --meta none \
  --output-path "$work/orders_api_client" --overwrite --fail-on-warning
PYTHONPATH="$work" "$venv/bin/python" clients/python/drive.py "$base"
echo "python client: OK"
