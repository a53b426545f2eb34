"""Webhook delivery under the load of `opcp up`: ten endpoints (one per party client, as `opcp up`
subscribes them) on every event, events raised at a steady rate, the reference at `opcp up`'s
pace (an outbox poll every 0.5 s, 16 attempts in flight).

Measures, per delivery, the time from the event being raised (committed to the outbox) to its
arrival at the receiver: p50, p99, max, and the drain time (first event raised to last
delivery arrived). The same load is run three times in one process, one after the other:

- `ours`: the delivery worker as it is (a slot freed by a finished attempt is refilled at once);
- `poll_paced`: the same worker refilling slots only at the next poll (how it worked before);
- `peer`: no outbox at all, a bare aiohttp client POSTing the same bodies to the same receiver,
  16 in flight, each as soon as its event is raised: the floor set by HTTP on this machine.

Prints one JSON line: the three figures and the ratios `ours_over_peer` (drain time; 1.0 would
be no overhead over bare HTTP) and `poll_paced_over_ours`.

    .venv/bin/python bench/webhook_load.py                       # 300 events x 10 endpoints
    .venv/bin/python bench/webhook_load.py --events 600 --rate 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web  # noqa: E402

ENDPOINT_ROLES = ("OEM", "MO", "MO_V2G", "CPO", "CPS")


class Receiver:
    """Answers 200 to every POST and notes when each (hook, eventId) arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[tuple[str, str], float] = {}
        self.loop = asyncio.new_event_loop()
        self.port = 0
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        async def hook(request: web.Request) -> web.Response:
            body = await request.json()
            self.arrivals.setdefault((request.match_info["hook"], body["eventId"]), time.time())
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post("/hooks/{hook}", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def url(self, hook: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{hook}"


def _root(i: int) -> dict:
    return {"id": str(uuid.uuid4()), "subject_dn": f"CN=Bench Root {i},O=Bench,C=DE",
            "common_name": f"Bench Root {i}", "root_type": "V2G", "serial_hex": f"{i:032x}",
            "fingerprint": f"{i:064x}", "curve": "secp256r1"}


def _figures(latencies: list[float], drain: float, expected: int, got: int) -> dict:
    ordered = sorted(latencies) or [float("nan")]
    return {"deliveries": got, "expected": expected, "drain_s": round(drain, 2),
            "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
            "max_ms": round(1000 * ordered[-1], 1)}


def run_reference(events: int, rate: float, refill_at_once: bool, receiver: Receiver) -> dict:
    import httpx

    from opcp_reference.domain import events as outbox
    from opcp_reference.domain.events import DeliverySettings
    from opcp_reference.server import EmbeddedReference
    from opcp_reference.webhook_delivery import DeliveryWorker

    DeliveryWorker.refill_at_once = refill_at_once
    receiver.arrivals.clear()
    settings = DeliverySettings(poll_seconds=0.5, concurrency=16)  # opcp up's pace
    with tempfile.TemporaryDirectory(prefix="opcp-bench-webhooks-") as tmp, \
            EmbeddedReference(Path(tmp) / "data", webhooks=settings) as ref:
        clients = json.loads((Path(tmp) / "data" / "clients.json").read_text())
        hooks = []
        for client in clients:
            if client["role"] not in ENDPOINT_ROLES:
                continue
            token = httpx.post(f"{ref.base_url}/oauth/token", json={
                "client_id": client["client_id"], "client_secret": client["client_secret"],
                "audience": ref.ref.auth.audience, "grant_type": "client_credentials"}).json()["access_token"]
            got = httpx.post(f"{ref.base_url}/v1/webhook/endpoints", headers={"Authorization": f"Bearer {token}"},
                             json={"url": receiver.url(client["client_id"]), "enabledEvents": ["root.cert.added"]})
            assert got.status_code == 201, got.text
            hooks.append(client["client_id"])
        raised: dict[str, float] = {}
        started = time.time()
        for i in range(events):
            with ref.ref.store.tx() as db:
                event_id = outbox.root_event(db, "root.cert.added", _root(i))
            raised[event_id] = time.time()
            time.sleep(max(0.0, started + (i + 1) / rate - time.time()))
        expected = events * len(hooks)
        deadline = time.time() + 600
        while len(receiver.arrivals) < expected and time.time() < deadline:
            time.sleep(0.05)
        arrivals = dict(receiver.arrivals)
    latencies = [at - raised[event_id] for (_, event_id), at in arrivals.items() if event_id in raised]
    drain = (max(arrivals.values()) if arrivals else time.time()) - started
    return {**_figures(latencies, drain, expected, len(arrivals)), "endpoints": len(hooks)}


def run_peer(events: int, rate: float, endpoints: int, receiver: Receiver) -> dict:
    """Bare aiohttp: the same bodies to the same receiver, 16 in flight, no outbox."""
    receiver.arrivals.clear()
    raised: dict[str, float] = {}

    async def main() -> float:
        queue: asyncio.Queue = asyncio.Queue()
        async with ClientSession(timeout=ClientTimeout(total=10), connector=TCPConnector(limit=16)) as session:
            async def sender() -> None:
                while True:
                    url, body = await queue.get()
                    async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                        await r.read()
                    queue.task_done()

            workers = [asyncio.create_task(sender()) for _ in range(16)]
            started = time.time()
            for i in range(events):
                event_id = str(uuid.uuid4())
                body = json.dumps({"eventId": event_id, "eventType": "root.cert.added",
                                   "payload": _root(i)}).encode()
                raised[event_id] = time.time()
                for n in range(endpoints):
                    queue.put_nowait((receiver.url(f"peer-{n}"), body))
                await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.time()))
            await queue.join()
            for worker in workers:
                worker.cancel()
            return started

    started = asyncio.run(main())
    arrivals = dict(receiver.arrivals)
    latencies = [at - raised[event_id] for (_, event_id), at in arrivals.items()]
    return _figures(latencies, max(arrivals.values()) - started, events * endpoints, len(arrivals))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=30.0, help="events raised per second")
    args = parser.parse_args()
    receiver = Receiver()
    ours = run_reference(args.events, args.rate, True, receiver)
    poll_paced = run_reference(args.events, args.rate, False, receiver)
    peer = run_peer(args.events, args.rate, ours["endpoints"], receiver)
    print(json.dumps({"events": args.events, "rate_per_s": args.rate, "endpoints": ours["endpoints"],
                      "ours": ours, "poll_paced": poll_paced, "peer": peer,
                      "ours_over_peer": round(ours["drain_s"] / peer["drain_s"], 2),
                      "poll_paced_over_ours": round(poll_paced["drain_s"] / ours["drain_s"], 2),
                      "cpus": os.cpu_count(), "load": round(os.getloadavg()[0], 2)}))
    return 0 if ours["deliveries"] == ours["expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
