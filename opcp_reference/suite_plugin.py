"""The reference as the conformance suite's embedded target: a pytest plugin.

Guarantees: the suite (`features/`) never imports the reference. When a run names no
`--target`, the suite asks for one through its `pytest_opcp_embedded_target` hook; this
plugin answers by starting a reference in a process of its own
(`opcp_reference.embedded_process`) on a free loopback port with a fresh data dir and
handing over the target file that instance wrote, exactly as an operator hands a vendor a
target file (base URL, clients, the pace of webhook deliveries and the probe tokens no client
can obtain over the API). The reference stops and its data dir is removed when the run ends.
Nothing of the reference runs in the suite's interpreter: the two use two cores.

With OPCP_TEST_STORE set to a PostgreSQL server URL, the embedded reference keeps its state
in a fresh database on that server instead of SQLite (the same suite on both backends).

`--reference-fault NAME` (repeatable) switches on a fault of the reference, to prove that the
suite fails a server that breaks a rule; it only applies to the embedded reference.

Pool collaboration: a second, conformant reference runs beside it as its peer ecosystem (own
data dir, own PKI, own clients). The embedded reference forwards to it, and its target file
names it in `[peer]` (`target_file`, that reference's own target file), so the peer scenarios
of features/ecosystems.feature run in every embedded run. The reference reaches its peer
through a TCP link this plugin holds (`PeerLink`); `pytest_opcp_peer_outage` takes the peer
down (connections reset) or makes it slow (connections never answered) on that link while a
scenario runs, which no suite can do to a third party's peer. At test pace the reference
counts a peer silent for `PEER_READ_SECONDS` as slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("opcp").addoption(
        "--reference-fault", action="append", default=[], metavar="NAME",
        help="switch on a fault in the embedded reference (proves the suite fails)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--reference-fault") and config.getoption("--target", default=None):
        raise pytest.UsageError("--reference-fault only applies to the embedded reference")


@pytest.hookimpl(optionalhook=True)
def pytest_opcp_embedded_target(config: pytest.Config):
    return _embedded(config, config.getoption("--reference-fault"))


_PEERING = pytest.StashKey["PeerLink"]()

# The embedded reference runs at test pace: a peer silent this long is slow (504), instead of
# the 5 s a deployment waits (opcp_reference.domain.peers.PEER_READ_SECONDS).
PEER_READ_SECONDS = 1.0


class PeerLink:
    """The network between the embedded reference and its peer, held by the suite's process.

    A TCP link on a loopback port of its own: while `up`, bytes pass both ways unchanged; while
    `down`, each connection is reset as soon as it is made (a peer gone); while `slow`, each is
    accepted and never answered (a peer that hangs), until the outage ends. The reference
    reaches its peer only through it, so an outage is the network's doing, not the reference's.
    """

    def __init__(self, upstream: str, name: str):
        self.name = name  # the peer's, as the reference names it in its answers
        url = urlsplit(upstream)
        self._upstream = (url.hostname, url.port)
        self.mode = "up"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="opcp-peer-link")
        self._server: asyncio.Server | None = None
        self._held: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PeerLink:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            self._release()
            if self._server is not None:
                self._server.close()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @contextlib.contextmanager
    def outage(self, kind: str) -> Iterator[str]:
        """While the context lasts, the peer is `down` or `slow`; yields the peer's name."""
        if kind not in ("down", "slow"):
            raise ValueError(f"peer outage: unknown kind {kind!r} (down, slow)")
        self.mode = kind
        try:
            yield self.name
        finally:
            self.mode = "up"
            self._loop.call_soon_threadsafe(self._release)

    def _release(self) -> None:
        for writer in self._held:
            writer.close()
        self._held.clear()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "down":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST: the connection is refused after the fact
            return
        if self.mode == "slow":
            self._held.add(writer)  # read nothing, answer nothing, until the outage ends
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@pytest.hookimpl(optionalhook=True)
def pytest_opcp_peer_outage(config: pytest.Config, kind: str):
    link = config.stash.get(_PEERING, None)
    return None if link is None else link.outage(kind)


@contextlib.contextmanager
def _embedded(config: pytest.Config, faults: list[str]) -> Iterator[Path]:
    from opcp.target import load as load_target
    from opcp.target import redirected_text
    from opcp_reference.domain.events import DeliverySettings, RetryPolicy
    from opcp_reference.embedded_process import ReferenceProcess

    data_dir = Path(tempfile.mkdtemp(prefix="opcp-embedded-"))
    # The spec's hour between webhook retries, and a minute between expiry checks, would
    # make those scenarios wait for hours: the embedded reference runs at test pace.
    webhooks = DeliverySettings(retry=RetryPolicy(retries=3, interval_seconds=0.1),
                                timeout_seconds=5, poll_seconds=0.02, expiry_check_seconds=0.1)
    store = None
    if os.environ.get("OPCP_TEST_STORE"):
        from opcp_reference.store_postgres import database_url

        store = database_url(os.environ["OPCP_TEST_STORE"], f"opcp_suite_{os.getpid()}", fresh=True)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        # Each reference in a process of its own: the suite, the reference and its peer do not
        # share one interpreter (and its one core at a time). Both load their code at once.
        linked_peer = data_dir / "peer-through-link.toml"
        peer = ReferenceProcess(data_dir / "peer-ecosystem", webhooks=webhooks)
        reference = ReferenceProcess(data_dir, faults=faults, webhooks=webhooks,
                                     peers=[linked_peer], store=store,
                                     peer_read_seconds=PEER_READ_SECONDS)
        for process in (peer, reference):
            stack.callback(process.stop)
            process.launch()
        peer.start()
        link = PeerLink(peer.base_url, load_target(peer.target_file).name).start()
        stack.callback(link.stop)
        # The reference knows its peer by a target file that leads through the link.
        linked_peer.write_text(redirected_text(peer.target_file, peer.base_url, link.url))
        reference.start()
        peer_file = peer.target_file.resolve()
        target_file = data_dir / "target.toml"
        with target_file.open("a") as fh:
            fh.write("\n[peer]  # the ecosystem this deployment forwards to (pool collaboration)\n"
                     f'target_file = "{peer_file.as_posix()}"\n')
        config.stash[_PEERING] = link
        stack.callback(config.stash.__delitem__, _PEERING)
        yield target_file
