"""Webhook delivery through a running reference: durability across restarts, no blocking."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from opcp_reference.domain.events import DeliverySettings, RetryPolicy
from opcp_reference.server import EmbeddedReference
from simulators.webhook_receiver import ReceiverServer
from tests.conftest import make_root, token_for

FAST = DeliverySettings(retry=RetryPolicy(3, 0.2), poll_seconds=0.02, timeout_seconds=5)


@pytest.fixture
def receiver():
    with ReceiverServer() as server:
        yield server


def _clients(data: Path) -> dict[str, dict]:
    return {c["client_id"]: c for c in json.loads((data / "clients.json").read_text())}


def _auth(ref: EmbeddedReference, client: dict) -> dict:
    return {"Authorization": f"Bearer {token_for(ref.base_url, client)}"}


def _subscribe(ref, client, url, events=("root.cert.added",)) -> dict:
    got = httpx.post(f"{ref.base_url}/v1/webhook/endpoints", headers=_auth(ref, client),
                     json={"url": url, "enabledEvents": list(events)})
    assert got.status_code == 201, got.text
    return got.json()


def _add_root(ref, admin) -> str:
    der = make_root(f"Test Root {time.time_ns()}", "V2G")
    got = httpx.put(f"{ref.base_url}/v1/root/rootCerts", headers=_auth(ref, admin),
                    json={"caCertificate": base64.b64encode(der).decode(), "rootType": "V2G"})
    assert got.status_code == 200, got.text
    return got.json()["RootResponse"]["rootCertificateId"]


def _log(ref, client, endpoint_id) -> list[dict]:
    got = httpx.get(f"{ref.base_url}/v1/webhook/endpoints/{endpoint_id}/deliveries",
                    headers=_auth(ref, client))
    assert got.status_code == 200, got.text
    return got.json()["deliveries"]


def _accepted(receiver, hook) -> list:
    return [d for d in receiver.receiver.deliveries(hook) if d.accepted]


def test_a_restart_in_the_middle_of_retrying_loses_nothing_and_repeats_nothing(tmp_path, receiver):
    data = tmp_path / "data"
    # A retry far enough away that a loaded machine stops the reference before it (1.5 s was
    # not, at load 6); the second reference retries at FAST pace, so nothing waits for it.
    slow_retry = DeliverySettings(retry=RetryPolicy(3, 10.0), poll_seconds=0.02, timeout_seconds=5)
    with EmbeddedReference(data, webhooks=slow_retry) as first:
        clients = _clients(data)
        flaky = _subscribe(first, clients["cpo-1"], receiver.url("flaky"))
        healthy = _subscribe(first, clients["oem-1"], receiver.url("healthy"))
        receiver.receiver.register("flaky", flaky["secret"])
        receiver.receiver.register("healthy", healthy["secret"])
        receiver.receiver.fail_next("flaky", 1)
        root_id = _add_root(first, clients["admin"])
        assert receiver.receiver.wait_for(
            lambda ds: {d.hook for d in ds} == {"flaky", "healthy"}, timeout=10)
        _wait_logged(first, clients["oem-1"], healthy["id"], "delivered", 1)
        _wait_logged(first, clients["cpo-1"], flaky["id"], "pending", 1)
        # Stopped between the failed first attempt and its retry 10 s later.
    assert [d.answered for d in receiver.receiver.deliveries("flaky")] == [503]
    with EmbeddedReference(data, webhooks=FAST) as second:
        assert receiver.receiver.wait_for(lambda ds: _accepted(receiver, "flaky"), timeout=10)
        time.sleep(0.5)  # room for a wrong second delivery to show up
        log = _log(second, clients["cpo-1"], flaky["id"])
    flaky_got = receiver.receiver.deliveries("flaky")
    assert [d.answered for d in flaky_got] == [503, 200]
    assert len(_accepted(receiver, "healthy")) == 1  # delivered before the restart: not again
    assert flaky_got[0].body == flaky_got[1].body  # the same event, byte for byte
    assert json.loads(flaky_got[1].body)["payload"]["rootCertificateId"] == root_id
    assert [(e["status"], e["attempts"]) for e in log] == [("delivered", 2)]
    assert [a["httpStatus"] for a in log[0]["log"]] == [503, 200]


def test_an_event_raised_just_before_a_stop_is_delivered_after_the_restart(tmp_path, receiver):
    data = tmp_path / "data"
    # The worker looks into the outbox only every 30 s: the event is still undelivered at stop.
    lazy = DeliverySettings(poll_seconds=30)
    with EmbeddedReference(data, webhooks=lazy) as first:
        clients = _clients(data)
        endpoint = _subscribe(first, clients["mo-1"], receiver.url("late"))
        receiver.receiver.register("late", endpoint["secret"])
        time.sleep(0.2)  # let the worker's first pass go by
        _add_root(first, clients["admin"])
    assert receiver.receiver.deliveries("late") == []
    with EmbeddedReference(data, webhooks=FAST):
        assert receiver.receiver.wait_for(lambda ds: _accepted(receiver, "late"), timeout=10)
        time.sleep(0.3)
    assert len(receiver.receiver.deliveries("late")) == 1


def _black_hole() -> tuple[socket.socket, str]:
    """A port that accepts connections and never answers: a hanging receiver."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(100)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def test_hanging_receivers_never_slow_the_api(tmp_path):
    data = tmp_path / "data"
    hole, url = _black_hole()
    # Attempts wait 30 s for an answer that never comes: they are still in flight when the API
    # calls below are made, however loaded the machine is.
    settings = DeliverySettings(retry=RetryPolicy(3, 60), poll_seconds=0.02, timeout_seconds=30)
    try:
        with EmbeddedReference(data, webhooks=settings) as ref:
            clients = _clients(data)
            for _ in range(20):
                _subscribe(ref, clients["cps-1"], url)
            started = time.perf_counter()
            _add_root(ref, clients["admin"])  # raises 20 deliveries into the black hole
            raise_time = time.perf_counter() - started
            time.sleep(0.3)  # the attempts are in flight now, waiting for answers
            headers = _auth(ref, clients["cpo-1"])
            slowest = 0.0
            for _ in range(10):
                started = time.perf_counter()
                got = httpx.get(f"{ref.base_url}/v1/root/rootCerts", headers=headers)
                slowest = max(slowest, time.perf_counter() - started)
                assert got.status_code == 200
            in_flight = [e for e in _log(ref, clients["cps-1"],
                                         _first_endpoint(ref, clients["cps-1"]))
                         if e["attempts"] == 0 and e["status"] == "pending"]
    finally:
        hole.close()
    # Generous bounds (the point is "not the 30 s timeout"), not a benchmark.
    assert raise_time < 2 and slowest < 2, (raise_time, slowest)
    assert in_flight, "the deliveries were not in flight while the API answered"


