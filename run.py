#!/usr/bin/env python3
"""Set up the harness (idempotently) and run it. Needs only Python 3.11+ and pip.

    python3 run.py check [opcp check options]   # the suite against an embedded reference
    python3 run.py test  [pytest options]       # every test: unit, scenarios, proofs

Both create `.venv` (once), install the project into it when pyproject.toml changed, and
install the Allure command line (npm package, into .tools/) when npm is available.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent
VENV = REPO / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".opcp-installed"
TOOLS = REPO / ".tools"
ALLURE_PACKAGE = "allure-commandline@~2.46.0"


def say(message: str) -> None:
    print(f"[run.py] {message}", flush=True)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("run.py: Python 3.11 or newer is required")
    if not (BIN / "python").exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and (BIN / "opcp").exists():
        return
    say("installing the harness and its dependencies into .venv")
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                   check=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", ".[dev]"],
                   cwd=REPO, check=True)
    STAMP.write_text(wanted)


def ensure_allure() -> None:
    if (TOOLS / "node_modules" / ".bin" / "allure").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        say("npm not found: the HTML report (opcp report) needs the Allure command line; "
            "results and JUnit XML are still written")
        return
    say(f"installing {ALLURE_PACKAGE} into .tools/")
    TOOLS.mkdir(exist_ok=True)
    subprocess.run([npm, "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund",
                    "--loglevel=error", ALLURE_PACKAGE], check=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("check", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv()
    ensure_allure()
    if command == "check":
        return subprocess.run([str(BIN / "opcp"), "check", "--report", *rest], cwd=REPO).returncode
    return subprocess.run([str(BIN / "python"), "-m", "pytest", *rest], cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
