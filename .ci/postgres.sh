#!/usr/bin/env bash
# The PostgreSQL side of CI, on one throwaway cluster (opcp_cli.sandbox, loopback only):
# 1. the store-touching tests again with OPCP_TEST_STORE (every store and embedded reference
#    they open is a fresh database on the cluster);
# 2. the conformance suite against two reference instances on one store behind nginx:
#    `opcp up --instances 2`, then `opcp check --target` on the front's target file.
# Everything it started is stopped on exit. Needs .venv (run.py makes it) and Debian's
# postgresql and nginx packages (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$(mktemp -d /tmp/opcp-fronted.XXXXXX)"
chmod 755 "$WORK"  # the cluster runs as the postgres user, which must reach $WORK/pg
UP_PID=""
cleanup() {
  if [ -n "$UP_PID" ] && kill -0 "$UP_PID" 2>/dev/null; then
    kill -TERM "$UP_PID" 2>/dev/null || true
    wait "$UP_PID" 2>/dev/null || true
  fi
  .venv/bin/python -m opcp_cli.sandbox stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
URL="$(.venv/bin/python -m opcp_cli.sandbox postgres "$WORK/pg")"
PORT="$(.venv/bin/python -c 'from opcp_cli.sandbox import free_port; print(free_port())')"
RPORT="$(.venv/bin/python -c 'from opcp_cli.sandbox import free_port; print(free_port())')"
status=0
echo "[ci] the store-touching tests on PostgreSQL ($URL)"
OPCP_TEST_STORE="$URL" .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/test_store_backends.py tests/test_store.py tests/test_auth.py tests/test_reference_pki.py \
  tests/test_pcp.py tests/test_ccp.py tests/test_ccp_cleansing.py tests/test_cpo.py tests/test_est.py \
  tests/test_webhooks.py tests/test_webhook_delivery.py tests/test_security.py \
  tests/test_ownership.py tests/test_reference_app.py || status=1
echo "[ci] the scenario suite against two instances behind nginx on 127.0.0.1:$PORT"
.venv/bin/opcp up --instances 2 --store "$URL" --data-dir "$WORK/data" --port "$PORT" \
  --receiver-port "$RPORT" >"$WORK/up.log" 2>&1 &
UP_PID=$!
for _ in $(seq 1 240); do
  if grep -q '^ready' "$WORK/up.log"; then break; fi
  if ! kill -0 "$UP_PID" 2>/dev/null; then cat "$WORK/up.log"; exit 1; fi
  sleep 0.5
done
grep -q '^ready' "$WORK/up.log" || { echo "[ci] opcp up did not become ready"; cat "$WORK/up.log"; exit 1; }
mkdir -p reports/fronted
.venv/bin/opcp check --target "$WORK/data/target.toml" --results reports/fronted/allure-results \
  --junit reports/fronted/junit.xml || status=1
exit "$status"
