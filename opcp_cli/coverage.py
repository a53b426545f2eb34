"""`opcp coverage`: write docs/coverage.md from the last run's record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from opcp import coverage, paths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="write the coverage table (operations x roles x answers)")
    p.add_argument("--results", type=Path, default=paths.ALLURE_RESULTS)
    p.add_argument("--output", type=Path, default=paths.REPO / "docs" / "coverage.md")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    records = coverage.load(args.results)
    if not records:
        print(f"opcp coverage: no coverage record in {args.results}; run `opcp check` first",
              file=sys.stderr)
        return 2
    args.output.write_text(coverage.render(records))
    missing = coverage.uncovered(records)
    print(f"wrote {args.output}" + (f"; operations without a scenario: {', '.join(missing)}"
                                    if missing else ""))
    return 1 if missing else 0
