"""The code base passes the project's lint rules (pyproject.toml [tool.ruff])."""

import shutil
import subprocess
import sys

import pytest

from opcp.paths import REPO


def test_ruff_passes():
    ruff = shutil.which("ruff") or str(REPO / ".venv" / "bin" / "ruff")
    if not shutil.which(ruff):
        pytest.skip("ruff is not installed (it is in the dev extras)")
    proc = subprocess.run([ruff, "check", "--output-format", "concise", "."], cwd=REPO,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sys.version_info >= (3, 11)
