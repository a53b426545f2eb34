#!/usr/bin/env bash
# The conformance suite against two reference instances on one PostgreSQL store behind nginx:
# a throwaway cluster (opcp_cli.sandbox, loopback only), `opcp up --instances 2`, then
# `opcp check --target` on the front's target file. Everything it started is stopped on exit.
# Needs .venv (run.py makes it) and Debian's postgresql and nginx packages (.ci/run installs).
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
echo "[ci] PostgreSQL at $URL; two instances behind nginx on 127.0.0.1:$PORT"
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
  --junit reports/fronted/junit.xml
