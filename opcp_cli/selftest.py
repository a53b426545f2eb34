"""`opcp selftest`: prove the suite's verdicts by running it against faulty references.

Each fault switch of the reference (`opcp_reference/faults.py`) breaks one rule and names the
feature that must catch it. A variant is *killed* when the suite fails on it in that feature
(by assertions, not crashes). The correct reference must pass everything. The runs go in
parallel, one suite per fault, each against its own embedded reference.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from opcp import paths, results
from opcp_cli.arguments import positive_int


@dataclass
class VariantResult:
    fault: str | None  # None: the correct reference
    feature: str | None  # the feature meant to catch it
    killed: bool
    detail: str
    seconds: float


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("selftest", help="run the suite against every faulty variant of the reference")
    p.add_argument("--fault", action="append", default=None, metavar="NAME",
                   help="only these faults (repeatable); default: all (see --list)")
    p.add_argument("--jobs", type=positive_int, default=max(1, min(4, os.cpu_count() or 1)))
    p.add_argument("--list", action="store_true",
                   help="list the faults (the variants of the reference), the rule each breaks "
                        "and the feature that must catch it; run nothing")
    p.add_argument("--quiet", "-q", action="store_true", help="only the final verdict")
    p.add_argument("--variants", action="store_true",
                   help="also judge the conformant variants (the reference's and the wire's):"
                        " each must pass with no conformance failure")
    p.add_argument("--variant", action="append", default=None, metavar="NAME",
                   help="only these conformant variants (repeatable; implies --variants)")
    p.set_defaults(func=run)


def feature_name(feature_file: str) -> str:
    for line in (paths.FEATURES / feature_file).read_text().splitlines():
        if line.strip().startswith("Feature:"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"{feature_file} has no Feature line")


def feature_tags(feature_file: str) -> str:
    """A pytest -m expression selecting the feature's scenarios: its feature-level tags.

    A variant is judged by one feature only, so it runs only that feature (a superset when
    another feature carries the same tags): the whole suite per fault would cost N times
    the suite; the correct reference still runs everything."""
    tags: list[str] = []
    for line in (paths.FEATURES / feature_file).read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("Feature:"):
            break
        if stripped.startswith("@"):
            tags += [t.lstrip("@") for t in stripped.split()]
    if not tags:
        raise ValueError(f"{feature_file} has no feature-level tag to select it by")
    return " and ".join(tags)


def _suite_run(out: Path, extra: list[str], timeout: int) -> tuple[subprocess.CompletedProcess, list]:
    """`opcp check` with its results in `out`, and the outcomes it recorded."""
    command = [sys.executable, "-m", "opcp_cli", "check", "--quiet", "--results", str(out / "allure"),
               "--junit", str(out / "junit.xml"), *extra]
    proc = subprocess.run(command, cwd=paths.REPO, capture_output=True, text=True, timeout=timeout,
                          check=False)
    return proc, results.read(out / "allure") if (out / "allure").exists() else []


def run_variant(fault: str | None, workdir: Path) -> VariantResult:
    from opcp_reference.faults import FAULTS

    started = time.perf_counter()
    extra = ["--reference-fault", fault, "--tags", feature_tags(FAULTS[fault].caught_by)] if fault else []
    proc, outcomes = _suite_run(workdir / (fault or "correct"), extra, timeout=900)
    elapsed = time.perf_counter() - started
    if not outcomes:
        return VariantResult(fault, None, False, f"the suite did not run: {proc.stdout[-500:]}", elapsed)
    broken = [o.name for o in outcomes if o.status == "broken"]
    if fault is None:
        bad = [o.name for o in outcomes if o.status != "passed"]
        return VariantResult(None, None, not bad and proc.returncode == 0,
                             f"{len(outcomes)} checks passed" if not bad else f"not passed: {bad[:5]}",
                             elapsed)
    feature = feature_name(FAULTS[fault].caught_by)
    caught = [o for o in outcomes if o.status == "failed" and o.feature == feature]
    if broken:
        return VariantResult(fault, feature, False, f"crashed instead of failing: {broken[:3]}", elapsed)
    if not caught:
        return VariantResult(fault, feature, False, f"{feature} did not fail", elapsed)
    return VariantResult(fault, feature, True, f"{len(caught)} failed in {feature}, e.g. {caught[0].name}",
                         elapsed)


def selftest(faults: list[str] | None = None, jobs: int = 2,
             judged: Callable[[VariantResult], None] | None = None, workdir: Path | None = None
             ) -> tuple[VariantResult, list[VariantResult]]:
    """Run the correct reference and every faulty variant; `judged` hears each verdict as
    soon as it is known. The variants come back in the order asked for. Each run's results
    stay in `workdir/<fault or correct>/` when a workdir is given (else a temporary one)."""
    from opcp_reference.faults import FAULTS

    names = faults or sorted(FAULTS)
    unknown = [f for f in names if f not in FAULTS]
    if unknown:
        from opcp_cli.check import unknown_name

        raise ValueError("; ".join(unknown_name("fault", f, FAULTS) for f in unknown))
    with tempfile.TemporaryDirectory(prefix="opcp-selftest-") as tmp, ThreadPoolExecutor(jobs) as pool:
        tmp = str(workdir or tmp)
        futures = {pool.submit(run_variant, None, Path(tmp)): None}
        futures |= {pool.submit(run_variant, f, Path(tmp)): f for f in names}
        done: dict[str | None, VariantResult] = {}
        for future in as_completed(futures):
            done[futures[future]] = result = future.result()
            if judged is not None:
                judged(result)
        return done[None], [done[f] for f in names]


def conformant_names() -> list[str]:
    from opcp_cli.wire_variants import VARIANTS as WIRE
    from opcp_reference.faults import VARIANTS as REFERENCE

    return sorted(REFERENCE) + sorted(WIRE)


def run_conformant(name: str, workdir: Path) -> VariantResult:
    """One conformant variant: the reference answering another reading (its feature only), or
    the whole suite through the transforming proxy. Passed when no conformance check failed
    and nothing crashed; a compatibility finding is the other axis's business (a conformant
    form may still break a deployed client)."""
    from opcp_reference.faults import VARIANTS as REFERENCE

    started = time.perf_counter()
    extra = (["--reference-fault", name, "--tags", feature_tags(REFERENCE[name].feature)]
             if name in REFERENCE else ["--wire-variant", name])
    proc, outcomes = _suite_run(workdir / f"variant-{name}", extra, timeout=1800)
    elapsed = time.perf_counter() - started
    if not outcomes:
        return VariantResult(name, None, False, f"the suite did not run: {proc.stdout[-500:]}", elapsed)
    bad = [o.name for o in outcomes if o.status == "broken" or (o.failed and o.axis == "conformance")]
    detail = f"{len(outcomes)} checks, no conformance failure" if not bad else f"failed: {bad[:3]}"
    return VariantResult(name, "conformant", not bad, detail, elapsed)


def describe(v: VariantResult) -> str:
    if v.feature == "conformant":
        return f"  {'passed  ' if v.killed else 'FAILED  '} {v.fault:36} {v.detail} [{v.seconds:.1f} s]"
    if v.fault is None:
        return f"correct reference: {'passes' if v.killed else 'FAILS'} ({v.detail}) [{v.seconds:.1f} s]"
    return f"  {'killed  ' if v.killed else 'SURVIVED'} {v.fault:36} {v.detail} [{v.seconds:.1f} s]"


def list_faults() -> int:
    from opcp_reference.faults import FAULTS

    for name, fault in sorted(FAULTS.items()):
        print(f"{name:38} caught by {fault.caught_by:18} {fault.breaks}")
    print(f"{len(FAULTS)} faults, each a variant of the reference; the correct reference is run too")
    from opcp_cli.wire_variants import VARIANTS as WIRE
    from opcp_reference.faults import VARIANTS

    for name, variant in sorted(VARIANTS.items()):
        print(f"{name:38} reference  {variant.reading} ({variant.allowed_by})")
    for name, wire in WIRE.items():
        print(f"{name:38} wire       {wire.allows}")
    print(f"{len(VARIANTS) + len(WIRE)} conformant variants (--variants): each must pass")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list:
        return list_faults()
    if args.variant and not args.fault:
        return 0 if judge_conformant(args.variant, args.jobs, args.quiet) else 1
    from opcp_reference.faults import FAULTS

    names = args.fault or sorted(FAULTS)
    unknown = [f for f in names if f not in FAULTS]
    if unknown:
        from opcp_cli.check import unknown_name

        print("opcp selftest: --fault: " + "; ".join(unknown_name("fault", f, FAULTS) for f in unknown),
              file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"judging {len(names)} faulty variant(s) and the correct reference, {args.jobs} at a time; "
              "each verdict is shown as it comes", flush=True)
    count = [0]

    def judged(v: VariantResult) -> None:
        count[0] += 1
        if not args.quiet:
            print(f"[{count[0]}/{len(names) + 1}] {describe(v).strip()}", flush=True)

    try:
        clean, variants = selftest(args.fault, args.jobs, judged)
    except ValueError as exc:
        print(f"opcp selftest: --fault: {exc}", file=sys.stderr)
        return 2
    print(describe(clean))
    for v in variants:
        print(describe(v))
    killed = sum(v.killed for v in variants)
    print(f"killed {killed} of {len(variants)} faulty variants")
    ok = clean.killed and killed == len(variants)
    if args.variants or args.variant:
        ok = judge_conformant(args.variant or conformant_names(), args.jobs, args.quiet) and ok
    return 0 if ok else 1


def judge_conformant(names: list[str], jobs: int, quiet: bool = False) -> bool:
    known = conformant_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        from opcp_cli.check import unknown_name

        print("opcp selftest: --variant: " + "; ".join(unknown_name("variant", n, known) for n in unknown),
              file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory(prefix="opcp-variants-") as tmp, ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(run_conformant, n, Path(tmp)): n for n in names}
        done = {}
        for future in as_completed(futures):
            done[futures[future]] = v = future.result()
            if not quiet:
                print(describe(v), flush=True)
    passed = sum(v.killed for v in done.values())
    print(f"passed {passed} of {len(names)} conformant variants")
    return passed == len(names)
