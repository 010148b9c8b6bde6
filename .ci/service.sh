# Sourced by the CI steps that drive the running service (.ci/python-client.sh,
# .ci/schemathesis.sh): the binary, throw-away databases, and starting and stopping it.
# Expects `work` (a scratch folder) to be set; sets `binary`, then `service` and `base`.

# The binary .ci/run passes (the test build's), or else one built with the default
# features; its path from cargo's report, wherever CARGO_TARGET_DIR puts it. It is named
# for its package (the first `name = ` in Cargo.toml).
name=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
binary="${SERVICE_BINARY:-$(cargo build --locked --bin "$name" --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)}"
binary=$(realpath "$binary")

admin="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
service="" base="" scratch=()

# A throw-away database for run `$1`, as `database_url`: a SQLite file in $work, or in a
# build without SQLite a new Postgres database on TEST_DATABASE_URL's server, dropped at exit.
scratch_database() {
  if sed -n 's/^default = \[\(.*\)\]/\1/p' Cargo.toml | grep -q '"sqlite"'; then
    database_url="sqlite://$(realpath "$work")/$1.db"
  else
    scratch+=("ci_${1}_$$")
    psql -q "$admin" -c "CREATE DATABASE ${scratch[-1]}" >/dev/null
    database_url="${admin%/*}/${scratch[-1]}"
  fi
}

# Starts the service as run `$1` (its log is $work/$1.log) on a fresh database and a port
# the system chooses, with the settings `$2…` and nothing from .env or the developer's
# environment, and sets `base` to its URL once it listens: the port from the log line it
# writes then, polled for at most 30 s and given up on as soon as the service exits.
start_service() {
  local run=$1 log="$work/$1.log"
  shift
  scratch_database "$run"
  env -i PATH="$PATH" DATABASE_URL="$database_url" PORT=0 HI_DELAY_MS=0 RUST_LOG=info "$@" \
    "$binary" >"$log" 2>&1 &
  service=$!
  base=""
  for _ in $(seq 1 150); do
    base=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$log" | head -n 1 | sed 's/listening on //' || true)
    [ -n "$base" ] && return 0
    kill -0 "$service" 2>/dev/null || { cat "$log"; echo "the service exited" >&2; exit 1; }
    sleep 0.2
  done
  cat "$log"; echo "the service did not listen within 30 s" >&2; exit 1
}

stop_service() {
  if [ -n "$service" ]; then kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; fi
  service=""
}

# At exit: the service stopped, the throw-away Postgres databases dropped.
cleanup_service() {
  stop_service
  for db in "${scratch[@]}"; do psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; done
}
trap cleanup_service EXIT
