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
"""

from __future__ import annotations

import contextlib
import os
import shutil
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
    return _embedded(config.getoption("--reference-fault"))


@contextlib.contextmanager
def _embedded(faults: list[str]) -> Iterator[Path]:
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
    reference.start()
    try:
        yield data_dir / "target.toml"
    finally:
        reference.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
