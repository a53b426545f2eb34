"""`opcp up` serves HTTPS with its local CA, subscribes every party's receiver, delivers
signed events to it, runs the CPO's CSMS where `opcp station` completes a Plug&Charge session
(ws with Basic auth, wss with a station certificate), and stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import base64
import json
import re
import signal
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from opcp.paths import REPO
from tests.conftest import free_port, make_root


def _wait_for(path, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear in {path}:\n{content[-2000:]}")


def test_up_runs_the_ecosystem_until_ctrl_c(tmp_path):
    data, log = tmp_path / "data", tmp_path / "up.log"
    port, receiver_port, csms_port, csms_tls_port = free_port(), free_port(), free_port(), free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "opcp_cli", "up", "--data-dir", str(data),
                                 "--port", str(port), "--receiver-port", str(receiver_port), "--tls",
                                 "--csms-port", str(csms_port), "--csms-tls-port", str(csms_tls_port)],
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        printed = _wait_for(log, "ready; Ctrl-C stops")
        ca = data / "tls" / "ca.pem"
        assert str(ca) in printed and "subscribed: oem-1, oem-2, mo-1" in printed
        context = ssl.create_default_context(cafile=str(ca))
        admin = next(c for c in json.loads((data / "clients.json").read_text())
                     if c["role"] == "ADMIN")
        base = f"https://127.0.0.1:{port}"
        token = httpx.post(base + "/oauth/token", verify=context, json={
            "client_id": admin["client_id"], "client_secret": admin["client_secret"],
            "audience": "https://opcp-reference.local", "grant_type": "client_credentials",
        }).json()["access_token"]
        added = httpx.put(base + "/v1/root/rootCerts", verify=context,
                          headers={"Authorization": f"Bearer {token}"},
                          json={"caCertificate": base64.b64encode(make_root("Up Root", "MO")).decode(),
                                "rootType": "MO"})
        assert added.status_code == 200
        # The event reaches every party's hook, with a signature the receiver accepts.
        _wait_for(log, "/hooks/oem-1 -> 200")
        _wait_for(log, "/hooks/cps-2 -> 200")
        assert f"ws://127.0.0.1:{csms_port}/<identity>" in printed
        for station, url in (("CS-001", f"ws://127.0.0.1:{csms_port}"),
                             ("CS-003", f"wss://127.0.0.1:{csms_tls_port}")):
            session = subprocess.run([sys.executable, "-m", "opcp_cli", "station", "--data-dir", str(data),
                                      "--station", station, "--url", url],
                                     cwd=REPO, capture_output=True, text=True, timeout=120)
            assert session.returncode == 0, session.stdout + session.stderr
            assert "BootNotification: Accepted" in session.stdout
            assert "session complete" in session.stdout
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0  # each server gets SHUTDOWN_SECONDS for requests in flight
        assert "stopped" in log.read_text()
        assert admin["client_secret"] not in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("tls", [[], ["--tls"]], ids=["http", "tls"])
def test_up_with_two_ecosystems_peers_them_across_different_v2g_roots(tmp_path, tls):
    from opcp.target import load
    from tests.test_pool_forwarding import _ask, _vehicle_with_contract_in

    data, log = tmp_path / "data", tmp_path / "up.log"
    port, receiver_port = free_port(), free_port()
    # --ecosystems 2 takes PORT and PORT+1 (and the receiver's likewise): both must be free.
    while not _free(port + 1) or not _free(receiver_port + 1):
        port, receiver_port = free_port(), free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "opcp_cli", "up", "--ecosystems", "2",
                                 "--data-dir", str(data), "--port", str(port),
                                 "--receiver-port", str(receiver_port), "--csms-port", "0", *tls],
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        printed = _wait_for(log, "ready; Ctrl-C stops")
        target_a, target_b = data / "a" / "target.toml", data / "b" / "target.toml"
        for name, target, other in (("A", target_a, "B"), ("B", target_b, "A")):
            assert f"ecosystem {name} target file: {target}" in printed
            assert f"(peers: Ecosystem {other}: OPCP reference" in printed
        roots = {name: re.findall(r"SHA-256 ([0-9a-f]{16})", line)[0]
                 for name, line in re.findall(r"ecosystem ([AB]) V2G roots: +(.*)", printed)}
        assert roots["A"] != roots["B"], printed
        # A vehicle under contract in B, asking through a CPO of A: A forwards to B (over TLS
        # with B's own CA, from B's target file, when --tls).
        assert load(target_a).name.startswith("Ecosystem A")
        assert load(target_a).peer.name.startswith("Ecosystem B")  # for opcp check's peer scenarios
        assert load(target_b).peer.name.startswith("Ecosystem A")
        vehicle = _vehicle_with_contract_in(target_b)
        got = _ask(target_a, vehicle)
        assert got.status == 200, got.response_body
        vehicle.accept(base64.b64decode(got.json()["CCPResponse"]["emaidContent"][0]["messageDef"][
            "certificateInstallationRes"]))
        assert _ask(target_a, vehicle, {"broadcast": "true"}).status == 404
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0  # each server gets SHUTDOWN_SECONDS for requests in flight
        assert log.read_text().rstrip().endswith("stopped")
    finally:
        if proc.poll() is None:
            proc.kill()


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize(("options", "message"), [
    (["--ecosystems", "27"], "--ecosystems: must be 1, or 2 to 26 (got 27)"),
    (["--ecosystems", "2", "--instances", "2"], "--ecosystems: not with --instances or --store"),
])
def test_up_refuses_ecosystems_it_cannot_run(tmp_path, options, message):
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "up", "--data-dir", str(tmp_path),
                           *options], cwd=REPO, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 2 and message in proc.stdout, proc.stdout + proc.stderr
    assert not any(tmp_path.iterdir())  # nothing was opened
