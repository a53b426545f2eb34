"""Running the reference: as a foreground server (`opcp serve`) or embedded in a thread."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import threading
import time
from pathlib import Path

from aiohttp import web

from opcp.target import load as load_target
from opcp_reference.app import create_app
from opcp_reference.context import Reference
from opcp_reference.domain import auth, demo, pki
from opcp_reference.domain.auth import AuthConfig
from opcp_reference.domain.events import DeliverySettings
from opcp_reference.domain.pki import DEFAULT_PUBLIC_URL
from opcp_reference.faults import Faults
from opcp_reference.sealing import Sealer, check_master_key
from opcp_reference.store import Store

DEFAULT_AUDIENCE = "https://opcp-reference.local"
DEFAULT_ISSUER = "urn:opcp:reference"


def open_reference(data_dir: Path | str, faults: list[str] | tuple[str, ...] = (),
                   audience: str = DEFAULT_AUDIENCE, issuer: str = DEFAULT_ISSUER,
                   webhooks: DeliverySettings | None = None,
                   public_url: str = DEFAULT_PUBLIC_URL,
                   peers: list[Path] | tuple[Path, ...] = (), strict: bool = False,
                   store: str | None = None) -> Reference:
    """Open (and on first use initialise) the reference's state in `data_dir`.

    `public_url` is baked into the OCSP URL of the reference's certificates at first start
    (later starts keep the stored one); `peers` are target files of other ecosystems.
    `store` is a `postgresql://` URL or a SQLite file (default: `default_store(data_dir)`);
    instances sharing a PostgreSQL store must share the master key (the data dir's
    master.key, OPCP_MASTER_KEY or OPCP_MASTER_KEY_FILE)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(store or default_store(data_dir), data_dir)
    # Instances started together on one empty store: one builds the ecosystem, the others
    # wait and reuse it. An instance with its own data dir finds no clients.json of its own
    # (its secrets were shown to the first instance's operator once).
    with store.exclusive("opcp-initialise"):
        if not demo.is_initialised(store) or (data_dir / "clients.json").exists():
            demo.initialise(store, data_dir, public_url)
    # Several instances may share a PostgreSQL store: the throttle of wrong secrets counts in it.
    shared = {"throttle": auth.SharedThrottle(store)} if store.dialect == "postgresql" else {}
    return Reference(store=store, auth=AuthConfig(issuer=issuer, audience=audience), **shared,
                     faults=Faults(faults), data_dir=data_dir,
                     webhooks=webhooks or DeliverySettings(),
                     peers=tuple(load_target(p) for p in peers), strict=strict)


def default_store(data_dir: Path) -> str:
    """Where a reference keeps its state when no store is named: SQLite in its data dir."""
    return str(data_dir / "opcp.sqlite3")


STORE_ENV = "OPCP_STORE"


def store_from_environment() -> str | None:
    """OPCP_STORE, the store `opcp serve` and the operator commands use when none is named."""
    return os.environ.get(STORE_ENV) or None


def open_store(location: str, data_dir: Path) -> Store:
    """The store at `location`, its secrets sealed with the master key of `data_dir` (or of
    OPCP_MASTER_KEY / OPCP_MASTER_KEY_FILE); refuses a master key the store was not sealed with."""
    store = Store(location, Sealer.for_data_dir(data_dir))
    try:
        check_master_key(store)
    except BaseException:
        store.close()
        raise
    return store


def write_target_file(ref: Reference, base_url: str) -> Path:
    """A target file for this instance, so `opcp check --target` can point at it at once."""
    path = ref.data_dir / "target.toml"
    path.write_text(
        f'# Target file for the reference served at {base_url}\n'
        f'name = "OPCP reference ({base_url})"\n'
        f'base_url = "{base_url}"\n'
        f'token_url = "{base_url}/oauth/token"\n'
        f'audience = "{ref.auth.audience}"\n'
        f'services = ["auth", "rcp", "pcp", "est", "admin", "webhook", "cps", "ccp"]\n'
        f'iso20 = true  # ISO 15118-20 contract provisioning (docs/iso20.md)\n'
        f'jwks_url = "{base_url}/.well-known/jwks.json"\n'
        f'clients_file = "clients.json"\n'
        f'\n'
        f'[base_urls]\n'
        f'# Where this instance answers OCSP; its certificates name {pki.ocsp_url(ref.store)}\n'
        f'ocsp = "{base_url}{pki.OCSP_PATH}"\n'
        f'\n[webhook]  # the pace of deliveries, so the suite knows how long to wait\n'
        f'retry_seconds = {ref.webhooks.retry.interval_seconds:g}\n'
        f'retries = {ref.webhooks.retry.retries}\n'
        f'expiry_check_seconds = {ref.webhooks.expiry_check_seconds:g}\n'
        f'poll_seconds = {ref.webhooks.poll_seconds:g}\n'
        f'\n[probes]  # tokens no client can obtain over the API, handed over by the operator\n'
        + "".join(f'{name} = "{token}"\n' for name, token in probe_tokens(ref).items())
    )
    return path


