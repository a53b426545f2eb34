"""`opcp check`: run the conformance suite against a target and summarise the verdicts."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from opcp import paths, results, stamp


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run the conformance suite against a target")
    p.add_argument("--target", type=Path, default=None,
                   help="target file (TOML); default: an embedded reference on a free port")
    p.add_argument("--profile", choices=["strict", "lenient"], default="strict")
    p.add_argument("--reference-fault", action="append", default=[], metavar="NAME",
                   help="switch on a fault in the embedded reference (to see the suite fail)")
    p.add_argument("-k", dest="keyword", default=None, help="only scenarios matching (pytest -k)")
    p.add_argument("--tags", default=None, metavar="EXPR",
                   help="only scenarios whose tags match (pytest -m), e.g. 'ccp and not story'")
    p.add_argument("--results", type=Path, default=paths.ALLURE_RESULTS,
                   help="Allure results directory")
    p.add_argument("--junit", type=Path, default=paths.JUNIT)
    p.add_argument("--report", action="store_true",
                   help="also render the HTML report (opcp report) after the run")
    p.add_argument("--min-score", type=float, default=None, metavar="N",
                   help="CI gate: exit 0 when the overall score is at least N (0-100), else 1; "
                        "without it, any failure exits 1")
    p.add_argument("--verbose", "-v", action="store_true", help="show pytest's own output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.target is not None:
        from opcp.target import TargetError, load

        try:
            target = load(args.target)
        except TargetError as exc:
            print(f"opcp check: {exc}", file=sys.stderr)
            return 2
        header = f"target: {target.name} ({target.base_url}), services: {', '.join(target.services)}"
    else:
        header = "target: embedded reference (fresh data dir, free loopback port)"
    print(f"OPCP conformance suite {stamp.suite_version()} for {stamp.SPEC_VERSION} "
          f"({stamp.SPEC_SOURCE})\n{header}\nprofile: {args.profile}, started {stamp.now()}",
          flush=True)
    command = [sys.executable, "-m", "pytest", str(paths.FEATURES), "--rootdir", str(paths.REPO),
               "-p", "no:cacheprovider", f"--alluredir={args.results}", "--clean-alluredir",
               f"--junitxml={args.junit}", f"--profile={args.profile}"]
    command += ["-q"] if args.verbose else ["-q", "--no-header", "--tb=no"]
    if args.target is not None:
        command.append(f"--target={args.target.resolve()}")
    for fault in args.reference_fault:
        command.append(f"--reference-fault={fault}")
    if args.keyword:
        command += ["-k", args.keyword]
    if args.tags:
        command += ["-m", args.tags]
    proc = subprocess.run(command, cwd=paths.REPO, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                          stdout=None if args.verbose else subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    outcomes = results.read(args.results) if args.results.exists() else []
    if proc.returncode not in (0, 1) or not outcomes:
        # pytest itself failed (usage error, collection error, no test): show why.
        print(proc.stdout or "", file=sys.stderr)
        print(f"opcp check: the suite did not run (pytest exit {proc.returncode})",
              file=sys.stderr)
        return 2
    print(results.summary(outcomes, args.profile))
    print(f"finished {stamp.now()}")
    print(f"Allure results: {args.results}\nJUnit XML: {args.junit}")
    if args.report:
        from opcp_cli.report import render

        render(args.results, paths.ALLURE_REPORT)
    else:
        print("HTML report: opcp report")
    if args.min_score is not None:
        overall = results.scores(outcomes, args.profile)["overall"]
        passed = overall is not None and overall >= args.min_score
        print(f"score gate: overall {overall if overall is None else round(overall, 1)} "
              f"{'>=' if passed else '<'} {args.min_score}")
        return 0 if passed else 1
    return 1 if any(o.failed for o in outcomes) else 0
