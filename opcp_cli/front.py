"""`opcp up --instances N --store postgresql://...`: N reference instances on one store behind nginx.

Guarantees: every instance is an `opcp serve` process of its own (port, log file
DATA_DIR/instance-K.log) on the same PostgreSQL store and data dir (master key, clients.json);
nginx (Debian's package) balances over them on the port `opcp up` would use alone, so the
target file, the OCSP URL baked into the certificates and the actors' receivers name the
front, never an instance. Ctrl-C (or SIGTERM) stops nginx, then the instances. An instance
that dies is reported and the rest keep serving (nginx routes around it).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from aiohttp import web

from opcp_cli.ecosystem import UpSettings, announce_ready, subscribe_parties
from opcp_cli.sandbox import NginxFront, free_port
from simulators.webhook_receiver import Receiver
from simulators.webhook_receiver import create_app as receiver_app


def start_instance(data_dir: Path, port: int, store: str, public_url: str, index: int,
                   extra: tuple[str, ...] = ()) -> subprocess.Popen:
    log = (data_dir / f"instance-{index}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "opcp_cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data_dir), "--store", store, "--public-url", public_url, *extra],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"opcp up: instance {index} exited; see {log.name}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"opcp up: instance {index} did not answer within 60 s; see {log.name}")


def stop_instances(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


async def run(settings: UpSettings, instances: int, store: str,
              ready: asyncio.Event | None = None) -> None:
    from opcp_reference.server import open_reference, write_target_file

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    front_url = f"http://{settings.host}:{settings.port}"
    procs: list[subprocess.Popen] = []
    front = None
    runner = None
    try:
        ports = [free_port() for _ in range(instances)]
        # The first builds the ecosystem; the others find it built.
        for index, port in enumerate(ports, 1):
            procs.append(await asyncio.to_thread(start_instance, settings.data_dir, port, store,
                                                 front_url, index))
        front = NginxFront([f"127.0.0.1:{p}" for p in ports], settings.host, settings.port,
                           settings.data_dir / "nginx").start()
        ref = open_reference(settings.data_dir, public_url=front_url, store=store)
        try:
            target_file = write_target_file(ref, front_url)
        finally:
            ref.store.close()
        receiver = Receiver()
        runner = web.AppRunner(receiver_app(receiver, echo=True), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.receiver_port).start()
        receiver_url = f"http://{settings.host}:{settings.receiver_port}"
        subscribed = await asyncio.to_thread(subscribe_parties, target_file, receiver, receiver_url)
        clients = json.loads((settings.data_dir / "clients.json").read_text())
        print(f"OPCP reference:    {front_url}   (nginx over {instances} instances: "
              f"{', '.join(f'127.0.0.1:{p}' for p in ports)}; store {ref.store.location})", flush=True)
        print(f"clients:           {settings.data_dir / 'clients.json'}   ({len(clients)} clients)",
              flush=True)
        stop = announce_ready(target_file, receiver_url, subscribed, ready)
        reported: set[int] = set()
        while not stop.is_set():
            for index, proc in enumerate(procs, 1):
                if proc.poll() is not None and index not in reported:
                    reported.add(index)
                    print(f"instance {index} exited ({proc.returncode}); the others keep serving",
                          flush=True)
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                pass
    finally:
        if runner is not None:
            await runner.cleanup()
        if front is not None:
            front.stop()
        stop_instances(procs)
        print("stopped", flush=True)
