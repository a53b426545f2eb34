"""`opcp selftest`: prove the suite's verdicts, both ways.

Faults: each fault switch of the reference (`opcp_reference/faults.py`) and each wire fault of
the proxy (`opcp_cli/wire_proxy.py`) breaks one rule and names the feature that must catch it.
A faulty variant is *killed* when the suite fails on it in that feature (by assertions, not
crashes). The correct reference must pass everything. Conformant variants (`--variants`) must
pass with no conformance failure. The runs go in parallel, one suite per variant.

In front of a third party's deployment (`--target FILE`) only the wire faults and variants
apply: the suite first runs against the target unchanged, and what fails there is the
target's own business, charged to no variant; a wire fault that found nothing to change on the
target (e.g. no trust list published) is not applicable there rather than survived.
"""

from __future__ import annotations

import argparse
import json
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
    fault: str | None  # None: the correct reference (or, with --target, the target itself)
    feature: str | None  # the feature meant to catch it; "conformant" for a conformant variant
    killed: bool  # a fault: caught; a conformant variant: passed; the baseline: ran clean
    detail: str
    seconds: float
    applicable: bool = True  # False: a wire fault that found nothing to change on the target
    baseline: Baseline | None = None  # on the baseline's own result: what it failed


@dataclass(frozen=True)
class Baseline:
    """What the suite said about the unchanged deployment: the checks failing there are not
    charged to a fault or a variant run in front of it (a third party's target may fail some)."""
    failed: frozenset[tuple]
    target: Path | None = None
    tags: str | None = None  # the scenarios the baseline and the conformant variants run


def _key(o: results.Outcome) -> tuple:
    return o.feature, o.name, tuple(sorted(o.parameters.items()))


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
    p.add_argument("--target", type=Path, default=None,
                   help="prove the suite in front of this deployment (target file) instead of the"
                        " embedded reference: the wire faults and variants only, each judged"
                        " against what the suite says of the target unchanged")
    p.add_argument("--tags", default=None, metavar="EXPR",
                   help="run only these scenarios (pytest -m, as `opcp check --tags`) for the"
                        " baseline and the wire variants; each fault still runs its own feature")
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


def fault_catalogue() -> dict[str, str]:
    """Every fault by name, with the feature file that must catch it: the reference's switches
    and the proxy's wire faults."""
    from opcp_cli.wire_proxy import FAULTS as WIRE
    from opcp_reference.faults import FAULTS

    return {**{n: f.caught_by for n, f in FAULTS.items()}, **{n: f.caught_by for n, f in WIRE.items()}}


def _wire_altered(out: Path) -> int | None:
    counts = out / "allure" / "wire.json"
    return json.loads(counts.read_text())["changed"] if counts.exists() else None


def run_baseline(workdir: Path, target: Path | None, tags: str | None = None) -> VariantResult:
    """The whole suite against the correct reference (which must pass everything) or the target
    (whose failures are its own business here: they become the baseline)."""
    started = time.perf_counter()
    extra = (["--target", str(target)] if target else []) + (["--tags", tags] if tags else [])
    proc, outcomes = _suite_run(workdir / "correct", extra, timeout=900)
    elapsed = time.perf_counter() - started
    failed = frozenset(_key(o) for o in outcomes if o.failed)
    baseline = Baseline(failed, target, tags)
    if not outcomes:
        return VariantResult(None, None, False, f"the suite did not run: {proc.stdout[-500:]}", elapsed,
                             baseline=baseline)
    if target is not None:
        return VariantResult(None, None, True, f"{len(outcomes)} checks, {len(failed)} failing on the"
                             " target itself (not charged to any variant)", elapsed, baseline=baseline)
    bad = [o.name for o in outcomes if o.status != "passed"]
    return VariantResult(None, None, not bad and proc.returncode == 0,
                         f"{len(outcomes)} checks passed" if not bad else f"not passed: {bad[:5]}",
                         elapsed, baseline=baseline)


def run_variant(fault: str, workdir: Path, baseline: Baseline | None = None) -> VariantResult:
    """One fault, judged by the feature it names only: killed when that feature fails (by
    assertions, not crashes) where the unchanged deployment did not."""
    from opcp_cli.wire_proxy import FAULTS as WIRE

    baseline = baseline or Baseline(frozenset())
    caught_by = fault_catalogue()[fault]
    started = time.perf_counter()
    extra = ["--tags", feature_tags(caught_by)]
    extra += ["--wire-fault", fault] if fault in WIRE else ["--reference-fault", fault]
    if baseline.target is not None:
        extra += ["--target", str(baseline.target)]
    out = workdir / fault
    proc, outcomes = _suite_run(out, extra, timeout=900)
    elapsed = time.perf_counter() - started
    if not outcomes:
        return VariantResult(fault, None, False, f"the suite did not run: {proc.stdout[-500:]}", elapsed)
    feature = feature_name(caught_by)
    new = [o for o in outcomes if o.failed and _key(o) not in baseline.failed]
    broken = [o.name for o in new if o.status == "broken"]
    caught = [o for o in new if o.status == "failed" and o.feature == feature]
    if fault in WIRE and _wire_altered(out) == 0:
        return VariantResult(fault, feature, False, "not applicable: no answer of the target had"
                             " anything this fault changes", elapsed, applicable=False)
    if broken:
        return VariantResult(fault, feature, False, f"crashed instead of failing: {broken[:3]}", elapsed)
    if not caught:
        return VariantResult(fault, feature, False, f"{feature} did not fail", elapsed)
    return VariantResult(fault, feature, True, f"{len(caught)} failed in {feature}, e.g. {caught[0].name}",
                         elapsed)


