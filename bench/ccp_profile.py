"""Where a getSignedContractData request spends the reference's time: the load of
bench/ccp_load.py with cProfile on the reference's thread, as microseconds per request for
each stage (inclusive: a stage's line counts what it calls).

cProfile slows Python code down more than C code (ECDSA, SQLite, sockets), so the figures
are for comparing stages and versions, not totals; `server_cpu_us` of ccp_load.py is the
unprofiled total. Prints a table, then the 30 functions with the most time of their own.

    .venv/bin/python bench/ccp_profile.py                   # 10,000 vehicles, 3,000 requests
    .venv/bin/python bench/ccp_profile.py --vehicles 1000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ccp_load  # noqa: E402 - the bench beside this file

# (label, file suffix, function): the stages of one request, outermost first.
STAGES = [
    ("whole request in aiohttp", "aiohttp/web_protocol.py", "_handle_request"),
    ("  middleware (trace, errors, audit, log)", "opcp_reference/app.py", "trace_and_errors"),
    ("    token check", "opcp_reference/domain/auth.py", "verify_token"),
    ("    body: read and parse JSON", "opcp_reference/http/common.py", "read_json"),
    ("    getSignedContractData (domain)", "opcp_reference/domain/ccp.py", "get_for_vehicle"),
    ("      EXI decode of the request", "v2g/exi/__init__.py", "decode"),
    ("      XMLDSig verify (EXI encode, ECDSA)", "v2g/xmldsig.py", "verify"),
    ("        ECDSA verifications (all)", "~", "<method 'verify' of "
     "'cryptography.hazmat.bindings._rust.openssl.ec.ECPublicKey' objects>"),
    ("      PCP chain to an RCP root", "opcp_reference/domain/ccp.py", "validate"),
    ("      EV's root list vs contracts", "opcp_reference/domain/ccp.py", "_matches"),
    ("      SessionID into the answer", "opcp_reference/domain/ccp.py", "with_session"),
    ("    audit row (fsync'd commit)", "opcp_reference/audit.py", "record"),
    ("  SQLite transactions (all)", "opcp_reference/store.py", "tx"),
    ("  SQLite statements (all)", "~", "<method 'execute' of 'sqlite3.Connection' objects>"),
    ("  JSON response", "aiohttp/web_response.py", "json_response"),
    ("  socket send", "~", "<method 'send' of '_socket.socket' objects>"),
]


def table(stats: pstats.Stats, requests: int) -> list[tuple[str, float]]:
    rows = []
    for label, suffix, name in STAGES:
        total = sum(entry[3] for (file, _line, func), entry in stats.stats.items()
                    if func == name and file.endswith(suffix))
        rows.append((label, total / requests * 1e6))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--save", type=Path, help="also write the raw profile here")
    args = parser.parse_args()

    profile = cProfile.Profile()

    async def switch(on: bool) -> None:  # cProfile profiles the thread that enables it
        profile.enable() if on else profile.disable()

    with ccp_load.pool(args.vehicles) as (ref, job, _fill_s):
        asyncio.run_coroutine_threadsafe(switch(True), ref._loop).result()  # noqa: SLF001
        load = ccp_load.run_loader(job, "vehicle", args.requests, args.concurrency)
        asyncio.run_coroutine_threadsafe(switch(False), ref._loop).result()  # noqa: SLF001
    if load is None:
        return 1
    requests = args.requests + ccp_load.WARM_UP
    stats = pstats.Stats(profile)
    if args.save:
        stats.dump_stats(args.save)
    print(f"vehicles {args.vehicles}, requests {requests} (profiled), load: {json.dumps(load)}")
    print(f"{'stage':44s} {'us/request':>10s}")
    for label, micros in table(stats, requests):
        print(f"{label:44s} {micros:10.0f}")
    print()
    stats.sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
