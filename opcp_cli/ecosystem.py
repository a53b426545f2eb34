"""`opcp up`: the reference ecosystem and the actors' webhook receivers as long-running services.

One event loop serves the reference (HTTP, or HTTPS with a local CA it makes on first use)
and one webhook receiver with a hook per party; every party's client subscribes its hook to
every event, so a developer sees each delivery the ecosystem sends. Ctrl-C (or SIGTERM)
stops everything cleanly.
"""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from opcp.client import OpcpClient
from opcp.models.webhook import EVENTS
from opcp.target import load as load_target
from opcp_reference.app import create_app
from opcp_reference.server import open_reference, write_target_file
from simulators import csms
from simulators.webhook_receiver import Receiver
from simulators.webhook_receiver import create_app as receiver_app


@dataclass
class UpSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    receiver_port: int = 8090
    tls: bool = False
    csms_port: int | None = 9000  # None: no CSMS
    csms_tls_port: int = 9443


def _tls(data_dir: Path):
    from opcp_reference.tls import make_local_tls, server_context

    directory = data_dir / "tls"
    if not (directory / "server.pem").exists():
        make_local_tls(directory)
    return server_context(directory / "server.pem", directory / "server.key"), directory / "ca.pem"


def subscribe_parties(target_file: Path, receiver: Receiver, receiver_url: str) -> list[str]:
    """Every party's client subscribes a hook of its own to every event. Endpoints of an
    earlier run that point at this receiver are replaced: their secrets were shown once."""
    target = load_target(target_file)
    client = OpcpClient(target)
    subscribed = []
    try:
        for party in target.clients:
            if party.role == "ADMIN":
                continue
            index = target.clients_of(party.role).index(party)
            url = f"{receiver_url}/hooks/{party.client_id}"
            listed = client.op("getWebhooks", role=party.role, party=index)
            for old in (listed.json() if listed.status == 200 else []):
                if isinstance(old, dict) and old.get("url") == url:
                    client.op("deleteWebhook", {"id": old["id"]}, role=party.role, party=index)
            got = client.op("addWebhook", role=party.role, party=index,
                            json={"url": url, "enabledEvents": sorted(EVENTS),
                                    "description": "opcp up receiver"})
            if got.status == 201:
                receiver.register(party.client_id, got.json()["secret"])
                subscribed.append(party.client_id)
    finally:
        client.close()
    return subscribed


async def _start_csms(settings: UpSettings, target_file: Path, base_url: str) -> csms.RunningCsms:
    """The CPO's OCPP 2.0.1 CSMS (docs/csms.md), a client of the reference like any other."""
    client = OpcpClient(load_target(target_file))
    return await csms.start_local(settings.data_dir, client, host=settings.host,
                                  port=settings.csms_port or 0, tls_port=settings.csms_tls_port,
                                  ocsp_responder=f"{base_url}/ocsp")


def announce_ready(target_file: Path, receiver_url: str, subscribed: list[str],
                   ready: asyncio.Event | None) -> asyncio.Event:
    """The last lines `opcp up` prints; the event Ctrl-C (or SIGTERM) sets."""
    print(f"target file:       {target_file}   (opcp check --target {target_file}; "
          f"opcp target check {target_file})", flush=True)
    print(f"webhook receiver:  {receiver_url}/hooks/<client_id>   (subscribed: "
          f"{', '.join(subscribed)})", flush=True)
    print("ready; Ctrl-C stops", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    return stop


async def run(settings: UpSettings, ready: asyncio.Event | None = None) -> None:
    scheme = "https" if settings.tls else "http"
    base_url = f"{scheme}://{settings.host}:{settings.port}"
    ref = open_reference(settings.data_dir, public_url=base_url)
    ssl_context, ca_path = _tls(settings.data_dir) if settings.tls else (None, None)
    target_file = write_target_file(ref, base_url)
    if ca_path is not None:
        # The loader resolves paths relative to the target file, so the CA is named that way
        # (whatever the working directory and however --data-dir was spelled).
        ca_path = ca_path.resolve()
        ca_entry = ca_path.relative_to(target_file.resolve().parent).as_posix()
        target_file.write_text(target_file.read_text().replace(
            "clients_file", f'tls = {{ ca_bundle = "{ca_entry}" }}\nclients_file', 1))
    receiver = Receiver()
    runners = [web.AppRunner(create_app(ref), access_log=None),
               web.AppRunner(receiver_app(receiver, echo=True), access_log=None)]
    for runner in runners:
        await runner.setup()
    await web.TCPSite(runners[0], settings.host, settings.port, ssl_context=ssl_context).start()
    await web.TCPSite(runners[1], settings.host, settings.receiver_port).start()
    receiver_url = f"http://{settings.host}:{settings.receiver_port}"
    subscribed = await asyncio.to_thread(subscribe_parties, target_file, receiver, receiver_url)
    clients = json.loads((settings.data_dir / "clients.json").read_text())
    print(f"OPCP reference:    {base_url}   (OpenAPI: {base_url}/openapi.json)", flush=True)
    if ca_path is not None:
        print(f"local CA:          {ca_path}   (curl --cacert {ca_path} ...)", flush=True)
    print(f"clients:           {settings.data_dir / 'clients.json'}   ({len(clients)} clients, "
          f"audience {ref.auth.audience})", flush=True)
    csms_running = None
    if settings.csms_port is not None:
        csms_running = await _start_csms(settings, target_file, base_url)
        for line in csms.connection_help(csms_running):
            print(line, flush=True)
        print(f"a station session: opcp station --data-dir {settings.data_dir}", flush=True)
    stop = announce_ready(target_file, receiver_url, subscribed, ready)
    try:
        await stop.wait()
    finally:
        if csms_running is not None:
            await csms_running.stop()
            csms_running.csms.services.client.close()
        for runner in reversed(runners):
            await runner.cleanup()
        ref.store.close()
        print("stopped", flush=True)