def selftest(faults: list[str] | None = None, jobs: int = 2,
             judged: Callable[[VariantResult], None] | None = None, workdir: Path | None = None,
             target: Path | None = None, tags: str | None = None
             ) -> tuple[VariantResult, list[VariantResult]]:
    """Run the correct reference (or the target) and every faulty variant; `judged` hears each
    verdict as soon as it is known. The variants come back in the order asked for. Each run's
    results stay in `workdir/<fault or correct>/` when a workdir is given (else a temporary
    one). In front of a target only the wire faults apply, after the target's own run."""
    from opcp_cli.wire_proxy import FAULTS as WIRE

    catalogue = fault_catalogue()
    names = faults or sorted(WIRE if target is not None else catalogue)
    unknown = [f for f in names if f not in catalogue]
    if unknown:
        from opcp_cli.check import unknown_name

        raise ValueError("; ".join(unknown_name("fault", f, catalogue) for f in unknown))
    if target is not None and any(f not in WIRE for f in names):
        raise ValueError("with --target only the wire faults apply (the reference's switches need"
                         f" the embedded reference): {', '.join(f for f in names if f not in WIRE)}")
    with tempfile.TemporaryDirectory(prefix="opcp-selftest-") as tmp, ThreadPoolExecutor(jobs) as pool:
        tmp_path = Path(workdir or tmp)
        done: dict[str | None, VariantResult] = {}

        def hear(name: str | None, result: VariantResult) -> None:
            done[name] = result
            if judged is not None:
                judged(result)

        if target is not None:  # the faults are judged against the target's own run
            hear(None, run_baseline(tmp_path, target, tags))
            futures = {pool.submit(run_variant, f, tmp_path, done[None].baseline): f for f in names}
        else:
            futures = {pool.submit(run_baseline, tmp_path, None, tags): None}
            futures |= {pool.submit(run_variant, f, tmp_path): f for f in names}
        for future in as_completed(futures):
            hear(futures[future], future.result())
        return done[None], [done[f] for f in names]


def conformant_names(target: Path | None = None) -> list[str]:
    from opcp_cli.wire_proxy import VARIANTS as WIRE
    from opcp_reference.faults import VARIANTS as REFERENCE

    return (sorted(REFERENCE) if target is None else []) + sorted(WIRE)


def run_conformant(name: str, workdir: Path, baseline: Baseline | None = None) -> VariantResult:
    """One conformant variant: the reference answering another reading (its feature only), or
    the whole suite through the transforming proxy. Passed when no conformance check failed
    (that did not fail on the unchanged target) and nothing crashed; a compatibility finding is
    the other axis's business (a conformant form may still break a deployed client)."""
    from opcp_reference.faults import VARIANTS as REFERENCE

    baseline = baseline or Baseline(frozenset())
    started = time.perf_counter()
    extra = (["--reference-fault", name, "--tags", feature_tags(REFERENCE[name].feature)]
             if name in REFERENCE else ["--wire-variant", name]
             + (["--tags", baseline.tags] if baseline.tags else []))
    if baseline.target is not None:
        extra += ["--target", str(baseline.target)]
    proc, outcomes = _suite_run(workdir / f"variant-{name}", extra, timeout=1800)
    elapsed = time.perf_counter() - started
    if not outcomes:
        return VariantResult(name, None, False, f"the suite did not run: {proc.stdout[-500:]}", elapsed)
    bad = [o.name for o in outcomes if _key(o) not in baseline.failed
           and (o.status == "broken" or (o.failed and o.axis == "conformance"))]
    detail = f"{len(outcomes)} checks, no conformance failure" if not bad else f"failed: {bad[:3]}"
    return VariantResult(name, "conformant", not bad, detail, elapsed)


def describe(v: VariantResult) -> str:
    if v.feature == "conformant":
        return f"  {'passed  ' if v.killed else 'FAILED  '} {v.fault:36} {v.detail} [{v.seconds:.1f} s]"
    if v.fault is None:
        if v.baseline is not None and v.baseline.target is not None:
            return f"the target unchanged: {'ran' if v.killed else 'DID NOT RUN'} ({v.detail}) [{v.seconds:.1f} s]"
        return f"correct reference: {'passes' if v.killed else 'FAILS'} ({v.detail}) [{v.seconds:.1f} s]"
    verdict = "killed  " if v.killed else "n/a     " if not v.applicable else "SURVIVED"
    return f"  {verdict} {v.fault:36} {v.detail} [{v.seconds:.1f} s]"


