"""Bench: the whole conformance suite on the embedded reference (`opcp check`), against a peer.

The figure users meet is how long `opcp check` takes. On a shared machine an absolute time
says little, so the run is paired: this checkout's suite and a peer's (another checkout of
the project, e.g. the last release extracted with `git archive`), in turn A B A B ..., each a
whole `opcp check --quiet` in a fresh process with its own results directory. Printed: one
JSON line with each side's wall and CPU seconds (the CPU of the suite and of the references
it starts, from the OS's accounting of finished children) as min/median/max, the ratios
ours/peer pair by pair, and the number of checks each side ran (from its JUnit XML).

    .venv/bin/python bench/suite.py --rounds 3                    # this checkout alone
    git archive v1 | tar -x -C /tmp/peer
    .venv/bin/python bench/suite.py --rounds 3 --peer /tmp/peer   # paired with that tree

The peer tree runs on this checkout's venv (its own sources first on the path), so both sides
use the same interpreter and libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run_once(tree: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "opcp_cli", "check", "--quiet",
               "--results", str(out / "allure"), "--junit", str(out / "junit.xml")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    checks = failed = 0
    if (out / "junit.xml").exists():
        for suite in ET.parse(out / "junit.xml").getroot().iter("testsuite"):
            checks += int(suite.get("tests", 0))
            failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    return {"wall_s": wall, "cpu_s": cpu, "exit": proc.returncode, "checks": checks,
            "failed": failed}


def _spread(values: list[float]) -> dict:
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2),
            "max": round(max(values), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument("--peer", type=Path, default=None,
                        help="another checkout of the project to pair with (A B A B ...)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    sides = {"ours": REPO}
    if args.peer is not None:
        if not (args.peer / "opcp_cli").is_dir():
            parser.error(f"--peer: {args.peer} holds no opcp_cli package")
        sides["peer"] = args.peer.resolve()
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        for round_no in range(args.rounds):
            for name, tree in sides.items():
                runs[name].append(_run_once(tree, Path(tmp) / f"{name}-{round_no}"))
    result: dict = {"rounds": args.rounds, "load_average": os.getloadavg()}
    for name, side in runs.items():
        result[name] = {"wall_s": _spread([r["wall_s"] for r in side]),
                        "cpu_s": _spread([r["cpu_s"] for r in side]),
                        "checks": sorted({r["checks"] for r in side}),
                        "failed": sorted({r["failed"] for r in side}),
                        "exit": sorted({r["exit"] for r in side})}
    if "peer" in runs:
        result["ratio_ours_over_peer"] = {
            figure: _spread([a[figure] / b[figure] for a, b in zip(runs["ours"], runs["peer"])])
            for figure in ("wall_s", "cpu_s")}
    print(json.dumps(result))
    return 0 if all(r["exit"] == 0 for side in runs.values() for r in side) else 1


if __name__ == "__main__":
    sys.exit(main())
