"""The CLI as a user meets it: `opcp serve` with curl-style calls, `opcp check`, `opcp report`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import httpx
import pytest

from opcp import paths
from opcp.paths import REPO


def test_serve_then_curl_with_clients_json(served):
    base, data = served.base_url, served.data_dir
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
    log = served.stop()
    assert f"traceId={trace_id}" in log
    assert cpo["client_secret"] not in log and token not in log


@pytest.mark.slow  # a whole suite run
def test_check_against_a_target_file(served, tmp_path):
    base, data = served.base_url, served.data_dir
    out = tmp_path / "allure"
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "check", "--target",
                           str(data / "target.toml"), "--results", str(out), "--junit",
                           str(tmp_path / "j.xml")], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 failed" in proc.stdout and base in proc.stdout
    # No credential, token or key reaches the results, the console or the server log.
    secrets = [c["client_secret"] for c in json.loads((data / "clients.json").read_text())]
    secrets.append((data / "master.key").read_text().strip())
    dumped = "".join(p.read_text(errors="replace") for p in out.iterdir())
    dumped += (tmp_path / "j.xml").read_text() + proc.stdout + proc.stderr + served.stop()
    assert not [s for s in secrets if s in dumped]
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}", dumped), "a JWT leaked"
    assert "PRIVATE KEY" not in dumped
    assert "whsec_" not in dumped  # nor the signing secrets of webhook endpoints
    assert "Bearer $OPCP_TOKEN" in dumped  # exchanges are attached, tokens masked


@pytest.mark.slow  # a whole suite run
def test_a_target_without_a_service_reports_it_not_applicable(served, tmp_path):
    data = served.data_dir
    target = data / "only-auth.toml"
    target.write_text(re.sub(r"services = \[[^\]]*\]", 'services = ["auth"]',
                             (data / "target.toml").read_text()))
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "check", "--target", str(target),
                           "--results", str(tmp_path / "a"), "--junit", str(tmp_path / "j.xml")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("  RCP"))
    passed, failed, _warnings, not_applicable = (int(x) for x in line.split()[-4:])
    assert passed == 0 and failed == 0 and not_applicable > 0


@pytest.mark.slow  # a whole suite run
def test_report_renders_html(tmp_path):
    if paths.allure_command() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the Allure command line is missing; run.py installs it with npm")
        pytest.skip("Allure command line not installed (python3 run.py check installs it)")
    results = tmp_path / "results"
    subprocess.run([sys.executable, "-m", "opcp_cli", "check", "-k", "obtains", "--results",
                    str(results), "--junit", str(tmp_path / "j.xml")], cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    output = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "report", "--multi-file", "--results", str(results),
                           "--output", str(output)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (output / "index.html").exists()
    cases = list((output / "data" / "test-cases").glob("*.json"))
    names = [json.loads(p.read_text())["name"] for p in cases]
    assert any("obtains a token" in n for n in names), names
