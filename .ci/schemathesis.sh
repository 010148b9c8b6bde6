#!/usr/bin/env bash
# Tests the running service against its own OpenAPI document with schemathesis (PyPI,
# pinned): every check (`--checks all`) in every phase (examples, coverage, fuzzing,
# stateful), first in open mode, then with an identity provider and a valid token. Any
# failure fails the step. Each mode starts the debug binary on a free port with a
# throw-away database (.ci/service.sh). The provider is `dev-token`'s local key set (a `file://` JWKS, which
# the service accepts on loopback only). Run by .ci/run after the Python client, with the
# binary and the venv it passes ($SERVICE_BINARY, $PYTHON_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."

# Examples per operation and phase: enough for every check to see each operation many
# times, few enough that both runs take about a minute.
examples="${SCHEMATHESIS_EXAMPLES:-100}"
work="$PWD/target/schemathesis"
config="$PWD/.ci/schemathesis.toml" # one judgement of ours, explained there
venv=$(realpath -m "${PYTHON_VENV:-target/ci-python}")
rm -rf "$work" && mkdir -p "$work"
. .ci/service.sh

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis==4.32.5'

# Every check, every phase, a bounded number of examples; a request that takes 10 s counts
# as a failure (the service must never hang), and the whole run is cut off after 5 minutes.
# Run in $work, so the examples schemathesis keeps (.hypothesis/) stay out of the clone.
fuzz() {
  local started=$SECONDS
  (cd "$work" && timeout 300 "$venv/bin/schemathesis" --config-file "$config" run "$base/openapi.json" \
    --checks all --phases ${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful} --max-examples "$examples" \
    --request-timeout 10 --no-color "$@")
  echo "schemathesis: passed in $((SECONDS - started)) s"
}

echo "--- schemathesis: open mode (no identity provider)"
start_service open
fuzz
stop_service

echo "--- schemathesis: with an identity provider and a valid token"
# dev-token writes its key pair into the directory it runs in and prints `export` lines:
# the provider's settings and TOKEN.
eval "$(cd "$work" && "$binary" dev-token --sub schemathesis --minutes 30 | grep '^export ')"
start_service provider AUTH_JWKS_URL="$AUTH_JWKS_URL" AUTH_ISSUER="$AUTH_ISSUER" AUTH_AUDIENCE="$AUTH_AUDIENCE"
grep -q "accepting development tokens" "$work/provider.log" || { cat "$work/provider.log"; exit 1; }
fuzz -H "Authorization: Bearer $TOKEN"
stop_service
echo "schemathesis: OK"