def probe_tokens(ref: Reference, subject: str = "cpo-1", role: str = "CPO") -> dict[str, str]:
    """The tokens the suite's negative scenarios send, signed with this instance's key.

    An operator hands these over with the target file, since no client can obtain them over
    the API: one expired an hour ago, one for another audience, one from another issuer and one
    not valid for a month yet. Minted anew at every start; the valid ones last a month."""
    now = int(time.time())
    month = 30 * 24 * 3600
    base = {"iss": ref.auth.issuer, "sub": subject, "role": role, "aud": ref.auth.audience,
            "iat": now, "nbf": now, "exp": now + month}
    return {
        "expired_token": auth.mint(ref.store, {**base, "iat": now - 7200, "nbf": now - 7200,
                                               "exp": now - 3600}),
        "wrong_audience_token": auth.mint(ref.store, {**base, "aud": "https://somewhere-else.example"}),
        "wrong_issuer_token": auth.mint(ref.store, {**base, "iss": "https://another-issuer.example"}),
        "not_yet_valid_token": auth.mint(ref.store, {**base, "nbf": now + month, "exp": now + 2 * month}),
    }


# How long a stopping server lets requests in flight finish (aiohttp waits 60 s by default):
# every OPCP operation answers in well under a second, and a front such as nginx retries a
# request whose instance went away on another instance.
SHUTDOWN_SECONDS = 5.0


def serve(data_dir: Path, host: str, port: int, faults: list[str], audience: str,
          public_url: str | None = None, peers: list[Path] | tuple[Path, ...] = (),
          ssl_context: ssl.SSLContext | None = None,
          webhooks: DeliverySettings | None = None, strict: bool = False,
          store: str | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheme = "https" if ssl_context else "http"
    ref = open_reference(data_dir, faults, audience=audience, webhooks=webhooks,
                         public_url=public_url or f"{scheme}://{host}:{port}", peers=peers,
                         strict=strict, store=store)
    base_url = f"{scheme}://{host}:{port}"
    target = write_target_file(ref, base_url)
    print(f"OPCP reference on {base_url}  store: {ref.store.location}  data: {data_dir}  clients: "
          f"{data_dir / 'clients.json'}  target file: {target}", flush=True)
    if strict:
        print("STRICT: client habits are refused (docs/clients.md)", flush=True)
    if faults:
        print(f"FAULT SWITCHES ON: {', '.join(faults)}", flush=True)
    web.run_app(create_app(ref), host=host, port=port, print=None, access_log=None,
                ssl_context=ssl_context, shutdown_timeout=SHUTDOWN_SECONDS)


async def serve_on_free_port(ref: Reference, host: str = "127.0.0.1") -> tuple[web.AppRunner, int]:
    """The reference's app served on a port of `host` the OS picks: the runner (whose
    `cleanup()` stops it within SHUTDOWN_SECONDS) and that port. Its target file is the
    caller's to write, once it knows the URL it is reached by."""
    runner = web.AppRunner(create_app(ref), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, site._server.sockets[0].getsockname()[1]  # the port the OS picked


class EmbeddedReference:
    """The reference on a free loopback port, served from a background thread."""

    def __init__(self, data_dir: Path, faults: list[str] | tuple[str, ...] = (),
                 host: str = "127.0.0.1", webhooks: DeliverySettings | None = None,
                 peers: list[Path] | tuple[Path, ...] = (), strict: bool = False,
                 store: str | None = None):
        self.ref = open_reference(data_dir, faults, webhooks=webhooks, peers=peers,
                                  strict=strict, store=store)
        self.host = host
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="opcp-reference")

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmbeddedReference:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        write_target_file(self.ref, self.base_url)
        return self

    async def _start(self) -> None:
        self._runner, self.port = await serve_on_free_port(self.ref, self.host)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self.ref.store.close()

    def __enter__(self) -> EmbeddedReference:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
