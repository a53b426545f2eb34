"""The reference in a child process (the suite's embedded target), the link the suite holds to
its peer, and the process's shared client TLS contexts."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from opcp.target import load as load_target
from opcp.tls_context import client_context
from opcp_reference.embedded_process import ReferenceProcess, ReferenceProcessError
from opcp_reference.suite_plugin import PeerLink
from opcp_reference.tls import make_local_tls


def test_a_child_reference_serves_writes_its_target_file_and_stops(tmp_path: Path) -> None:
    with ReferenceProcess(tmp_path / "ref") as ref:
        target = load_target(ref.target_file)
        assert target.base_url == ref.base_url
        client = target.client("OEM")
        token = httpx.post(target.token_url, json={
            "client_id": client.client_id, "client_secret": client.client_secret,
            "audience": target.audience, "grant_type": "client_credentials"})
        assert token.status_code == 200, token.text
        pid = ref._proc.pid
    assert ref._proc is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, not a zombie left to the test
    with pytest.raises(httpx.ConnectError):
        httpx.get(ref.base_url + "/.well-known/jwks.json", timeout=2)


def test_two_children_launched_together_start_one_after_the_other(tmp_path: Path) -> None:
    """launch() starts the interpreters at once; start() sends each its settings."""
    a, b = ReferenceProcess(tmp_path / "a"), ReferenceProcess(tmp_path / "b")
    with contextlib.ExitStack() as stack:
        for process in (a, b):
            stack.callback(process.stop)
            process.launch()
        a.start()
        b.start()
        assert a.port != b.port
        assert httpx.get(a.base_url + "/.well-known/jwks.json").status_code == 200
        assert httpx.get(b.base_url + "/.well-known/jwks.json").status_code == 200


def test_a_child_that_cannot_start_says_why_instead_of_hanging(tmp_path: Path) -> None:
    process = ReferenceProcess(tmp_path / "ref", faults=["no-such-fault"], start_timeout=60)
    with pytest.raises(ReferenceProcessError, match="unknown fault switch.*no-such-fault"):
        process.start()
    assert process._proc is None
    assert "no-such-fault" in (tmp_path / "ref" / "reference.log").read_text()


def test_a_child_stops_when_its_parent_dies(tmp_path: Path) -> None:
    """The parent is killed without a word: the child sees its stdin close and stops."""
    script = textwrap.dedent(f"""
        import sys, time
        from opcp_reference.embedded_process import ReferenceProcess
        ref = ReferenceProcess({str(tmp_path / 'ref')!r}).start()
        print(ref._proc.pid, ref.port, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child_pid, port = (int(x) for x in parent.stdout.readline().split())
        assert httpx.get(f"http://127.0.0.1:{port}/.well-known/jwks.json").status_code == 200
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(child_pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(child_pid, signal.SIGKILL)
            pytest.fail("the child outlived its parent by 20 s")
    finally:
        parent.kill()
        parent.stdout.close()


def test_the_peer_link_passes_bytes_resets_when_down_and_holds_when_slow(tmp_path: Path) -> None:
    with ReferenceProcess(tmp_path / "peer") as peer:
        link = PeerLink(peer.base_url, "the peer").start()
        try:
            jwks = link.url + "/.well-known/jwks.json"
            assert httpx.get(jwks).json() == httpx.get(peer.base_url + "/.well-known/jwks.json").json()
            with link.outage("down") as name:
                assert name == "the peer"
                with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError)):
                    httpx.get(jwks, timeout=5)
            with link.outage("slow"):
                with pytest.raises(httpx.ReadTimeout):
                    httpx.get(jwks, timeout=httpx.Timeout(0.5, connect=5))
            assert httpx.get(jwks).status_code == 200  # up again
            with pytest.raises(ValueError, match="unknown kind"):
                with link.outage("flaky"):
                    pass
        finally:
            link.stop()


def test_one_tls_context_per_setting(tmp_path: Path) -> None:
    make_local_tls(tmp_path)
    ca = str(tmp_path / "ca.pem")
    assert client_context() is client_context()
    assert client_context(True, ca) is client_context(True, ca)
    assert client_context(True, ca) is not client_context()
    assert client_context(False) is not client_context()
    with_cert = client_context(True, ca, str(tmp_path / "server.pem"), str(tmp_path / "server.key"))
    assert with_cert is not client_context(True, ca)  # a client certificate is its own setting
    with pytest.raises(OSError):
        client_context(True, str(tmp_path / "missing.pem"))
