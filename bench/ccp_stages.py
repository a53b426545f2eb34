"""The stages of a getSignedContractData request one by one, in process and without a
profiler: microseconds per call, on a pool filled as bench/ccp_load.py fills it.

"first" is a vehicle's first request (its provisioning certificate not parsed yet), "again"
the same vehicles once more. The audit row is the commit the middleware made per vehicle
request before it was classed a read; its cost is the disk's fsync, and moves with the load.

    .venv/bin/python bench/ccp_stages.py                    # 1,200 vehicles
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ccp_load  # noqa: E402 - the bench beside this file


class _Body:
    """What read_json needs of an aiohttp request."""

    def __init__(self, raw: bytes):
        self.raw = raw

    async def read(self) -> bytes:
        return self.raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=1_200)
    args = parser.parse_args()

    from opcp_reference.server import open_reference

    with tempfile.TemporaryDirectory() as tmp:
        ref = open_reference(Path(tmp) / "data")
        try:
            return _measure(ref, args.vehicles)
        finally:
            ref.store.close()


def _measure(ref, vehicles: int) -> int:
    from opcp_reference import audit
    from opcp_reference.domain import auth, ccp, rcp_trust
    from opcp_reference.http.request_scope import read_json
    from v2g import exi, xmldsig
    from v2g.pki.validate import Purpose

    per = vehicles // 3
    store = ref.store
    bodies = ccp_load.fill(store, vehicles)
    raws = [base64.b64decode(b) for b in bodies]
    chains = [[bytes(r[c]) for c in ("leaf_der", "sub2_der", "sub1_der")]
              for r in store.query("SELECT * FROM prov_certs ORDER BY pcid")]
    cpo = next(c for c in json.loads((ref.data_dir / "clients.json").read_text())
               if c["role"] == "CPO")
    token = auth.issue_token(store, ref.auth, {
        "client_id": cpo["client_id"], "client_secret": cpo["client_secret"],
        "audience": ref.auth.audience, "grant_type": "client_credentials"},
        ref.faults)["access_token"]
    decoded = exi.decode(raws[0])
    body = json.dumps({"certificateInstallationReq": bodies[0],
                       "xsdMsgDefNamespace": ccp.ISO2}).encode()
    loop = asyncio.new_event_loop()

    def chain(i: int) -> None:
        rcp_trust.validate(store, chains[i], Purpose.PROVISIONING, ("OEM", "V2G"), ["chain"] * 5)

    def domain(i: int) -> None:
        ccp.get_for_vehicle(store, {"certificateInstallationReq": bodies[per + i],
                                    "xsdMsgDefNamespace": ccp.ISO2}, ref.faults)

    stages = [
        ("token check", per, lambda i: auth.verify_token(store, ref.auth, f"Bearer {token}",
                                                         ref.faults)),
        ("read_json of a vehicle's body", per, lambda i: loop.run_until_complete(
            read_json(_Body(body)))),
        ("EXI decode of a request", per, lambda i: exi.decode(raws[i])),
        ("XMLDSig verify of a decoded request", per, lambda i: xmldsig.verify(decoded)),
        ("PCP chain to an RCP root, first", per, chain),
        ("PCP chain to an RCP root, again", per, chain),
        ("getSignedContractData (domain), first", per, domain),
        ("getSignedContractData (domain), again", per, domain),
        ("audit row (fsync'd commit)", 100, lambda i: audit.record(
            store, client_id="cpo", role="CPO", operation="bench", object_ids=[], status=200,
            trace_id="bench")),
    ]
    print(f"vehicles {vehicles}")
    print(f"{'stage':44s} {'us/call':>8s}")
    for label, calls, call in stages:
        started = time.perf_counter()
        for i in range(calls):
            call(i)
        print(f"{label:44s} {(time.perf_counter() - started) / calls * 1e6:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
