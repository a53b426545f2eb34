"""`opcp station --iso 20` against `opcp up`: a simulated station runs a whole ISO 15118-20
Plug&Charge session at the ecosystem's CSMS (two contracts over two Get15118EVCertificate
exchanges, certificate status, authorization, a transaction), and the operator's -20 V2G root
leaves the RCP afterwards."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx

from opcp.paths import REPO
from tests.conftest import free_port, token_for


def _wait_for(path, text: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in path.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear in {path}:\n{path.read_text()[-2000:]}")


def _v2g_roots(base: str, client: dict) -> int:
    got = httpx.get(f"{base}/v1/root/rootCerts", params={"rootType": "v2g"},
                    headers={"Authorization": f"Bearer {token_for(base, client)}"})
    assert got.status_code == 200, got.text
    return len(got.json()["RootCertificateCollection"]["rootCertificates"])


def test_opcp_station_iso20_runs_a_whole_20_session(tmp_path):
    data, log = tmp_path / "data", tmp_path / "up.log"
    port, receiver_port, csms_port = free_port(), free_port(), free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "opcp_cli", "up", "--data-dir", str(data),
                                 "--port", str(port), "--receiver-port", str(receiver_port),
                                 "--csms-port", str(csms_port), "--csms-tls-port", "0"],
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(log, "ready; Ctrl-C stops")
        base = f"http://127.0.0.1:{port}"
        cpo = next(c for c in json.loads((data / "clients.json").read_text()) if c["role"] == "CPO")
        before = _v2g_roots(base, cpo)
        session = subprocess.run([sys.executable, "-m", "opcp_cli", "station", "--data-dir", str(data),
                                  "--station", "CS-001", "--url", f"ws://127.0.0.1:{csms_port}",
                                  "--iso", "20"],
                                 cwd=REPO, capture_output=True, text=True, timeout=180)
        assert session.returncode == 0, session.stdout + session.stderr
        lines = session.stdout.splitlines()
        assert [line for line in lines if line.startswith("Get15118EVCertificate")] == [
            "Get15118EVCertificate Install (-20) exchange 1: Accepted",
            "Get15118EVCertificate Install (-20) exchange 2: Accepted"], lines
        assert [line.rsplit(" ", 1)[-1] for line in lines if line.startswith("EV installed")] == [
            "1)", "0)"], lines
        assert "GetCertificateStatus: Accepted" in lines, lines
        assert any(line.startswith("Authorize ") and line.endswith("Accepted (certificate Accepted)")
                   for line in lines), lines
        assert lines[-1] == "session complete"
        assert _v2g_roots(base, cpo) == before, "the -20 V2G root the station added stays behind"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