def _first_endpoint(ref, client) -> str:
    got = httpx.get(f"{ref.base_url}/v1/webhook/endpoints", headers=_auth(ref, client))
    return got.json()[0]["id"]


def test_the_receiver_runs_standalone(tmp_path):
    """`python -m simulators.webhook_receiver` serves and checks signatures."""
    from opcp.webhook_signature import signature_headers

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "simulators.webhook_receiver", "--port",
                             str(port), "--hook", "mine=topsecret"], stdout=subprocess.PIPE,
                            text=True)
    try:
        ready = threading.Event()
        threading.Thread(target=lambda: (proc.stdout.readline(), ready.set()), daemon=True).start()
        assert ready.wait(15), "the receiver did not start"
        body = b'{"eventId":"x"}'
        good = httpx.post(f"http://127.0.0.1:{port}/hooks/mine", content=body,
                          headers=signature_headers("topsecret", body))
        bad = httpx.post(f"http://127.0.0.1:{port}/hooks/mine", content=body,
                         headers=signature_headers("guess", body))
        assert (good.status_code, bad.status_code) == (200, 401)
    finally:
        proc.terminate()
        proc.wait(10)


def _serve(data: Path, retry_seconds: float) -> tuple[subprocess.Popen, str]:
    """`opcp serve` in a child process (so it can be SIGKILLed), once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "opcp_cli", "serve", "--port", str(port),
                             "--data-dir", str(data), "--webhook-retry-seconds",
                             str(retry_seconds)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/.well-known/jwks.json", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("opcp serve did not start")


def _wait_logged(ref, client, endpoint_id, status: str, attempts: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if [(e["status"], e["attempts"]) for e in _log(ref, client, endpoint_id)] == [
                (status, attempts)]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the log never showed {status} after {attempts} attempt(s)")


class _Served:
    def __init__(self, base_url: str):
        self.base_url = base_url


def test_sigkill_in_the_middle_of_retrying_loses_nothing_and_repeats_nothing(tmp_path, receiver):
    data = tmp_path / "data"
    proc, base = _serve(data, retry_seconds=2)
    try:
        first = _Served(base)
        clients = _clients(data)
        flaky = _subscribe(first, clients["mo-2"], receiver.url("killed"))
        healthy = _subscribe(first, clients["cps-2"], receiver.url("fine"))
        receiver.receiver.register("killed", flaky["secret"])
        receiver.receiver.register("fine", healthy["secret"])
        receiver.receiver.fail_next("killed", 1)
        _add_root(first, clients["admin"])
        assert receiver.receiver.wait_for(
            lambda ds: {d.hook for d in ds} == {"killed", "fine"}, timeout=10)
        # Kill once both answers are recorded. (Killed between the receiver's 2xx and that
        # record, the event would be sent again: the window docs/webhooks.md owns up to.)
        _wait_logged(first, clients["cps-2"], healthy["id"], "delivered", 1)
        _wait_logged(first, clients["mo-2"], flaky["id"], "pending", 1)
        proc.send_signal(signal.SIGKILL)  # no cleanup, no last commit: a crash
        proc.wait(10)
    finally:
        proc.kill()
    assert [d.answered for d in receiver.receiver.deliveries("killed")] == [503]
    proc, base = _serve(data, retry_seconds=0.2)
    try:
        assert receiver.receiver.wait_for(lambda ds: _accepted(receiver, "killed"), timeout=15)
        time.sleep(1.5)  # three polls of the restarted worker: room for a wrong repeat
        log = _log(_Served(base), clients["mo-2"], flaky["id"])
    finally:
        proc.terminate()
        proc.wait(10)
    assert [d.answered for d in receiver.receiver.deliveries("killed")] == [503, 200]
    assert [d.answered for d in receiver.receiver.deliveries("fine")] == [200]
    assert [(e["status"], e["attempts"]) for e in log] == [("delivered", 2)]
