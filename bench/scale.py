"""A pool of production size: 1,000,000 vehicles x 2 contracts, on SQLite and on PostgreSQL.

For each backend and pool size: fill the store, then serve it with `opcp serve` (a process of
its own, so its CPU time is the server's alone) and load it from a second process:
getSignedContractData (each request a real vehicle's own signed CertificateInstallationReq)
and, as the peer measured in the same run, getWebhooks (an authorised GET: routing, token and
JSON without the pool's work). On PostgreSQL the largest pool is served once more by two
instances behind nginx, for the throughput of one vs two instances.

The fill: REAL vehicles (default 200) are made as bench/ccp_load.py makes them (real
certificates, contracts encrypted to each vehicle's key and signed by the reference's CPS
signer, stored through `ccp.put`); these are the vehicles the load asks for. The rest of the
pool is bulk-loaded (PostgreSQL: COPY; SQLite: executemany in large transactions) as copies of
a real vehicle's rows under their own PCIDs and EMAIDs: same row sizes, same indexes, so the
database is as large as a real pool and every lookup walks indexes of the full size.

Prints one JSON line per measurement and a final summary line; docs/scale.md holds figures.

    .venv/bin/python bench/scale.py                                  # 10k and 1M, both stores
    .venv/bin/python bench/scale.py --sizes 10000 --stores sqlite    # a quick look
    .venv/bin/python bench/scale.py --pg-url postgresql://...        # an existing server
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ccp_load  # noqa: E402 - the vehicle fill and the loader live there

CHUNK = 20_000  # rows per bulk statement batch


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bulk_fill(store, total: int, real: int) -> float:
    """Copies of the first real vehicle's rows up to `total` vehicles; the seconds it took."""
    proto = store.query_one("SELECT * FROM prov_certs ORDER BY pcid LIMIT 1")
    contracts = store.query("SELECT * FROM contracts WHERE pcid = ? ORDER BY seq", (proto["pcid"],))
    prov_cols = [c for c in proto.keys()]
    contract_cols = [c for c in contracts[0].keys() if c != "seq"]
    started = time.perf_counter()

    def prov_rows(lo: int, hi: int):
        for n in range(lo, hi):
            row = dict(proto)
            row.update(pcid=f"WMB{n:014d}", wmi="WMB", key_hash=f"bulk{n}")
            yield [row[c] for c in prov_cols]

    def contract_rows(lo: int, hi: int):
        for n in range(lo, hi):
            for c, template in enumerate(contracts):
                row = dict(template)
                row.update(pcid=f"WMB{n:014d}", emaid=f"DEXYZ{n:08d}{c}")
                yield [row[k] for k in contract_cols]

    def default_rows(lo: int, hi: int):
        for n in range(lo, hi):
            yield [f"WMB{n:014d}", f"DEXYZ{n:08d}0"]

    tables = [("prov_certs", prov_cols, prov_rows), ("contracts", contract_cols, contract_rows),
              ("default_contracts", ["pcid", "emaid"], default_rows)]
    count = total - real
    for lo in range(0, count, CHUNK):
        hi = min(count, lo + CHUNK)
        with store.tx() as db:
            for table, cols, rows in tables:
                if store.dialect == "postgresql":
                    with db.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for values in rows(lo, hi):
                            copy.write_row(values)
                else:
                    db.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES"
                                   f" ({', '.join('?' * len(cols))})", rows(lo, hi))
    if store.dialect == "postgresql":
        # A pool in service has been analysed by autovacuum long ago; right after a bulk
        # load the planner knows nothing of the new rows.
        with store.tx() as db:
            db.execute("ANALYZE")
    else:
        store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        store.query("ANALYZE")
    return time.perf_counter() - started


class Served:
    """`opcp serve` processes on a store (and nginx over them when there are several)."""

    def __init__(self, data_dir: Path, store: str, instances: int):
        from opcp_cli.front import start_instance, stop_instances
        from opcp_cli.sandbox import NginxFront, free_port

        self._stop = stop_instances
        ports = [free_port() for _ in range(instances)]
        env_url = f"http://127.0.0.1:{ports[0]}"
        self.procs = [start_instance(data_dir, port, store, env_url, i + 1)
                      for i, port in enumerate(ports)]
        self.front = None
        self.base_url = env_url
        if instances > 1:
            self.front = NginxFront([f"127.0.0.1:{p}" for p in ports]).start()
            self.base_url = self.front.base_url

    def cpu(self) -> float:
        return sum(_cpu_seconds(p.pid) for p in self.procs)

    def close(self) -> None:
        if self.front is not None:
            self.front.stop()
        self._stop(self.procs)


