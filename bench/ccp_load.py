"""getSignedContractData under load: the embedded reference with N vehicles x 2 contracts in
the pool, asked by a CPO from a second process over loopback.

The pool is filled through the domain layer (`ccp.put`, the same checks and writes as the
HTTP path, minus the HTTP round trip); provisioning certificates go straight into the PCP's
table, because publishing through the PCP would ask an OCSP responder for each. Every
contract is real signed data for its vehicle (encrypted to its provisioning key, signed by
the reference's CPS signer), and every request is that vehicle's own signed
CertificateInstallationReq with a fresh SessionID.

Prints one JSON line: vehicles, contracts, requests, concurrency, requests_per_s, p50_ms,
p99_ms, errors, server_cpu_us (CPU time of the reference's process per request: the figure
the load of other processes moves least), the same four for the peer, ratio and fill_s.
The peer is the same load on the CPO's getWebhooks (an authorised GET answering an empty
list: routing, token and JSON without the pool's work), run right after; the machine is
shared, and requests_per_s / peer_requests_per_s moves less with the load of others than
either figure alone.

    .venv/bin/python bench/ccp_load.py                      # 10,000 vehicles, 5,000 requests
    .venv/bin/python bench/ccp_load.py --vehicles 500 --requests 1000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from v2g.namespaces import ISO2_MSG_DEF as ISO2  # noqa: E402


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def fill(store, vehicles: int) -> list[str]:
    """Fill the pool; the request bodies (base64 EXI), one per vehicle."""
    import datetime as dt

    from cryptography.hazmat.primitives.serialization import Encoding

    from opcp_reference.domain import ccp, cps, rcp
    from opcp_reference.faults import Faults
    from simulators.ev import Vehicle
    from v2g.contract_data import ContractData, build_installation_res, encrypt_for_vehicle
    from v2g.pki.builder import issue, new_key

    faults = Faults()
    oem_root = issue("oem_root", "Bench OEM Root")
    oem_sub1 = issue("oem_sub1", "Bench OEM Sub1", oem_root, ocsp_url="http://x/ocsp")
    oem_sub2 = issue("oem_sub2", "Bench OEM Sub2", oem_sub1, ocsp_url="http://x/ocsp")
    mo_root = issue("mo_root", "Bench MO Root")
    mo_sub1 = issue("mo_sub1", "Bench MO Sub1", mo_root, ocsp_url="http://x/ocsp")
    mo_sub2 = issue("mo_sub2", "Bench MO Sub2", mo_sub1, ocsp_url="http://x/ocsp")
    for root, kind in ((oem_root, "OEM"), (mo_root, "MO")):
        rcp.save_root(store, {"caCertificate": _b64(root.der), "rootType": kind}, faults)
    signer = cps.signers(store)[0]
    signer_key = cps._key(store, signer)  # noqa: SLF001 - the bench signs as the reference does
    signer_chain = [c.public_bytes(Encoding.DER) for c in signer.chain]
    v2g_root = bytes(signer.root["der"])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    bodies = []
    for n in range(vehicles):
        pcid = f"WMA{n:014d}"
        key = new_key()
        leaf = issue("oem_prov_leaf", pcid, oem_sub2, key=key, ocsp_url="http://x/ocsp")
        with store.tx() as db:
            db.execute(
                "INSERT INTO prov_certs (pcid, wmi, owner, leaf_der, sub2_der, sub1_der, root_der,"
                " key_hash, xsd_namespace, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (pcid, "WMA", "oem-1", leaf.der, oem_sub2.der, oem_sub1.der, oem_root.der,
                 f"bench{n}", ISO2, stamp, stamp))
            for c in range(2):
                emaid = f"DEABC{n:07d}B{c}"
                contract_key = new_key()
                contract = issue("contract_leaf", emaid, mo_sub2, key=contract_key,
                                 ocsp_url="http://x/ocsp")
                data = encrypt_for_vehicle(contract_key, leaf.der, emaid,
                                           [contract.der, mo_sub2.der, mo_sub1.der])
                res = build_installation_res(ContractData(data.emaid, data.contract_chain,
                                                          data.encrypted_private_key,
                                                          data.dh_public_key),
                                             signer_chain, signer_key)
                ccp.put(db, ccp.SignedData(emaid, res, contract.der, signer.root), pcid,
                        "mo-1", faults)
        vehicle = Vehicle(pcid, leaf.der, key, [v2g_root])
        bodies.append(_b64(vehicle.installation_req(os.urandom(8))))
    return bodies


WARM_UP = 50  # requests before the timed ones, to open the connections


async def _load(base_url: str, token: str, bodies: list[str], requests: int, concurrency: int,
                kind: str) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}

    def vehicle(client: httpx.AsyncClient, body: str):
        return client.post(f"{base_url}/v1/ccp/signedContractData", headers=headers,
                           json={"certificateInstallationReq": body, "xsdMsgDefNamespace": ISO2})

    def peer(client: httpx.AsyncClient, _body: str):
        return client.get(f"{base_url}/v1/webhook/endpoints", headers=headers)

    send = vehicle if kind == "vehicle" else peer
    latencies: list[float] = []
    errors = 0
    queue = [random.choice(bodies) for _ in range(requests)]

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency)) as client:
        async def worker() -> None:
            nonlocal errors
            while queue:
                body = queue.pop()
                started = time.perf_counter()
                got = await send(client, body)
                latencies.append(time.perf_counter() - started)
                if got.status_code != 200:
                    errors += 1

        for body in bodies[:WARM_UP]:  # not timed
            await send(client, body)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
            "errors": errors}


@contextmanager
def pool(vehicles: int) -> Iterator[tuple[object, Path, float]]:
    """The embedded reference with a filled pool, the loader's job file and the fill time."""
    import httpx

    from opcp_reference.server import DEFAULT_AUDIENCE, EmbeddedReference

    with tempfile.TemporaryDirectory() as tmp, \
            EmbeddedReference(Path(tmp) / "data") as ref:
        logging_off()
        started = time.perf_counter()
        bodies = fill(ref.ref.store, vehicles)
        # A pool in service has checkpointed its WAL long ago; right after the fill it is huge.
        ref.ref.store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        fill_s = time.perf_counter() - started
        cpo = next(c for c in json.loads((ref.ref.data_dir / "clients.json").read_text())
                   if c["role"] == "CPO")
        token = httpx.post(f"{ref.base_url}/oauth/token", json={
            "client_id": cpo["client_id"], "client_secret": cpo["client_secret"],
            "audience": DEFAULT_AUDIENCE, "grant_type": "client_credentials"}).json()["access_token"]
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"base_url": ref.base_url, "token": token, "bodies": bodies}))
        yield ref, job, fill_s


