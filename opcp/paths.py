"""Where the harness finds its own files (a source checkout installed in editable mode)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FEATURES = REPO / "features"
REPORTS = REPO / "reports"
ALLURE_RESULTS = REPORTS / "allure-results"
ALLURE_REPORT = REPORTS / "allure-report"
JUNIT = REPORTS / "junit.xml"
TOOLS = REPO / ".tools"
SPEC_ENV = "OPCP_SPEC_DIR"


def spec_dir() -> Path:
    """The OPCP spec (`opcp-1.0.0`, with `reference/*.json`), read at test time, never copied:
    $OPCP_SPEC_DIR, else `shared/spec/opcp-1.0.0` beside the checkout (or beside the main
    checkout of a git worktree), else /work/shared/spec/opcp-1.0.0. The first that exists;
    $OPCP_SPEC_DIR is taken as given, so a wrong value is reported rather than passed over."""
    env = os.environ.get(SPEC_ENV)
    if env:
        return Path(env)
    candidates = [REPO.parent / "shared" / "spec" / "opcp-1.0.0",
                  Path("/work/shared/spec/opcp-1.0.0")]
    return next((c for c in candidates if (c / "reference").is_dir()), candidates[0])


def spec_missing(what: str) -> str:
    """Why a test that reads the spec is skipped, and how to give it the spec."""
    return (f"the OPCP spec is not at {spec_dir()} ({what} is read from it); set {SPEC_ENV} to "
            "the opcp-1.0.0 directory of a checkout of hubject/opcp")


def allure_command() -> str | None:
    """The Allure command line: $OPCP_ALLURE, the copy run.py installs, or one on PATH."""
    candidates = [os.environ.get("OPCP_ALLURE"), str(TOOLS / "node_modules" / ".bin" / "allure"),
                  shutil.which("allure")]
    return next((c for c in candidates if c and Path(c).exists()), None)
