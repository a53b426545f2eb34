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


def allure_command() -> str | None:
    """The Allure command line: $OPCP_ALLURE, the copy run.py installs, or one on PATH."""
    candidates = [os.environ.get("OPCP_ALLURE"), str(TOOLS / "node_modules" / ".bin" / "allure"),
                  shutil.which("allure")]
    return next((c for c in candidates if c and Path(c).exists()), None)
