"""The iso15118==0.31.2 oracle venv, kept under .tools/ (git-ignored) between runs.

It pins pydantic 1 and an old cryptography, so it never goes into the project venv.
With CI=true the venv must be set up (a failure fails the test); elsewhere a missing
venv is created when OPCP_ORACLE=1, and the test is skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".tools" / "iso15118-venv"
PIN = "iso15118==0.31.2"


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready() -> bool:
    if not _python().exists():
        return False
    probe = subprocess.run([str(_python()), "-c", "import iso15118.shared.security"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def _create() -> None:
    VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(_python()), "-m", "pip", "install", "-q", PIN], check=True,
                   timeout=900)


@pytest.fixture(scope="session")
def iso15118_python() -> Path:
    required = os.environ.get("CI") == "true"
    if not _ready():
        if required or os.environ.get("OPCP_ORACLE") == "1":
            try:
                _create()
            except (subprocess.SubprocessError, OSError) as exc:
                pytest.fail(f"could not set up the {PIN} oracle venv at {VENV}: {exc}")
            if not _ready():
                pytest.fail(f"{PIN} venv at {VENV} does not import iso15118.shared.security")
        else:
            pytest.skip(f"{PIN} oracle venv missing at {VENV}; run with OPCP_ORACLE=1 (or CI=true)"
                        " to create it")
    return _python()
