"""Several `opcp serve` processes on one PostgreSQL store serve one ecosystem (docs/reference.md,
Store): tokens valid on all, a change through one seen by the others at their next request,
outbox deliveries claimed once, acknowledged writes surviving SIGKILL, and PostgreSQL
restarted under load answered with 503 and recovered from without restarting an instance.

Each test runs a throwaway cluster (opcp_cli.sandbox) and real processes; they need Debian's
postgresql (and nginx for the front), which `.ci/run` installs: without them the tests skip,
except under CI, where they fail.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from opcp.client import path_of
from tests.conftest import ServedReference, make_root, token_for
from v2g.namespaces import ISO2_MSG_DEF
from v2g.pki.builder import issue

pytestmark = pytest.mark.slow


def _have(program: str) -> bool:
    from opcp_cli.sandbox import SandboxError, pg_bin

    try:
        return bool(pg_bin(program)) if program != "nginx" else bool(
            shutil.which("nginx") or Path("/usr/sbin/nginx").exists())
    except SandboxError:
        return False


def _need(program: str) -> None:
    if not _have(program):
        if os.environ.get("CI"):
            pytest.fail(f"{program} is missing: .ci/run installs Debian's package")
        pytest.skip(f"{program} is not installed (Debian's package; .ci/run installs it)")


@pytest.fixture
def cluster():
    _need("initdb")
    from opcp_cli.sandbox import PostgresCluster

    with PostgresCluster() as running:
        yield running


def start_instances(cluster, data: Path, count: int, *args: str) -> list[ServedReference]:
    url = cluster.fresh_database("eco")
    first = ServedReference(data, "--store", url, *args)
    # The others share the data dir (master key, clients.json) and find the ecosystem built.
    return [first] + [ServedReference(data, "--store", url, *args) for _ in range(count - 1)]


def stop_all(instances: list[ServedReference]) -> None:
    for instance in instances:
        instance.stop()


def _clients(data: Path) -> dict[str, dict]:
    return {c["client_id"]: c for c in json.loads((data / "clients.json").read_text())}


def _bearer(base_url: str, client: dict) -> dict:
    return {"Authorization": f"Bearer {token_for(base_url, client)}"}


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


def _oem_chain(name: str):
    now = dt.datetime.now(dt.UTC)
    root = issue("oem_root", f"MI Root {name}")
    sub1 = issue("oem_sub1", f"MI Sub1 {name}", root, ocsp_url="http://127.0.0.1:9/ocsp")
    sub2 = issue("oem_sub2", f"MI Sub2 {name}", sub1, ocsp_url="http://127.0.0.1:9/ocsp",
                 not_before=now - dt.timedelta(hours=1), not_after=now + dt.timedelta(days=30))

    def body(pcid: str) -> dict:
        leaf = issue("oem_prov_leaf", pcid, sub2, ocsp_url="http://127.0.0.1:9/ocsp",
                     not_before=now - dt.timedelta(hours=1), not_after=now + dt.timedelta(days=20))
        return {"vehicleCertificate": _b64(leaf.der), "subCA2Certificate": _b64(sub2.der),
                "subCA1Certificate": _b64(sub1.der), "xsdMsgDefNamespace": ISO2_MSG_DEF}

    return root, body


def test_one_ecosystem_tokens_everywhere_and_a_root_change_seen_at_the_next_request(cluster, tmp_path):
    _need("initdb")
    data = tmp_path / "data"
    a, b = start_instances(cluster, data, 2, "--fault", "pcp-skip-ocsp")
    try:
        clients = _clients(data)
        admin = _bearer(a.base_url, clients["admin"])
        oem = _bearer(a.base_url, clients["oem-1"])  # minted by a, used on b
        got = httpx.get(b.base_url + path_of("getWebhooks"), headers=oem)
        assert got.status_code == 200, got.text
        root, body = _oem_chain("one")
        for round_ in range(3):
            saved = httpx.put(a.base_url + path_of("saveRootCa"), headers=admin,
                              json={"caCertificate": _b64(root.der), "rootType": "OEM"})
            assert saved.status_code == 200, saved.text
            root_id = saved.json()["RootResponse"]["rootCertificateId"]
            # b knew the RCP without this root a moment ago: it must trust it now.
            put = httpx.put(b.base_url + path_of("addOemProvCert"), headers=oem,
                             json=body(f"WMA00000000000{round_}0A"))
            assert put.status_code in (200, 201), put.text
            gone = httpx.delete(a.base_url + path_of("deleteRootCa",
                                                     {"rootCertificateId": root_id}), headers=admin)
            assert gone.status_code in (200, 204), gone.text
            refused = httpx.put(b.base_url + path_of("addOemProvCert"), headers=oem,
                                 json=body(f"WMA00000000000{round_}0B"))
            assert refused.status_code == 400, refused.text
            assert "Root Certificate Pool" in refused.text
    finally:
        stop_all([a, b])


def test_acknowledged_writes_through_the_front_survive_sigkill_of_an_instance(cluster, tmp_path):
    _need("nginx")
    from opcp_cli.sandbox import NginxFront

    data = tmp_path / "data"
    instances = start_instances(cluster, data, 2)
    front = NginxFront([f"127.0.0.1:{i.port}" for i in instances]).start()
    try:
        headers = _bearer(front.base_url, _clients(data)["admin"])
        bodies = [{"caCertificate": _b64(make_root(f"Kill Root {i}", "V2G")), "rootType": "V2G"}
                  for i in range(300)]
        acknowledged: list[str] = []
        lock = threading.Lock()

        def writer(chunk: list[dict]) -> None:
            with httpx.Client(base_url=front.base_url, headers=headers, timeout=10) as http:
                for body in chunk:
                    try:
                        got = http.put(path_of("saveRootCa"), json=body)
                    except httpx.HTTPError:
                        continue
                    if got.status_code == 200:
                        with lock:
                            acknowledged.append(got.json()["RootResponse"]["rootCertificateId"])

        threads = [threading.Thread(target=writer, args=(bodies[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        while len(acknowledged) < 40:
            time.sleep(0.005)
        instances[0].proc.send_signal(signal.SIGKILL)
        for t in threads:
            t.join()
        assert len(acknowledged) > 40
        listed = httpx.get(front.base_url + path_of("getAllRootCerts"), headers=headers, timeout=10)
        assert listed.status_code == 200, listed.text
        held = {r["rootCertificateId"] for r in
                listed.json()["RootCertificateCollection"]["rootCertificates"]}
        assert set(acknowledged) <= held, f"lost: {set(acknowledged) - held}"
    finally:
        front.stop()
        stop_all(instances)


class _FlakyReceiver(BaseHTTPRequestHandler):
    """Answers 503 to the first delivery of each event, 200 after; counts the 200s."""

    seen: dict[str, int] = {}
    ok: dict[str, int] = {}
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        event = body["eventId"]
        with self.lock:
            self.seen[event] = self.seen.get(event, 0) + 1
            status = 503 if self.seen[event] == 1 else 200
            if status == 200:
                self.ok[event] = self.ok.get(event, 0) + 1
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _flaky_world(cluster, data: Path, retry_seconds: str):
    """Two instances retrying every `retry_seconds`, and a fresh flaky receiver."""
    instances = start_instances(cluster, data, 2, "--webhook-retry-seconds", retry_seconds)
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyReceiver)
    _FlakyReceiver.seen, _FlakyReceiver.ok = {}, {}
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    return instances, receiver


def test_deliveries_are_claimed_once_and_survive_sigkill_during_retries(cluster, tmp_path):
    data = tmp_path / "data"
    instances, receiver = _flaky_world(cluster, data, "0.5")
    try:
        clients = _clients(data)
        a, b = instances
        oem = _bearer(a.base_url, clients["oem-1"])
        admin = _bearer(a.base_url, clients["admin"])
        hook = httpx.post(a.base_url + path_of("addWebhook"), headers=oem, json={
            "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
            "enabledEvents": ["root.cert.added"]})
        assert hook.status_code == 201, hook.text
        events = 30
        for i in range(events):
            target = instances[i % 2].base_url
            saved = httpx.put(target + path_of("saveRootCa"), headers=admin, json={
                "caCertificate": _b64(make_root(f"Hook Root {i}", "V2G")), "rootType": "V2G"})
            assert saved.status_code == 200, saved.text
        # The first attempts fail; while the retries are due, one instance dies.
        deadline = time.monotonic() + 20
        while len(_FlakyReceiver.seen) < events and time.monotonic() < deadline:
            time.sleep(0.02)
        a.proc.send_signal(signal.SIGKILL)
        # The survivor sends what is left, and what the dead one had claimed once its lease
        # (2 x the 10 s attempt timeout + grace) has run out.
        deadline = time.monotonic() + 60
        while len(_FlakyReceiver.ok) < events and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_FlakyReceiver.ok) == events, f"{events - len(_FlakyReceiver.ok)} never delivered"
        doubled = [e for e, n in _FlakyReceiver.ok.items() if n > 1]
        # At-least-once across a crash: only an attempt in flight at the kill may repeat.
        assert len(doubled) <= 16, doubled
    finally:
        receiver.shutdown()
        stop_all(instances)


def test_two_live_instances_never_send_one_delivery_twice(cluster, tmp_path):
    data = tmp_path / "data"
    instances, receiver = _flaky_world(cluster, data, "0.3")
    try:
        clients = _clients(data)
        oem = _bearer(instances[0].base_url, clients["oem-1"])
        admin = _bearer(instances[0].base_url, clients["admin"])
        assert httpx.post(instances[1].base_url + path_of("addWebhook"), headers=oem, json={
            "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
            "enabledEvents": ["root.cert.added"]}).status_code == 201
        events = 40
        for i in range(events):
            assert httpx.put(instances[i % 2].base_url + path_of("saveRootCa"), headers=admin, json={
                "caCertificate": _b64(make_root(f"Once Root {i}", "V2G")),
                "rootType": "V2G"}).status_code == 200
        deadline = time.monotonic() + 30
        while len(_FlakyReceiver.ok) < events and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_FlakyReceiver.ok) == events
        time.sleep(1.0)  # room for a second sending, if there were one
        assert all(n == 2 for n in _FlakyReceiver.seen.values()), _FlakyReceiver.seen
        assert all(n == 1 for n in _FlakyReceiver.ok.values())
    finally:
        receiver.shutdown()
        stop_all(instances)


def test_postgres_restarted_under_load_gives_503_then_recovers_without_restarts(cluster, tmp_path):
    data = tmp_path / "data"
    instances = start_instances(cluster, data, 2)
    try:
        clients = _clients(data)
        headers = _bearer(instances[0].base_url, clients["cpo-1"])
        answers: list[tuple[int, dict | None]] = []
        stop = threading.Event()

        def load(base_url: str) -> None:
            with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
                while not stop.is_set():
                    got = http.get(path_of("getWebhooks"))
                    body = got.json() if got.headers.get("content-type", "").startswith(
                        "application/json") else None
                    answers.append((got.status_code, body))
                    time.sleep(0.01)

        threads = [threading.Thread(target=load, args=(i.base_url,)) for i in instances]
        for t in threads:
            t.start()
        time.sleep(1.0)
        cluster.restart(down_seconds=2.0)
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join(timeout=20)
            assert not t.is_alive(), "a request hung"
        statuses = {s for s, _ in answers}
        assert statuses <= {200, 503}, statuses
        unavailable = [body for s, body in answers if s == 503]
        assert unavailable, "the restart was not noticed"
        for body in unavailable:
            assert body and body["errorMessages"] and body["traceId"], body
            assert "store" in body["errorMessages"][0]
        assert answers[-1][0] == 200 and answers[-2][0] == 200, answers[-5:]
        for instance in instances:
            assert instance.proc.poll() is None, "an instance died"
            added = httpx.post(instance.base_url + path_of("addWebhook"), headers=headers,
                               json={"url": "http://127.0.0.1:9/after",
                                     "enabledEvents": ["root.cert.added"]})
            assert added.status_code == 201, added.text
    finally:
        stop_all(instances)
