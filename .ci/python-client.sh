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
rm -rf "$work" && mkdir -p "$work"
. .ci/service.sh

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'openapi-python-client==0.29.1'

start_service service
"$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' "$base/health"

"$venv/bin/openapi-python-client" generate --url "$base/openapi.json" \
  --config clients/python/openapi-python-client.yaml --meta none \
  --output-path "$work/orders_api_client" --overwrite --fail-on-warning
PYTHONPATH="$work" "$venv/bin/python" clients/python/drive.py "$base"
echo "python client: OK"
