"""`--wire-variant NAME` and `--wire-fault NAME`: the suite talks to its target through a proxy
that answers in one of the conformant variants, or with one of the faults, of
`opcp_cli.wire_proxy` (a pytest plugin, registered by the root conftest).

Guarantees: without either option nothing changes; with one, every request of the suite goes
through the proxy (base URL, token URL, per-service base URLs of the target file), for the
embedded reference and for a third party's target alike, and the proxy stops with the run.
When the run writes Allure results, `wire.json` beside them says how many answers the proxy
forwarded and how many the change altered (`opcp selftest` reads it: a fault that altered
nothing was not applicable to that target).
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from opcp.target import load, redirected_text
from opcp_cli.wire_proxy import FAULTS, VARIANTS, Fault, Variant, WireProxy

WIRE_COUNTS = "wire.json"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opcp")
    group.addoption("--wire-variant", default=None, metavar="NAME",
                    help=f"answer through a proxy in a conformant variant: {', '.join(VARIANTS)}")
    group.addoption("--wire-fault", default=None, metavar="NAME",
                    help=f"answer through a proxy that breaks one rule: {', '.join(FAULTS)}")


def chosen(config: pytest.Config) -> Variant | Fault | None:
    variant, fault = config.getoption("--wire-variant"), config.getoption("--wire-fault")
    if variant is not None and fault is not None:
        raise pytest.UsageError("--wire-variant and --wire-fault: one proxy at a time")
    for option, name, known in (("--wire-variant", variant, VARIANTS), ("--wire-fault", fault, FAULTS)):
        if name is not None and name not in known:
            raise pytest.UsageError(f"{option} {name}: unknown; known: {', '.join(known)}")
        if name is not None:
            return known[name]
    return None


def pytest_configure(config: pytest.Config) -> None:
    chosen(config)


@pytest.hookimpl(optionalhook=True)
def pytest_opcp_wrap_target(config: pytest.Config, target_file: Path):
    change = chosen(config)
    return None if change is None else _proxied(config, change, target_file)


@contextlib.contextmanager
def _proxied(config: pytest.Config, change: Variant | Fault, target_file: Path) -> Iterator[Path]:
    target = load(target_file)
    upstream = re.match(r"^https?://[^/]+", target.base_url).group(0)
    with WireProxy(upstream, change, verify=target.tls.httpx_verify()) as proxy, \
            tempfile.TemporaryDirectory(prefix="opcp-wire-") as directory:
        path = Path(directory) / "target.toml"
        path.write_text(redirected_text(target_file, upstream, proxy.url))
        try:
            yield path
        finally:
            results_dir = getattr(config.option, "allure_report_dir", None)
            if results_dir:
                Path(results_dir).mkdir(parents=True, exist_ok=True)
                (Path(results_dir) / WIRE_COUNTS).write_text(json.dumps(
                    {"change": change.name, "answers": proxy.answers, "changed": proxy.changed}))
