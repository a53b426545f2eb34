#!/usr/bin/env python3
"""Set up the harness (idempotently) and run it. Needs only Python 3.11+ and pip.

    python3 run.py check [opcp check options]   # the suite against an embedded reference
    python3 run.py test  [pytest options]       # unit tests, scenarios, interop, proofs
    python3 run.py test --slow                  # the long end-to-end proofs (CI runs both)
    python3 run.py test --all                   # everything at once

`test` runs the tests in parallel (pytest-xdist, one worker per CPU, at least 2; each test
file stays on one worker, so its module fixtures are made once) unless the options name `-n`;
skipped tests are listed with their reasons. Tests marked `slow` (whole-suite runs per fault
and per variant, the EXIficient corpus, several servers at once) are left to `--slow` unless the
options name `-m`: the default run stays a few minutes on two cores.

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
# Packages an earlier pyproject.toml installed and the harness no longer wants: removed on
# upgrade (rfc3987-syntax made every process that imports jsonschema pay 2 s of CPU).
RETIRED = ["rfc3987-syntax"]


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
    subprocess.run([str(BIN / "python"), "-m", "pip", "uninstall", "--quiet", "--yes", *RETIRED],
                   cwd=REPO, check=False, capture_output=True)
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
    return subprocess.run([str(BIN / "python"), "-m", "pytest", *test_options(rest)], cwd=REPO).returncode


def test_options(rest: list[str]) -> list[str]:
    """pytest's options for `run.py test`: parallel unless the caller chose `-n` itself; the
    slow tests only with `--slow` (alone) or `--all` (with the rest), unless `-m` is given."""
    chose = any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist")) for a in rest)
    # loadfile, not loadgroup: pytest 9 ignores the node-id suffix xdist 3.8's loadgroup relies on.
    parallel = [] if chose else ["-n", str(max(2, os.cpu_count() or 1)), "--dist", "loadfile"]
    selection = [] if "-m" in rest or "--all" in rest else ["-m", "slow" if "--slow" in rest else "not slow"]
    rest = [a for a in rest if a not in ("--slow", "--all")]
    return [*parallel, "-rs", *selection, *rest]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
