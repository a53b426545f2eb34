"""`opcp up`: the reference ecosystem and the actors' webhook receivers as long-running services.

One event loop serves the reference (HTTP, or HTTPS with a local CA it makes on first use)
and one webhook receiver with a hook per party; every party's client subscribes its hook to
every event, so a developer sees each delivery the ecosystem sends. Ctrl-C (or SIGTERM)
stops everything cleanly.

`--ecosystems N` runs N such ecosystems side by side (`run_ecosystems`), each with its own
test PKI (different V2G roots) and each the peer of every other, authenticated with the
other's own clients (pool collaboration, docs/ecosystems.md); Ctrl-C stops them all.
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
from opcp_reference.context import Reference
from opcp_reference.server import SHUTDOWN_SECONDS, open_reference, write_target_file
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
    ecosystems: int = 1  # > 1: that many peered ecosystems (run_ecosystems)


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


@dataclass
class Serving:
    """One ecosystem `opcp up` serves: its reference, target file and webhook receiver."""

    name: str
    base_url: str
    ref: Reference
    target_file: Path
    ca_path: Path | None
    receiver: Receiver
    receiver_url: str
    runners: list[web.AppRunner]
    subscribed: list[str]


def _open(settings: UpSettings, name: str, data_dir: Path, port: int, receiver_port: int
          ) -> tuple[Reference, str, Path, Path | None, str]:
    """Open one ecosystem's reference and write its target file (not serving yet)."""
    scheme = "https" if settings.tls else "http"
    base_url = f"{scheme}://{settings.host}:{port}"
    ref = open_reference(data_dir, public_url=base_url)
    target_file = write_target_file(ref, base_url)
    if name:
        # Several ecosystems: the name says which one (a peer's errors name it: docs/ecosystems.md).
        text = target_file.read_text()
        named = text.replace('name = "OPCP reference (', f'name = "Ecosystem {name}: OPCP reference (', 1)
        assert named != text, "write_target_file no longer writes the name line opcp up renames"
        target_file.write_text(named)
    ca_path = None
    if settings.tls:
        _, ca_path = _tls(data_dir)
        # The loader resolves paths relative to the target file, so the CA is named that way
        # (whatever the working directory and however --data-dir was spelled).
        ca_path = ca_path.resolve()
        ca_entry = ca_path.relative_to(target_file.resolve().parent).as_posix()
        target_file.write_text(target_file.read_text().replace(
            "clients_file", f'tls = {{ ca_bundle = "{ca_entry}" }}\nclients_file', 1))
    return ref, base_url, target_file, ca_path, f"http://{settings.host}:{receiver_port}"


async def _serve(settings: UpSettings, name: str, ref: Reference, base_url: str, target_file: Path,
                 ca_path: Path | None, receiver_url: str, port: int, receiver_port: int) -> Serving:
    """Serve one opened ecosystem and its receiver; every party subscribed to every event."""
    ssl_context = _tls(ref.data_dir)[0] if settings.tls else None
    receiver = Receiver()
    # Stopping waits for requests in flight as `opcp serve` does, not aiohttp's 60 s.
    runners = [web.AppRunner(create_app(ref), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS),
               web.AppRunner(receiver_app(receiver, echo=True), access_log=None,
                             shutdown_timeout=SHUTDOWN_SECONDS)]
    for runner in runners:
        await runner.setup()
    await web.TCPSite(runners[0], settings.host, port, ssl_context=ssl_context).start()
    await web.TCPSite(runners[1], settings.host, receiver_port).start()
    subscribed = await asyncio.to_thread(subscribe_parties, target_file, receiver, receiver_url)
    return Serving(name, base_url, ref, target_file, ca_path, receiver, receiver_url, runners,
                   subscribed)


def _print_serving(serving: Serving) -> None:
    label = f"ecosystem {serving.name} " if serving.name else ""
    clients_path = serving.ref.data_dir / "clients.json"
    clients = json.loads(clients_path.read_text())
    print(f"{label}OPCP reference:    {serving.base_url}   (OpenAPI: {serving.base_url}"
          "/openapi.json)", flush=True)
    if serving.ca_path is not None:
        print(f"{label}local CA:          {serving.ca_path}   (curl --cacert {serving.ca_path}"
              " ...)", flush=True)
    print(f"{label}clients:           {clients_path}   ({len(clients)} clients, "
          f"audience {serving.ref.auth.audience})", flush=True)