def list_faults() -> int:
    from opcp_cli.wire_proxy import FAULTS as WIRE_FAULTS
    from opcp_cli.wire_proxy import VARIANTS as WIRE
    from opcp_reference.faults import FAULTS, VARIANTS

    for name, fault in sorted(FAULTS.items()):
        print(f"{name:38} caught by {fault.caught_by:18} {fault.breaks}")
    for name, wire_fault in sorted(WIRE_FAULTS.items()):
        print(f"{name:38} caught by {wire_fault.caught_by:18} on the wire: {wire_fault.breaks}")
    print(f"{len(FAULTS) + len(WIRE_FAULTS)} faults ({len(FAULTS)} of the reference, {len(WIRE_FAULTS)} on the"
          " wire, which also apply in front of any --target); the correct reference is run too")
    for name, variant in sorted(VARIANTS.items()):
        print(f"{name:38} reference  {variant.reading} ({variant.allowed_by})")
    for name, wire in WIRE.items():
        print(f"{name:38} wire       {wire.allows}")
    print(f"{len(VARIANTS) + len(WIRE)} conformant variants (--variants): each must pass")
    return 0


def _refused(option: str, message: str) -> int:
    print(f"opcp selftest: {option}: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    if args.list:
        return list_faults()
    from opcp_cli.check import unknown_name
    from opcp_cli.wire_proxy import FAULTS as WIRE_FAULTS

    target = args.target.resolve() if args.target is not None else None
    if target is not None:
        from opcp.target import TargetError, load

        try:
            load(target)
        except TargetError as exc:
            return _refused("--target", str(exc))
    catalogue = fault_catalogue()
    only_variants = bool(args.variant) and not args.fault
    names = [] if only_variants else (args.fault or sorted(WIRE_FAULTS if target else catalogue))
    unknown = [f for f in names if f not in catalogue]
    if unknown:
        return _refused("--fault", "; ".join(unknown_name("fault", f, catalogue) for f in unknown))
    if target is not None and any(f not in WIRE_FAULTS for f in names):
        return _refused("--fault", "with --target only the wire faults apply: "
                        + ", ".join(f for f in names if f not in WIRE_FAULTS))
    conformant = args.variant or (conformant_names(target) if args.variants else [])
    known = conformant_names(target)
    unknown = [n for n in conformant if n not in known]
    if unknown:
        return _refused("--variant", "; ".join(unknown_name("variant", n, known) for n in unknown))
    where = f"the target {target}" if target else "the correct reference"
    if not args.quiet and names:
        print(f"judging {len(names)} faulty variant(s) and {where}, {args.jobs} at a time; "
              "each verdict is shown as it comes", flush=True)
    count = [0]

    def judged(v: VariantResult) -> None:
        count[0] += 1
        if not args.quiet:
            print(f"[{count[0]}/{len(names) + 1}] {describe(v).strip()}", flush=True)

    ok = True
    baseline = None
    with tempfile.TemporaryDirectory(prefix="opcp-selftest-") as tmp:
        if names:
            clean, variants = selftest(names, args.jobs, judged, Path(tmp), target, args.tags)
            baseline = clean.baseline
            print(describe(clean))
            for v in variants:
                print(describe(v))
            applicable = [v for v in variants if v.applicable]
            killed = sum(v.killed for v in applicable)
            print(f"killed {killed} of {len(applicable)} faulty variants" + (
                f" ({len(variants) - len(applicable)} not applicable to this target)"
                if len(applicable) < len(variants) else ""))
            ok = clean.killed and killed == len(applicable)
        if conformant:
            if target is not None and baseline is None:
                clean = run_baseline(Path(tmp), target, args.tags)
                print(describe(clean), flush=True)
                baseline, ok = clean.baseline, ok and clean.killed
            baseline = baseline or Baseline(frozenset(), None, args.tags)
            ok = judge_conformant(conformant, args.jobs, args.quiet, baseline, Path(tmp)) and ok
    return 0 if ok else 1


def judge_conformant(names: list[str], jobs: int, quiet: bool = False, baseline: Baseline | None = None,
                     workdir: Path | None = None) -> bool:
    """Run each conformant variant (known names only: `run` checks them) and print
    `passed M of M conformant variants`."""
    with tempfile.TemporaryDirectory(prefix="opcp-variants-") as tmp, ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(run_conformant, n, Path(workdir or tmp), baseline): n for n in names}
        done = {}
        for future in as_completed(futures):
            done[futures[future]] = v = future.result()
            if not quiet:
                print(describe(v), flush=True)
    passed = sum(v.killed for v in done.values())
    print(f"passed {passed} of {len(names)} conformant variants")
    return passed == len(names)