def measure(served: Served, job: Path, kind: str, requests: int, concurrency: int) -> dict:
    before = served.cpu()
    proc = subprocess.run([sys.executable, ccp_load.__file__, "--load", str(job), "--kind", kind,
                           "--requests", str(requests), "--concurrency", str(concurrency)],
                          capture_output=True, text=True, check=False)
    used = served.cpu() - before
    if proc.returncode != 0:
        raise SystemExit(f"loader failed: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["server_cpu_us"] = round(used / (requests + ccp_load.WARM_UP) * 1e6)
    return result


def _token(data_dir: Path) -> str:
    """A CPO token from the token URL of the target file an instance wrote: the instances share
    their signing keys, so it is good on every instance."""
    import httpx

    from opcp.target import load as load_target
    from opcp_reference.server import DEFAULT_AUDIENCE

    cpo = next(c for c in json.loads((data_dir / "clients.json").read_text())
               if c["role"] == "CPO")
    return httpx.post(load_target(data_dir / "target.toml").token_url, json={
        "client_id": cpo["client_id"], "client_secret": cpo["client_secret"],
        "audience": DEFAULT_AUDIENCE, "grant_type": "client_credentials"}).json()["access_token"]


def one(backend: str, size: int, args, pg_server: str | None, two: bool) -> list[dict]:
    from opcp_reference.server import open_reference

    out = []
    work = Path(tempfile.mkdtemp(prefix=f"opcp-scale-{backend}-", dir=args.work_dir))
    data = work / "data"
    try:
        if backend == "postgresql":
            from opcp_reference.store_postgres import database_url

            location = database_url(pg_server, f"opcp_scale_{size}", fresh=True)
        else:
            location = str(data / "opcp.sqlite3")
        ref = open_reference(data, store=location)
        ccp_load.logging_off()
        started = time.perf_counter()
        real = min(args.real, size)
        bodies = ccp_load.fill(ref.store, real)
        real_s = time.perf_counter() - started
        bulk_s = bulk_fill(ref.store, size, real)
        size_bytes = ref.store.size_bytes()
        counted = ref.store.query_one("SELECT (SELECT count(*) FROM prov_certs),"
                                      " (SELECT count(*) FROM contracts)")
        ref.store.close()
        fill = {"store": backend, "vehicles": int(counted[0]), "contracts": int(counted[1]),
                "fill_real_s": round(real_s, 1), "fill_bulk_s": round(bulk_s, 1),
                "db_bytes": size_bytes, "db_gib": round(size_bytes / 2**30, 2)}
        print(json.dumps(fill), flush=True)
        out.append(fill)
        for instances in ([1, 2] if two else [1]):
            served = Served(data, location, instances)
            try:
                job = work / "job.json"
                job.write_text(json.dumps({"base_url": served.base_url,
                                           "token": _token(data),
                                           "bodies": bodies}))
                vehicle = measure(served, job, "vehicle", args.requests, args.concurrency)
                peer = measure(served, job, "peer", args.requests, args.concurrency)
            finally:
                served.close()
            row = {"store": backend, "vehicles": size, "instances": instances,
                   "front": "nginx" if instances > 1 else "none", **vehicle,
                   **{f"peer_{k}": v for k, v in peer.items()},
                   "ratio": round(vehicle["requests_per_s"] / peer["requests_per_s"], 3)}
            print(json.dumps(row), flush=True)
            out.append(row)
    finally:
        if backend == "postgresql" and not args.keep:
            import psycopg

            from opcp_reference.store_postgres import database_url

            with psycopg.connect(database_url(pg_server, "postgres"), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS opcp_scale_{size} WITH (FORCE)")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,1000000",
                        help="pool sizes in vehicles, comma-separated")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--real", type=int, default=200, help="real vehicles (the ones asked for)")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pg-url", default=None,
                        help="a PostgreSQL server to use (default: a throwaway cluster)")
    parser.add_argument("--work-dir", default=None, help="where the SQLite files go")
    parser.add_argument("--keep", action="store_true", help="keep the filled stores")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    stores = args.stores.split(",")
    cluster = None
    pg_server = args.pg_url
    if "postgresql" in stores and pg_server is None:
        from opcp_cli.sandbox import PostgresCluster

        cluster = PostgresCluster().start()
        pg_server = cluster.url()
    results = []
    try:
        for backend in stores:
            for size in sizes:
                two = backend == "postgresql" and size == max(sizes)
                results += one(backend, size, args, pg_server, two)
    finally:
        if cluster is not None:
            cluster.stop()
    summary = {}
    for backend in stores:
        rows = {r["vehicles"]: r for r in results if r["store"] == backend
                and r.get("instances") == 1}
        if len(sizes) > 1 and min(sizes) in rows and max(sizes) in rows:
            small, large = rows[min(sizes)], rows[max(sizes)]
            summary[backend] = {"p50_large_over_small": round(large["p50_ms"] / small["p50_ms"], 3),
                                "p99_large_over_small": round(large["p99_ms"] / small["p99_ms"], 3),
                                "cpu_large_over_small": round(large["server_cpu_us"]
                                                              / small["server_cpu_us"], 3)}
    pair = [r for r in results if r["store"] == "postgresql" and "instances" in r
            and r["vehicles"] == max(sizes)]
    if len(pair) == 2:
        summary["two_over_one_instances_rps"] = round(pair[1]["requests_per_s"]
                                                      / pair[0]["requests_per_s"], 3)
    print(json.dumps({"summary": summary}), flush=True)
    return 0 if all(r.get("errors", 0) == 0 and r.get("peer_errors", 0) == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
