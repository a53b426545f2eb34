"""`opcp target check FILE`: validate a target file and run the preflight alone.

Exit 0 when the file is valid and the target passes the preflight (every URL answers, every
client gets a token, JSON where JSON is due); 2 otherwise, with one message naming the URL,
the role and the cause.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("target", help="target files: validate one and run the preflight")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate FILE and run the preflight against it")
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    from opcp import preflight
    from opcp.target import TargetError, load

    try:
        target = load(args.file)
    except TargetError as exc:
        print(f"opcp target check: {exc}", file=sys.stderr)
        return 2
    print(f"target: {target.name} ({target.base_url}), services: {', '.join(target.services)}, "
          f"{len(target.clients)} client(s)", flush=True)
    report = preflight.run(target)
    for check in report.checks:
        print(f"  {check.line()}")
    print(report.message(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 2
