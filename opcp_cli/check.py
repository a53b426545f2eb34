"""`opcp check`: run the conformance suite against a target and summarise the verdicts.

Before any scenario the suite runs the preflight (`opcp.preflight`); a failed preflight is one
message and exit code 2. While the suite runs, a live line per feature shows how it goes
(`--quiet` for none). Arguments are checked before anything starts: a misspelled fault or an
out-of-range number is answered with what is valid, never with a traceback or a run of
failures. Exit codes: 0 all passed (or the score gate held), 1 failures, 2 the suite could
not run (usage, target file, preflight).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from opcp import paths, results, stamp
from opcp_cli.arguments import bounded_float, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run the conformance suite against a target")
    p.add_argument("--target", type=Path, default=None,
                   help="target file (TOML); default: an embedded reference on a free port")
    p.add_argument("--profile", choices=["strict", "lenient"], default="strict")
    p.add_argument("--reference-fault", action="append", default=[], metavar="NAME",
                   help="switch on a fault in the embedded reference (to see the suite fail); "
                        "`opcp selftest --list` names them")
    wire = p.add_mutually_exclusive_group()
    wire.add_argument("--wire-variant", default=None, metavar="NAME",
                      help="talk to the target through a proxy answering in a conformant variant"
                           " (opcp selftest --list names them)")
    wire.add_argument("--wire-fault", default=None, metavar="NAME",
                      help="talk to the target through a proxy that breaks one rule (to see the"
                           " suite fail on any target; opcp selftest --list names them)")
    p.add_argument("-k", dest="keyword", default=None, help="only scenarios matching (pytest -k)")
    p.add_argument("--tags", default=None, metavar="EXPR",
                   help="only scenarios whose tags match (pytest -m), e.g. 'ccp and not story'")
    p.add_argument("--list", action="store_true",
                   help="list the scenarios (with -k/--tags: the ones selected), their tags and "
                        "rule ids, and run nothing")
    p.add_argument("--results", type=Path, default=paths.ALLURE_RESULTS,
                   help="Allure results directory")
    p.add_argument("--junit", type=Path, default=paths.JUNIT)
    p.add_argument("--report", action="store_true",
                   help="also render the HTML report (opcp report) after the run")
    p.add_argument("--min-score", type=bounded_float(0, 100), default=None, metavar="N",
                   help="CI gate: exit 0 when the overall score is at least N (0-100), else 1; "
                        "without it, any failure exits 1")
    p.add_argument("--require-applicable", action="append", default=[], metavar="TAGS",
                   help="fail the run (exit 1) if any scenario tagged with one of TAGS (comma-"
                        "separated tags or services, e.g. 'security' or 'security,auth') is not "
                        "applicable to the target: for certification runs")
    p.add_argument("--maxfail", type=positive_int, default=None, metavar="N",
                   help="stop after N failed scenarios")
    p.add_argument("--last-failed", "--lf", dest="last_failed", action="store_true",
                   help="run only the scenarios that failed in the last run with the same --results "
                        "directory (all when none did)")
    p.add_argument("--quiet", "-q", action="store_true", help="no live progress (for CI logs)")
    p.add_argument("--verbose", "-v", action="store_true", help="show pytest's own output")
    p.set_defaults(func=run)


def known_faults() -> dict[str, str]:
    """Every switch of the reference: the faults and the conformant variants."""
    from opcp_reference.faults import FAULTS, VARIANTS

    return {**{name: fault.breaks for name, fault in FAULTS.items()},
            **{name: variant.reading for name, variant in VARIANTS.items()}}


def unknown_name(kind: str, name: str, known) -> str:
    near = difflib.get_close_matches(name, list(known), n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    return f"unknown {kind} {name!r}{hint} (all {len(known)}: opcp selftest --list)" if kind == "fault" \
        else f"unknown {kind} {name!r}{hint} (known: {', '.join(known)})"


# The pytest plugins the suite is made of; no other installed plugin is loaded into a run (see
# _suite_env), so a verdict does not depend on what else is installed beside the suite, and a
# run does not pay for importing (and assertion-rewriting) plugins it never uses.
SUITE_PLUGINS = ("pytest_bdd.plugin", "allure_pytest_bdd.plugin", "opcp_cli.suite_events")


def _suite_command(args: argparse.Namespace, events: Path, *, collect_only: bool = False) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(paths.FEATURES), "--rootdir", str(paths.REPO),
               *(arg for plugin in SUITE_PLUGINS for arg in ("-p", plugin)),
               f"--profile={args.profile}"]
    if collect_only:
        command += ["--collect-only", "-q"]
    else:
        command += [f"--alluredir={args.results}", "--clean-alluredir", f"--junitxml={args.junit}"]
        command += ["-q"] if args.verbose else ["-q", "--no-header", "--tb=no"]
    # pytest's own cache (which pyproject's addopts switch off) beside the results, so that
    # `--last-failed` knows what failed in the last run with these results.
    command += ["-o", "addopts=", "-o", f"cache_dir={args.results.parent / '.pytest_cache'}"]
    if args.last_failed:
        command.append("--last-failed")
    if args.maxfail:
        command.append(f"--maxfail={args.maxfail}")
    if args.target is not None:
        command.append(f"--target={args.target.resolve()}")
    for fault in args.reference_fault:
        command.append(f"--reference-fault={fault}")
    if args.wire_variant:
        command.append(f"--wire-variant={args.wire_variant}")
    if args.wire_fault:
        command.append(f"--wire-fault={args.wire_fault}")
    if args.keyword:
        command += ["-k", args.keyword]
    if args.tags:
        command += ["-m", args.tags]
    return command


def _validate(args: argparse.Namespace):
    """Everything that can be judged before starting: the target file, the fault names."""
    target = None
    if args.target is not None:
        from opcp.target import TargetError, load

        if args.reference_fault:
            raise ValueError("--reference-fault only applies to the embedded reference (no --target)")
        try:
            target = load(args.target)
        except TargetError as exc:
            raise ValueError(str(exc)) from None
    faults = known_faults() if args.reference_fault else {}
    for fault in args.reference_fault:
        if fault not in faults:
            raise ValueError(f"--reference-fault: {unknown_name('fault', fault, faults)}")
    from opcp_cli import wire_proxy

    for option, name, known in (("--wire-variant", args.wire_variant, wire_proxy.VARIANTS),
                                ("--wire-fault", args.wire_fault, wire_proxy.FAULTS)):
        if name is not None and name not in known:
            raise ValueError(f"{option}: {unknown_name(option[7:], name, known)}")
    return target


def run(args: argparse.Namespace) -> int:
    # The suite runs in the repository; paths the user gave are the user's working directory's.
    args.results, args.junit = args.results.resolve(), args.junit.resolve()
    try:
        target = _validate(args)
    except ValueError as exc:
        print(f"opcp check: {exc}", file=sys.stderr)
        return 2
    if args.list:
        return list_scenarios(args)
    if target is not None:
        header = f"target: {target.name}, services: {', '.join(target.services)}"
        if target.base_url not in target.name:
            header = f"target: {target.name} ({target.base_url}), services: {', '.join(target.services)}"
    else:
        header = "target: embedded reference (fresh data dir, free loopback port)"
    print(f"OPCP conformance suite {stamp.suite_version()} for {stamp.SPEC_VERSION} "
          f"({stamp.SPEC_SOURCE})\n{header}\nprofile: {args.profile}, started {stamp.now()}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="opcp-check-") as tmp:
        events = Path(tmp) / "events.jsonl"
        proc, output = _run_suite(args, events)
    if proc.returncode == 2 and args.results.exists():
        verdict = results.read_preflight(args.results)
        if verdict is not None and not verdict["ok"]:
            print(f"opcp check: {verdict['message']}", file=sys.stderr)
            print(f"the verdict is in {args.results} and {args.junit}", file=sys.stderr)
            return 2
    outcomes = results.read(args.results) if args.results.exists() else []
    if proc.returncode == 5:
        print(f"opcp check: {_nothing_selected(args)}", file=sys.stderr)
        return 2
    if proc.returncode not in (0, 1) or not outcomes:
        # pytest itself failed (usage error, collection error, interrupted): show why.
        print(output, file=sys.stderr)
        print(f"opcp check: the suite did not run to the end (pytest exit {proc.returncode})",
              file=sys.stderr)
        return 2
    print(results.summary(outcomes, args.profile))
    record = results.publish_score(args.results, outcomes, args.profile)
    print(f"finished {stamp.now()}")
    print(f"Allure results: {args.results}\nJUnit XML: {args.junit}")
    if args.report:
        from opcp_cli.report import render

        render(args.results, paths.ALLURE_REPORT)
    else:
        print("HTML report: opcp report (opens from disk), or opcp report --serve")
    exit_code = 1 if any(o.failed for o in outcomes) else 0
    if args.min_score is not None:
        overall = record["scores"]["overall"]
        passed = overall is not None and overall >= args.min_score
        print(f"score gate: overall {overall} {'>=' if passed else '<'} {args.min_score}")
        exit_code = 0 if passed else 1
    required = [tag for value in args.require_applicable for tag in value.split(",") if tag.strip()]
    if required:
        missing = results.not_applicable_but_required(outcomes, required)
        if missing:
            print(f"required applicable ({', '.join(required)}): {len(missing)} scenario(s) were not "
                  "applicable:")
            for o in missing:
                print(f"  - [{o.epic}] {o.name}: {o.message.splitlines()[0] if o.message else ''}")
            exit_code = 1
        else:
            print(f"required applicable ({', '.join(required)}): every such scenario was applicable")
    return exit_code


def _suite_env(events: Path) -> dict[str, str]:
    """The suite's environment: only SUITE_PLUGINS (and the conftest's own) are loaded."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "OPCP_SUITE_EVENTS": str(events)}


