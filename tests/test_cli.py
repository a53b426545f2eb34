"""The CLI as a user meets it: `opcp serve` with curl-style calls, `opcp check`, `opcp report`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from opcp import paths
from opcp.paths import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path):
    port = _free_port()
    data = tmp_path / "data"
    # The log goes to a file: a pipe nobody drains fills up after a full suite run's worth of
    # log lines and blocks the server.
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "opcp", "serve", "--port", str(port),
                             "--data-dir", str(data)], cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/.well-known/jwks.json")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"opcp serve did not start: {(tmp_path / 'serve.log').read_text()}")
    yield base, data, proc
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_serve_then_curl_with_clients_json(served):
    base, data, proc = served
    clients = json.loads((data / "clients.json").read_text())
    cpo = next(c for c in clients if c["role"] == "CPO")
    token = httpx.post(base + "/oauth/token", json={
        "client_id": cpo["client_id"], "client_secret": cpo["client_secret"],
        "audience": "https://opcp-reference.local", "grant_type": "client_credentials",
    }).json()["access_token"]
    roots = httpx.get(base + "/v1/root/rootCerts", headers={"Authorization": f"Bearer {token}"})
    assert roots.status_code == 200
    assert len(roots.json()["RootCertificateCollection"]["rootCertificates"]) == 5
    denied = httpx.delete(base + "/v1/root/rootCerts/" + roots.json()[
        "RootCertificateCollection"]["rootCertificates"][0]["rootCertificateId"],
        headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403
    missing = httpx.get(base + "/v1/root/rootCerts/unknown",
                        headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404
    trace_id = missing.json()["traceId"]
    proc.terminate()
    proc.wait(timeout=10)
    log = (data.parent / "serve.log").read_text()
    assert f"traceId={trace_id}" in log
    assert cpo["client_secret"] not in log and token not in log


def test_check_against_a_target_file(served, tmp_path):
    base, data, _ = served
    out = tmp_path / "allure"
    proc = subprocess.run([sys.executable, "-m", "opcp", "check", "--target",
                           str(data / "target.toml"), "--results", str(out), "--junit",
                           str(tmp_path / "j.xml")], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 failed" in proc.stdout and base in proc.stdout
    # Credentials never reach the results.
    secrets = [c["client_secret"] for c in json.loads((data / "clients.json").read_text())]
    dumped = "".join(p.read_text(errors="replace") for p in out.iterdir())
    dumped += (tmp_path / "j.xml").read_text()
    assert not [s for s in secrets if s in dumped]
    assert "Bearer $OPCP_TOKEN" in dumped  # exchanges are attached, tokens masked


def test_a_target_without_a_service_reports_it_not_applicable(served, tmp_path):
    base, data, _ = served
    target = data / "only-auth.toml"
    target.write_text(re.sub(r"services = \[[^\]]*\]", 'services = ["auth"]',
                             (data / "target.toml").read_text()))
    proc = subprocess.run([sys.executable, "-m", "opcp", "check", "--target", str(target),
                           "--results", str(tmp_path / "a"), "--junit", str(tmp_path / "j.xml")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("  RCP"))
    passed, failed, not_applicable = (int(x) for x in line.split()[-4:-1])
    assert passed == 0 and failed == 0 and not_applicable > 0


def test_report_renders_html(tmp_path):
    if paths.allure_command() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the Allure command line is missing; run.py installs it with npm")
        pytest.skip("Allure command line not installed (python3 run.py check installs it)")
    results = tmp_path / "results"
    subprocess.run([sys.executable, "-m", "opcp", "check", "-k", "obtains", "--results",
                    str(results), "--junit", str(tmp_path / "j.xml")], cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    output = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "opcp", "report", "--results", str(results),
                           "--output", str(output)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (output / "index.html").exists()
    cases = list((output / "data" / "test-cases").glob("*.json"))
    names = [json.loads(p.read_text())["name"] for p in cases]
    assert any("obtains a token" in n for n in names), names
