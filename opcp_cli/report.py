"""`opcp report`: render Allure results as a static HTML report."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from opcp import paths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render the Allure results to static HTML")
    p.add_argument("--results", type=Path, default=paths.ALLURE_RESULTS)
    p.add_argument("--output", type=Path, default=paths.ALLURE_REPORT)
    p.set_defaults(func=lambda a: render(a.results, a.output))


def render(results: Path, output: Path) -> int:
    allure = paths.allure_command()
    if allure is None:
        print("opcp report: the Allure command line is not installed; run `python3 run.py "
              "check` (it installs it with npm into .tools/) or set OPCP_ALLURE",
              file=sys.stderr)
        return 2
    if not results.is_dir() or not any(results.glob("*-result.json")):
        print(f"opcp report: no Allure results in {results}; run `opcp check` first",
              file=sys.stderr)
        return 2
    proc = subprocess.run([allure, "generate", str(results), "-o", str(output), "--clean"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"opcp report: allure failed:\n{proc.stdout}{proc.stderr}", file=sys.stderr)
        return proc.returncode
    print(f"HTML report: {output / 'index.html'}")
    return 0