def _run_suite(args: argparse.Namespace, events: Path) -> tuple[subprocess.CompletedProcess, str]:
    from opcp_cli.progress import SuiteProgress

    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(_suite_command(args, events), cwd=paths.REPO, env=_suite_env(events),
                                stdout=None if args.verbose else out, stderr=subprocess.STDOUT,
                                text=True)
        try:
            SuiteProgress(events, quiet=args.quiet or args.verbose).follow(proc)
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            raise
        out.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.wait()), out.read()


def _collect(args: argparse.Namespace) -> tuple[int, list[dict], str]:
    with tempfile.TemporaryDirectory(prefix="opcp-list-") as tmp:
        events = Path(tmp) / "events.jsonl"
        proc = subprocess.run(_suite_command(args, events, collect_only=True), cwd=paths.REPO,
                              env=_suite_env(events), capture_output=True, text=True)
        items: list[dict] = []
        if events.exists():
            for line in events.read_text().splitlines():
                event = json.loads(line)
                if event["event"] == "collected":
                    items = event["items"]
        return proc.returncode, items, proc.stdout + proc.stderr


def list_scenarios(args: argparse.Namespace) -> int:
    code, items, output = _collect(args)
    if code == 5 or (code == 0 and not items):
        print(f"opcp check: {_nothing_selected(args)}", file=sys.stderr)
        return 2
    if code != 0:
        print(output, file=sys.stderr)
        return 2
    feature = None
    for item in items:
        if item["feature"] != feature:
            feature = item["feature"]
            print(f"{feature}  ({item['file']})")
        rule = f"  rule {item['rule']}" if item["rule"] else ""
        tags = " ".join(f"@{t}" for t in item["tags"])
        print(f"  {item['scenario']}  [{tags}]{rule}")
    print(f"{len(items)} scenario(s) in {len({i['feature'] for i in items})} feature(s); "
          f"tags: {', '.join(sorted({t for i in items for t in i['tags']}))}")
    return 0


def _nothing_selected(args: argparse.Namespace) -> str:
    chosen = " and ".join(f"{k} {v!r}" for k, v in (("-k", args.keyword), ("--tags", args.tags)) if v)
    unfiltered = argparse.Namespace(**{**vars(args), "keyword": None, "tags": None,
                                       "last_failed": False})
    _, items, _ = _collect(unfiltered)
    tags = sorted({t for i in items for t in i["tags"]})
    return (f"no scenario matches {chosen or 'the selection'}; tags in the suite: {', '.join(tags)} "
            "(opcp check --list shows every scenario)")
