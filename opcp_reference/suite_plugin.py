"""The reference as the conformance suite's embedded target: a pytest plugin.

Guarantees: the suite (`features/`) never imports the reference. When a run names no
`--target`, the suite asks for one through its `pytest_opcp_embedded_target` hook; this
plugin answers by starting a reference on a free loopback port with a fresh data dir and
handing over the target file that instance wrote, exactly as an operator hands a vendor a
target file (base URL, clients, the pace of webhook deliveries and the probe tokens no client
can obtain over the API). The reference stops and its data dir is removed when the run ends.

With OPCP_TEST_STORE set to a PostgreSQL server URL, the embedded reference keeps its state
in a fresh database on that server instead of SQLite (the same suite on both backends).

`--reference-fault NAME` (repeatable) switches on a fault of the reference, to prove that the
suite fails a server that breaks a rule; it only applies to the embedded reference.

Pool collaboration: a second, conformant reference runs beside it as its peer ecosystem (own
data dir, own PKI, own clients). The embedded reference forwards to it, and its target file
names it in `[peer]` (`target_file`, that reference's own target file), so the peer scenarios
of features/ecosystems.feature run in every embedded run. `pytest_opcp_peer_outage` takes the
peer down (a closed port) or makes it slow (a socket that never answers) for the embedded
reference while a scenario runs, which no suite can do to a third party's peer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

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


_PEERING = pytest.StashKey["Peering"]()


@dataclasses.dataclass
class Peering:
    """The embedded reference and the peer target it forwards to."""

    reference: object  # opcp_reference.server.EmbeddedReference
    peer: object  # opcp.target.Target

    @contextlib.contextmanager
    def outage(self, kind: str) -> Iterator[str]:
        """While the context lasts, the reference reaches its peer at an address that refuses
        (`down`) or accepts and never answers (`slow`); yields the peer's name."""
        if kind not in ("down", "slow"):
            raise ValueError(f"peer outage: unknown kind {kind!r} (down, slow)")
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        if kind == "slow":
            listener.listen(16)  # connections wait in the backlog: nothing ever answers
        else:
            listener.close()  # nothing listens there any more
        cut_off = dataclasses.replace(self.peer, base_url=url, token_url=url + "/oauth/token",
                                      base_urls={})
        ref = self.reference.ref
        ref.peers = (cut_off,)
        try:
            yield self.peer.name
        finally:
            ref.peers = (self.peer,)
            listener.close()


@pytest.hookimpl(optionalhook=True)
def pytest_opcp_peer_outage(config: pytest.Config, kind: str):
    peering = config.stash.get(_PEERING, None)
    return None if peering is None else peering.outage(kind)


@contextlib.contextmanager
def _embedded(config: pytest.Config, faults: list[str]) -> Iterator[Path]:
    from opcp.target import load as load_target
    from opcp_reference.domain.events import DeliverySettings, RetryPolicy
    from opcp_reference.server import EmbeddedReference

    data_dir = Path(tempfile.mkdtemp(prefix="opcp-embedded-"))
    # The spec's hour between webhook retries, and a minute between expiry checks, would
    # make those scenarios wait for hours: the embedded reference runs at test pace.
    webhooks = DeliverySettings(retry=RetryPolicy(retries=3, interval_seconds=0.1),
                                timeout_seconds=5, poll_seconds=0.02, expiry_check_seconds=0.1)
    store = None
    if os.environ.get("OPCP_TEST_STORE"):
        from opcp_reference.store_postgres import database_url

        store = database_url(os.environ["OPCP_TEST_STORE"], f"opcp_suite_{os.getpid()}", fresh=True)
    reference = EmbeddedReference(data_dir, faults=faults, webhooks=webhooks, store=store)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        reference.start()
        stack.callback(reference.stop)
        peer = EmbeddedReference(data_dir / "peer-ecosystem", webhooks=webhooks)
        peer.start()
        stack.callback(peer.stop)
        peer_file = (data_dir / "peer-ecosystem" / "target.toml").resolve()
        peer_target = load_target(peer_file)
        reference.ref.peers = (peer_target,)
        target_file = data_dir / "target.toml"
        with target_file.open("a") as fh:
            fh.write("\n[peer]  # the ecosystem this deployment forwards to (pool collaboration)\n"
                     f'target_file = "{peer_file.as_posix()}"\n')
        config.stash[_PEERING] = Peering(reference, peer_target)
        stack.callback(config.stash.__delitem__, _PEERING)
        yield target_file
