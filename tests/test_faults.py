"""The suite can fail: each fault switch of the reference is caught by its feature.

This is the proof that the scenarios are not tests that pass everything. Each fault runs
the whole suite against an embedded reference that breaks one rule, and the feature the
fault names must report failures (and only through assertions, not crashes).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from opcp import coverage, results
from opcp.models import OPERATION_MODELS
from opcp.paths import REPO
from opcp.rules import RULES
from opcp_reference.faults import FAULTS


def run_suite(tmp_path: Path, *extra: str) -> tuple[int, list[results.Outcome], str]:
    out = tmp_path / "allure"
    proc = subprocess.run(
        [sys.executable, "-m", "opcp.cli", "check", "--results", str(out),
         "--junit", str(tmp_path / "junit.xml"), *extra],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    return proc.returncode, results.read(out), proc.stdout + proc.stderr


def test_the_correct_reference_passes_everything(tmp_path):
    code, outcomes, output = run_suite(tmp_path)
    assert code == 0, output
    assert outcomes and all(o.status == "passed" for o in outcomes), output
    # ... and every operation of the API model was exercised by some scenario.
    assert coverage.uncovered(coverage.load(tmp_path / "allure")) == []


def test_docs_coverage_lists_every_modelled_operation_and_rule():
    text = (REPO / "docs" / "coverage.md").read_text()
    for name in OPERATION_MODELS:
        section = text.split(f"## {name} (", 1)
        assert len(section) == 2, f"docs/coverage.md has no section for {name}: run opcp coverage"
        assert "No scenario calls it yet" not in section[1].split("## ", 1)[0], name
    for rule in RULES:
        assert f"| {rule} |" in text, f"docs/coverage.md lacks rule {rule}: run opcp coverage"


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_is_caught_by_its_feature(tmp_path, fault):
    code, outcomes, output = run_suite(tmp_path, "--reference-fault", fault)
    assert code == 1, f"the suite did not fail with fault {fault}:\n{output}"
    feature_file = FAULTS[fault].caught_by
    feature_name = _feature_name(REPO / "features" / feature_file)
    caught = [o for o in outcomes if o.status == "failed" and o.feature == feature_name]
    assert caught, f"{feature_file} did not catch {fault}:\n{output}"
    broken = [o for o in outcomes if o.status == "broken"]
    assert not broken, f"scenarios crashed instead of failing: {[o.name for o in broken]}"


def _feature_name(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.strip().startswith("Feature:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path} has no Feature line")
