"""`--wire-variant NAME`: the suite talks to its target through a proxy that answers in one of
the conformant variants of `opcp_cli.wire_variants` (a pytest plugin, registered by the root
conftest).

Guarantees: without the option nothing changes; with it, every request of the suite goes
through the proxy (base URL, token URL, per-service base URLs of the target file), for the
embedded reference and for a third party's target alike, and the proxy stops with the run.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from opcp.target import load
from opcp_cli.wire_variants import VARIANTS, WireProxy, proxied_target_text


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("opcp").addoption(
        "--wire-variant", default=None, metavar="NAME",
        help=f"answer through a proxy in a conformant variant: {', '.join(VARIANTS)}")


def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption("--wire-variant")
    if name is not None and name not in VARIANTS:
        raise pytest.UsageError(f"--wire-variant {name}: unknown; known: {', '.join(VARIANTS)}")


@pytest.hookimpl(optionalhook=True)
def pytest_opcp_wrap_target(config: pytest.Config, target_file: Path):
    name = config.getoption("--wire-variant")
    return None if name is None else _proxied(name, target_file)


@contextlib.contextmanager
def _proxied(name: str, target_file: Path) -> Iterator[Path]:
    target = load(target_file)
    upstream = re.match(r"^https?://[^/]+", target.base_url).group(0)
    with WireProxy(upstream, VARIANTS[name], verify=target.tls.httpx_verify()) as proxy, \
            tempfile.TemporaryDirectory(prefix="opcp-wire-") as directory:
        text = proxied_target_text(target_file.read_text(), upstream, proxy.url)
        # Relative paths in the target file (clients_file, TLS files) stay where they were.
        text = re.sub(r'(clients_file|ca_bundle|client_cert|client_key) = "(?!/)([^"]+)"',
                      lambda m: f'{m.group(1)} = "{target_file.parent / m.group(2)}"', text)
        path = Path(directory) / "target.toml"
        path.write_text(text)
        yield path
