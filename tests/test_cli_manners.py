"""The command line off the happy path (issue #18): ranges checked, typos answered with the
valid names, listings, progress while the suite runs, not-applicable reasons and coverage
beside the score, never a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from rich.console import Console

from opcp import results
from opcp.paths import REPO
from opcp_cli import main
from opcp_cli.progress import SuiteProgress


def opcp(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


@pytest.mark.parametrize("argv, said", [
    (["check", "--min-score", "101"], "101 is out of range: must be 0 to 100"),
    (["check", "--min-score", "lots"], "'lots' is not a number"),
    (["check", "--maxfail", "0"], "0 is out of range: must be 1 or more"),
    (["selftest", "--jobs", "0"], "0 is out of range: must be 1 or more"),
])
def test_out_of_range_arguments_are_refused(argv, said, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and said in capsys.readouterr().err


@pytest.mark.parametrize("argv, said", [
    (["check", "--reference-fault", "rcp-filter-ignord"], "did you mean rcp-filter-ignored?"),
    (["check", "--reference-fault", "bogus"], "unknown fault 'bogus'"),
    (["selftest", "--fault", "bogus"], "unknown fault 'bogus'"),
    (["selftest", "--fault", "auth-accept-expird"], "did you mean auth-accept-expired,"),
])
def test_a_misspelled_fault_is_answered_with_the_valid_names(argv, said, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and "opcp selftest --list" in err


def test_selftest_lists_its_faults(capsys):
    from opcp_reference.faults import FAULTS

    assert main(["selftest", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in FAULTS) and "caught by rcp.feature" in out


@pytest.mark.slow  # whole suite runs
def test_check_lists_scenarios_with_tags_and_rules_and_explains_an_empty_selection():
    listed = opcp("check", "--list", "--tags", "auth")
    assert listed.returncode == 0, listed.stderr
    assert "OAuth2 client credentials and protected endpoints  (auth.feature)" in listed.stdout
    assert "@security" in listed.stdout and "  rule " in listed.stdout
    empty = opcp("check", "--tags", "no_such_tag")
    assert empty.returncode == 2
    assert "no scenario matches --tags 'no_such_tag'" in empty.stderr and "auth, blocker" in empty.stderr
    assert "pytest exit" not in empty.stderr


def test_progress_shows_a_line_per_feature_as_it_finishes(tmp_path):
    events = tmp_path / "events.jsonl"
    items = [{"id": f"t{i}", "feature": f, "file": "x", "scenario": "s", "tags": [], "rule": None}
             for i, f in enumerate(["Roots", "Roots", "Tokens"])]
    lines = [{"event": "collected", "items": items},
             {"event": "result", "id": "t0", "feature": "Roots", "outcome": "passed", "reason": ""},
             {"event": "result", "id": "t1", "feature": "Roots", "outcome": "failed", "reason": ""},
             {"event": "result", "id": "t2", "feature": "Tokens", "outcome": "not applicable",
              "reason": "not applicable: no jwks_url"}]
    events.write_text("".join(json.dumps(e) + "\n" for e in lines))

    class Ended:
        def poll(self):
            return 0

        def wait(self):
            return 0

    out = io.StringIO()
    SuiteProgress(events, console=Console(file=out, force_terminal=False, width=200)).follow(Ended())
    text = out.getvalue()
    assert "running 3 scenario(s) in 2 feature(s)" in text
    assert "✗ Roots  2/2  passed 1, failed 1" in text
    assert "✓ Tokens  1/1  passed 0, failed 0, not applicable 1" in text
    quiet = io.StringIO()
    SuiteProgress(events, quiet=True, console=Console(file=quiet)).follow(Ended())
    assert quiet.getvalue() == ""


def outcome(status: str, epic: str = "AUTH", message: str = "", tags=()) -> results.Outcome:
    return results.Outcome(name="s", epic=epic, feature="f", status=status, message=message, tags=tuple(tags))


def test_not_applicable_reasons_coverage_and_the_required_tags():
    outcomes = [outcome("passed"), outcome("failed"),
                outcome(results.NOT_APPLICABLE, message="not applicable: the target file gives no jwks_url",
                        tags=["security"]),
                outcome(results.NOT_APPLICABLE, message="not applicable: the target file gives no jwks_url",
                        tags=["security"]),
                outcome(results.NOT_APPLICABLE, epic="EST",
                        message="not applicable: the target does not declare the est service")]
    assert results.not_applicable_reasons(outcomes).most_common() == [
        ("the target file gives no jwks_url", 2), ("the target does not declare the est service", 1)]
    assert results.coverage(outcomes) == {"AUTH": (2, 4), "EST": (0, 1), "overall": (2, 5)}
    text = results.summary(outcomes)
    assert "Not applicable (3), by reason:" in text and "2 x the target file gives no jwks_url" in text
    assert "overall 50.0% (2/5 applicable)" in text
    assert len(results.not_applicable_but_required(outcomes, ["security"])) == 2
    assert len(results.not_applicable_but_required(outcomes, ["est"])) == 1
    assert results.not_applicable_but_required(outcomes, ["story"]) == []


@pytest.mark.slow  # whole suite runs
def test_last_failed_reruns_only_what_failed(tmp_path):
    args = ["check", "--quiet", "--reference-fault", "rcp-filter-ignored", "--results", str(tmp_path / "r"),
            "--junit", str(tmp_path / "j.xml")]
    first = opcp(*args, "-k", "rootType or obtains")
    assert first.returncode == 1, first.stdout + first.stderr
    before = results.read(tmp_path / "r")
    failed = sorted(o.name for o in before if o.failed)
    assert failed and len(before) > len(failed)
    again = opcp(*args, "--last-failed", "--maxfail", "1")
    assert again.returncode == 1, again.stdout + again.stderr
    rerun = results.read(tmp_path / "r")
    assert len(rerun) == 1 and rerun[0].failed and rerun[0].name in failed  # --maxfail 1 stopped it
