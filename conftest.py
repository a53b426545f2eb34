"""pytest wiring of the conformance suite (`features/`) and the unit tests (`tests/`).

The suite runs against a *target*: by default an embedded reference started in a process of
its own on a free loopback port with a fresh data dir; with `--target FILE`, any OPCP deployment.
Steps talk HTTP to the target only.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "features.support.runner",
    "opcp_reference.suite_plugin",  # the embedded target when no --target is given
    "opcp_cli.wire_plugin",  # --wire-variant: a conformant variant played by a proxy
    "features.support.setup",  # shared fixtures, setup and the steps several features speak
    "features.support.revocation",  # the CCP's and PCP's revocation steps
    "features.steps.http_steps",
    "features.steps.auth_steps",
    "features.steps.rcp_steps",
    "features.steps.pcp_steps",
    "features.steps.est_steps",
    "features.steps.clients_steps",
    "features.steps.cps_steps",
    "features.steps.ccp_steps",
    "features.steps.webhook_steps",
    "features.steps.isolation_steps",
    "features.steps.story_steps",
    "features.steps.ctl_steps",
    "features.steps.ecosystems_steps",
    "features.steps.iso20_steps",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opcp", "OPCP conformance suite")
    group.addoption("--target", default=None, metavar="FILE",
                    help="target file (TOML); default: an embedded reference")
    group.addoption("--profile", choices=["strict", "lenient"], default="strict",
                    help="how spec errata are judged (see docs/errata.md)")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Say what the default selection of `run.py test` left out, and how to run it."""
    if (config.option.markexpr or "").strip() == "not slow":
        # Under xdist the workers deselect, so the count is not known here: say it without one.
        terminalreporter.write_line(
            "the slow end-to-end proofs (marker 'slow': a suite run per fault and variant, the"
            " EXIficient corpus, the fuzzer, Chromium) were left out: `python3 run.py test --slow`"
            " runs them; CI runs both")
