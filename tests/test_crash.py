"""Crash safety: SIGKILL `opcp serve` in the middle of a burst of writes, restart it, and
every acknowledged write is there, whole (docs/reference.md, Persistence)."""

from __future__ import annotations

import base64
import json
import signal
import sqlite3
import threading
import time

import httpx

from features.support import certs
from tests.conftest import ServedReference, sqlite_only, token_for


@sqlite_only
def test_acknowledged_writes_survive_sigkill(tmp_path):
    data = tmp_path / "data"
    server = ServedReference(data)
    clients = {c["client_id"]: c for c in json.loads((data / "clients.json").read_text())}
    token = token_for(server.base_url, clients["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [{"caCertificate": certs.b64(certs.certificate(f"Crash Root {i}")[0]),
               "rootType": "V2G"} for i in range(400)]
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()

    def writer(chunk: list[dict]) -> None:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=5) as http:
            for body in chunk:
                try:
                    got = http.put("/v1/root/rootCerts", json=body)
                except httpx.HTTPError:
                    return  # the server died under us: nothing more is acknowledged
                if got.status_code == 200:
                    with lock:
                        acknowledged.append((got.json()["RootResponse"]["rootCertificateId"],
                                             body["caCertificate"]))

    before = len(httpx.get(server.base_url + "/v1/root/rootCerts", headers=headers).json()[
        "RootCertificateCollection"]["rootCertificates"])
    threads = [threading.Thread(target=writer, args=(bodies[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    while len(acknowledged) < 60:  # well inside the burst
        time.sleep(0.005)
    server.proc.send_signal(signal.SIGKILL)
    for t in threads:
        t.join()
    server.proc.wait()
    assert 60 <= len(acknowledged) < len(bodies), "the kill did not land inside the burst"

    db = sqlite3.connect(data / "opcp.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    again = ServedReference(data)
    try:
        token = token_for(again.base_url, clients["admin"])
        listed = httpx.get(again.base_url + "/v1/root/rootCerts",
                           headers={"Authorization": f"Bearer {token}"}).json()
        stored = {r["rootCertificateId"]: r["caCertificate"]
                  for r in listed["RootCertificateCollection"]["rootCertificates"]}
        missing = [i for i, _ in acknowledged if i not in stored]
        assert not missing, f"{len(missing)} acknowledged writes lost"
        for root_id, b64 in acknowledged:
            assert stored[root_id] == b64, f"{root_id} is not the certificate that was written"
        for b64 in stored.values():  # nothing half-written: every row is a whole certificate
            base64.b64decode(b64, validate=True)
        print(f"crash test: {len(acknowledged)} writes acknowledged before SIGKILL, "
              f"{len(acknowledged) - len(missing)} found after restart, "
              f"{len(stored) - before - len(acknowledged)} unacknowledged writes also committed")
    finally:
        again.stop()
