"""A pytest plugin that tells `opcp check` what the suite is doing, as it happens.

Loaded with `-p opcp_cli.suite_events` when `OPCP_SUITE_EVENTS` names a file; writes one JSON
object per line to it, flushed at once, so the parent can follow the run:

- `{"event": "collected", "items": [{"id", "feature", "file", "scenario", "tags", "rule"}]}`
  once, after collection (also under `--collect-only`, which is how `opcp check --list` works);
- `{"event": "result", "id", "feature", "outcome", "reason"}` per scenario when it is finished,
  outcome being passed, failed, not applicable, warning or skipped (reason: a skip's reason).

Without the variable the plugin does nothing.
"""

from __future__ import annotations

import json
import os

import pytest

ENV = "OPCP_SUITE_EVENTS"
NOT_APPLICABLE = "not applicable"


def _template(item: pytest.Item):
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    return scenario_wrapper_template_registry.get(getattr(item, "obj", None))


def describe(item: pytest.Item) -> dict:
    template = _template(item)
    if template is None:
        return {"id": item.nodeid, "feature": "-", "file": "-", "scenario": item.name, "tags": [],
                "rule": None}
    tags = set(template.tags) | set(template.feature.tags)
    if template.rule is not None:
        tags |= set(template.rule.tags)
    example = getattr(item, "callspec", None)
    params = example.params.get("_pytest_bdd_example", {}) if example else {}
    rules = sorted(t.removeprefix("rule:") for t in tags if t.startswith("rule:"))
    name = template.name
    for key, value in params.items():
        name = name.replace(f"<{key}>", str(value))
    return {"id": item.nodeid, "feature": template.feature.name,
            "file": os.path.basename(template.feature.filename), "scenario": name,
            "tags": sorted(t for t in tags if not t.startswith("rule:")),
            "rule": rules[0] if rules else None}


class SuiteEvents:
    def __init__(self, path: str):
        self._out = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the session
        self._features: dict[str, str] = {}
        self._outcome: dict[str, tuple[str, str]] = {}

    def emit(self, **event) -> None:
        self._out.write(json.dumps(event) + "\n")
        self._out.flush()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        items = [describe(item) for item in session.items]
        self._features = {i["id"]: i["feature"] for i in items}
        self.emit(event="collected", items=items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome, reason = self._outcome.get(report.nodeid, ("passed", ""))
        if report.failed:
            outcome, reason = "failed", ""
        elif report.skipped and outcome != "failed":
            reason = _skip_reason(report)
            if hasattr(report, "wasxfail"):
                outcome, reason = "warning", str(report.wasxfail)
            elif reason.startswith(NOT_APPLICABLE):
                outcome = NOT_APPLICABLE
            else:
                outcome = "skipped"
        self._outcome[report.nodeid] = (outcome, reason)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        outcome, reason = self._outcome.pop(nodeid, ("passed", ""))
        self.emit(event="result", id=nodeid, feature=self._features.get(nodeid, "-"),
                  outcome=outcome, reason=reason)

    def pytest_unconfigure(self) -> None:
        self._out.close()


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(getattr(report, "wasxfail", "") or "")


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get(ENV)
    if path:
        config.pluginmanager.register(SuiteEvents(path), "opcp-suite-events")