def run_loader(job: Path, kind: str, requests: int, concurrency: int) -> dict | None:
    """One loader process; with the CPU time the reference (this process) spent meanwhile."""
    cpu = time.process_time()  # every thread of this process: the reference's is the busy one
    proc = subprocess.run([sys.executable, __file__, "--load", str(job), "--kind", kind,
                           "--requests", str(requests), "--concurrency", str(concurrency)],
                          capture_output=True, text=True, check=False)
    used = time.process_time() - cpu
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["server_cpu_us"] = round(used / (requests + WARM_UP) * 1e6)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)  # the loader process
    parser.add_argument("--kind", default="vehicle", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        job = json.loads(args.load.read_text())
        print(json.dumps(asyncio.run(_load(job["base_url"], job["token"], job["bodies"],
                                           args.requests, args.concurrency, args.kind))))
        return 0

    with pool(args.vehicles) as (_ref, job, fill_s):
        result = run_loader(job, "vehicle", args.requests, args.concurrency)
        peer = run_loader(job, "peer", args.requests, args.concurrency)
    if result is None or peer is None:
        return 1
    print(json.dumps({"vehicles": args.vehicles, "contracts": 2 * args.vehicles,
                      "requests": args.requests, "concurrency": args.concurrency, **result,
                      **{f"peer_{k}": v for k, v in peer.items()},
                      "ratio": round(result["requests_per_s"] / peer["requests_per_s"], 3),
                      "fill_s": round(fill_s, 1)}))
    return 0 if result["errors"] == peer["errors"] == 0 else 1


def logging_off() -> None:
    import logging

    logging.getLogger("opcp").setLevel(logging.WARNING)  # one log line per request otherwise


if __name__ == "__main__":
    sys.exit(main())