async def _stop(servings: list[Serving], csms_running: csms.RunningCsms | None) -> None:
    """Stop the CSMS (if it runs), then every ecosystem's servers, and close their stores."""
    if csms_running is not None:
        await csms_running.stop()
        csms_running.csms.services.client.close()
    for serving in reversed(servings):
        for runner in reversed(serving.runners):
            await runner.cleanup()
        serving.ref.store.close()


async def run(settings: UpSettings, ready: asyncio.Event | None = None) -> None:
    if settings.ecosystems > 1:
        await run_ecosystems(settings, ready)
        return
    ref, base_url, target_file, ca_path, receiver_url = _open(
        settings, "", settings.data_dir, settings.port, settings.receiver_port)
    servings: list[Serving] = []
    csms_running = None
    try:
        servings.append(await _serve(settings, "", ref, base_url, target_file, ca_path,
                                     receiver_url, settings.port, settings.receiver_port))
        _print_serving(servings[0])
        if settings.csms_port is not None:
            csms_running = await _start_csms(settings, target_file, base_url)
            for line in csms.connection_help(csms_running):
                print(line, flush=True)
            print(f"a station session: opcp station --data-dir {settings.data_dir}", flush=True)
        stop = announce_ready(target_file, receiver_url, servings[0].subscribed, ready)
        await stop.wait()
    finally:
        await _stop(servings, csms_running)
        if not servings:
            ref.store.close()
        print("stopped", flush=True)


def ecosystem_names(count: int) -> list[str]:
    if not 2 <= count <= 26:
        raise ValueError(f"--ecosystems: must be 1, or 2 to 26 (got {count})")
    return [chr(ord("A") + i) for i in range(count)]


async def run_ecosystems(settings: UpSettings, ready: asyncio.Event | None = None) -> None:
    """`opcp up --ecosystems N`: N ecosystems, each with its own test PKI (so different V2G
    roots), data dir DATA_DIR/<a, b, ...>, port PORT+i and receiver port RECEIVER_PORT+i; each
    lists every other as a peer by the other's own target file, so every forwarded call
    authenticates with the peer's own clients. The CPO's CSMS serves ecosystem A."""
    names = ecosystem_names(settings.ecosystems)
    opened = [(name, *_open(settings, name, settings.data_dir / name.lower(), settings.port + i,
                            settings.receiver_port + i)) for i, name in enumerate(names)]
    for name, ref, *_ in opened:
        ref.peers = tuple(load_target(other[3], follow_peer=False) for other in opened
                          if other[0] != name)
    for i, (_, _, _, target_file, *_) in enumerate(opened):
        # The suite runs its peer scenarios between this ecosystem and the next one.
        peer_file = opened[(i + 1) % len(opened)][3]
        with target_file.open("a") as fh:
            fh.write("\n[peer]  # pool collaboration: the scenarios between two targets\n"
                     f'target_file = "../{peer_file.parent.name}/{peer_file.name}"\n')
    servings: list[Serving] = []
    csms_running = None
    try:
        for i, (name, ref, base_url, target_file, ca_path, receiver_url) in enumerate(opened):
            servings.append(await _serve(settings, name, ref, base_url, target_file, ca_path,
                                         receiver_url, settings.port + i, settings.receiver_port + i))
        for serving in servings:
            _print_serving(serving)
            roots = [r for r in serving.ref.store.query(
                "SELECT common_name, fingerprint FROM root_certs WHERE root_type = 'V2G'"
                " ORDER BY common_name")]
            print(f"ecosystem {serving.name} V2G roots:  " + ", ".join(
                f"{r['common_name']} (SHA-256 {r['fingerprint'][:16]}...)" for r in roots), flush=True)
            print(f"ecosystem {serving.name} target file: {serving.target_file}   (peers: "
                  f"{', '.join(p.name for p in serving.ref.peers)})", flush=True)
            print(f"ecosystem {serving.name} webhook receiver: {serving.receiver_url}"
                  "/hooks/<client_id>", flush=True)
        first = servings[0]
        if settings.csms_port is not None:
            csms_running = await _start_csms(settings, first.target_file, first.base_url)
            for line in csms.connection_help(csms_running):
                print(f"ecosystem A {line}", flush=True)
        print(f"the story across them: opcp demo --ecosystems {len(names)}", flush=True)
        stop = announce_ready(first.target_file, first.receiver_url, first.subscribed, ready)
        await stop.wait()
    finally:
        await _stop(servings, csms_running)
        for _, ref, *_ in opened[len(servings):]:
            ref.store.close()
        print("stopped", flush=True)
