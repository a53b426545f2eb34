"""`opcp up --tls` exactly as the README shows it: run from a working directory of its own with
a relative `--data-dir`, its target file must work from anywhere (the CA path inside it is the
target file's), and the suite must run against it over HTTPS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from features.support.runner import reproducer
from opcp.client import OpcpClient
from opcp.target import load
from tests.conftest import free_port


def _wait_for(path, text: str, proc, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    content = ""
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear:\n{content[-3000:]}")


def test_up_tls_with_a_relative_data_dir_then_check_it(tmp_path, monkeypatch):
    port, receiver_port = free_port(), free_port()
    log = tmp_path / "up.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "opcp_cli", "up", "--tls", "--data-dir", "data",
                                 "--port", str(port), "--receiver-port", str(receiver_port)],
                                cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        printed = _wait_for(log, "ready; Ctrl-C stops", proc)
        assert "Traceback" not in printed
        # The target file names its CA relative to itself, and loads from any directory.
        text = (tmp_path / "data" / "target.toml").read_text()
        assert 'ca_bundle = "tls/ca.pem"' in text
        monkeypatch.chdir("/")
        target = load(tmp_path / "data" / "target.toml")
        assert target.tls.ca_bundle == str(tmp_path / "data" / "tls" / "ca.pem")
        # A reproducer replays over HTTPS as printed: the token request (secret from the
        # environment, never printed), then the request, both with --cacert.
        client = OpcpClient(target)
        try:
            exchange = client.call("GET", "rcp", "/v1/root/rootCerts", role="CPO")
        finally:
            client.close()
        script = reproducer(exchange, target)
        secret = target.client("CPO").client_secret
        assert secret not in script and "--cacert" in script and f"https://127.0.0.1:{port}" in script
        replayed = subprocess.run(["bash", "-c", "set -e\n" + script.split("# answered")[0]],
                                  env={**os.environ, "OPCP_CLIENT_SECRET": secret},
                                  capture_output=True, text=True, timeout=60)
        assert replayed.stdout.startswith("HTTP/1.1 200"), replayed.stdout + replayed.stderr
        # Preflight alone, then a few scenarios, both from the directory `up` ran in.
        checked = subprocess.run([sys.executable, "-m", "opcp_cli", "target", "check", "data/target.toml"],
                                 cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "preflight passed" in checked.stdout
        run = subprocess.run([sys.executable, "-m", "opcp_cli", "check", "--quiet", "--target",
                              "data/target.toml", "-k", "obtains", "--results", "r", "--junit", "j.xml"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Traceback" not in run.stdout + run.stderr
        assert f"https://127.0.0.1:{port}" in run.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
