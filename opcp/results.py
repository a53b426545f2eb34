"""Reading a run's Allure results back into verdicts a person can act on.

Each result has a status, and labels the suite set: epic (service), feature, severity, axis
(conformance or compatibility) and, on failure, the rule. From them come the console
summary, the two verdict axes and the conformance score.

Score (per service and overall) = 100 x (sum of the weights of passed checks) / (sum of the
weights of applicable checks), a check being one scenario or Scenario Outline example, its
weight given by its severity (WEIGHTS). Not-applicable checks are left out. In the strict
profile every applicable check counts; in the lenient profile compatibility checks are left
out of the score (their failures are warnings).

Coverage (per service and overall) = applicable checks / all checks: a score is only as good
as what it covers, so both are shown together, in the console, in `score.json` beside the
results (which the HTML report and the conformance statement read), never one without the
other. Allure's own "pass rate" counts results, unweighted, and not-applicable ones as skipped:
it is not the score.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

NOT_APPLICABLE = "not applicable"
WARNING = "warning"
WEIGHTS = {"blocker": 8.0, "critical": 4.0, "normal": 2.0, "minor": 1.0, "trivial": 0.5}


@dataclass
class Outcome:
    name: str
    epic: str
    feature: str
    status: str  # passed | failed | broken | skipped | not applicable | warning
    message: str = ""
    parameters: dict = field(default_factory=dict)
    severity: str = "normal"
    axis: str = "conformance"
    rule: str = ""
    tags: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "broken")

    @property
    def applicable(self) -> bool:
        return self.status in ("passed", "failed", "broken", WARNING)


def read(results_dir: Path) -> list[Outcome]:
    outcomes = []
    for path in sorted(results_dir.glob("*-result.json")):
        data = json.loads(path.read_text())
        labels: dict[str, str] = {}
        tags = []
        for label in data.get("labels", []):
            labels.setdefault(label["name"], label["value"])
            if label["name"] == "tag":
                tags.append(label["value"])
        details = data.get("statusDetails") or {}
        message = (details.get("message", "") or "").strip()
        replay = [line for line in (details.get("trace") or "").splitlines()
                  if line.startswith(REPLAY_PREFIXES)]
        if replay and not any(line.startswith(REPLAY_PREFIXES) for line in message.splitlines()):
            message = "\n".join([message, *replay])  # tidy() moved them to the trace
        status = data.get("status", "unknown")
        if status == "skipped" and NOT_APPLICABLE in message:
            status = NOT_APPLICABLE
        elif status == "skipped" and "warning: [compatibility" in message:
            status = WARNING
        params = {p["name"]: p["value"] for p in data.get("parameters", [])}
        outcomes.append(Outcome(name=data.get("name", path.stem), epic=labels.get("epic", "-"),
                                feature=labels.get("feature", "-"), status=status,
                                message=message, parameters=params,
                                severity=labels.get("severity", "normal"),
                                axis=labels.get("axis", "conformance"),
                                rule=labels.get("rule", ""), tags=tuple(tags)))
    return outcomes


def score(outcomes: list[Outcome], profile: str = "strict") -> float | None:
    counted = [o for o in outcomes if o.applicable and o.status != WARNING
               and (profile == "strict" or o.axis == "conformance")]
    total = sum(WEIGHTS.get(o.severity, 2.0) for o in counted)
    if not total:
        return None
    return 100.0 * sum(WEIGHTS.get(o.severity, 2.0) for o in counted if o.status == "passed") / total


def scores(outcomes: list[Outcome], profile: str = "strict") -> dict[str, float | None]:
    by_service: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_service[o.epic].append(o)
    result = {service: score(items, profile) for service, items in sorted(by_service.items())}
    result["overall"] = score(outcomes, profile)
    return result


def coverage(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    """Per service and overall: (applicable checks, all checks)."""
    by_service: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_service[o.epic].append(o)
    result = {service: (sum(o.applicable for o in items), len(items))
              for service, items in sorted(by_service.items())}
    result["overall"] = (sum(o.applicable for o in outcomes), len(outcomes))
    return result


def not_applicable_reasons(outcomes: list[Outcome]) -> Counter:
    """Why checks were not applicable, with how many each reason left out."""
    reasons: Counter = Counter()
    for o in outcomes:
        if o.status == NOT_APPLICABLE:
            first = (o.message.splitlines() or [""])[0]
            reason = first.split(f"{NOT_APPLICABLE}:", 1)[-1].strip() or "(no reason given)"
            reasons[reason] += 1
    return reasons


def not_applicable_but_required(outcomes: list[Outcome], required: list[str]) -> list[Outcome]:
    """Not-applicable checks carrying one of the `required` tags or services (e.g. security):
    a certification run can demand that none of them was left out."""
    wanted = {r.strip().lower().lstrip("@") for r in required if r.strip()}
    return [o for o in outcomes if o.status == NOT_APPLICABLE
            and (wanted & {t.lower() for t in o.tags} or o.epic.lower() in wanted)]


def score_line(outcomes: list[Outcome], profile: str = "strict") -> str:
    covered = coverage(outcomes)
    shown = []
    for key, value in scores(outcomes, profile).items():
        applicable, total = covered[key]
        shown.append(f"{key} {_pct(value)} ({applicable}/{total} applicable)")
    return f"Score ({profile}): " + ", ".join(shown)


def score_record(outcomes: list[Outcome], profile: str = "strict") -> dict:
    """The score as `score.json` holds it: what the report and the statement show."""
    covered = coverage(outcomes)
    return {"profile": profile,
            "scores": {k: (None if v is None else round(v, 1)) for k, v in scores(outcomes, profile).items()},
            "coverage": {k: {"applicable": a, "total": t} for k, (a, t) in covered.items()},
            "not_applicable": dict(not_applicable_reasons(outcomes).most_common()),
            "counts": dict(Counter(o.status for o in outcomes))}


def summary(outcomes: list[Outcome], profile: str = "strict") -> str:
    by_feature: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for o in outcomes:
        by_feature[(o.epic, o.feature)][o.status] += 1
    width = max((len(f) for _, f in by_feature), default=10)
    lines = [f"  {'service':8} {'feature':{width}}  passed  failed  warn  n/a"]
    for (epic, feature), counts in sorted(by_feature.items()):
        failed = counts["failed"] + counts["broken"]
        lines.append(f"  {epic:8} {feature:{width}}  {counts['passed']:6}  {failed:6}  "
                     f"{counts[WARNING]:4}  {counts[NOT_APPLICABLE]:3}")
    for axis in ("conformance", "compatibility"):
        mine = [o for o in outcomes if o.axis == axis]
        count = Counter(o.status for o in mine)
        lines.append(f"{axis.capitalize():14} {count['passed']} passed, "
                     f"{count['failed'] + count['broken']} failed, {count[WARNING]} warnings, "
                     f"{count[NOT_APPLICABLE]} not applicable")
    total = Counter(o.status for o in outcomes)
    lines.append(f"{total['passed']} passed, {total['failed'] + total['broken']} failed, "
                 f"{total[WARNING]} warnings, {total[NOT_APPLICABLE]} not applicable, "
                 f"{total['skipped']} skipped")
    reasons = not_applicable_reasons(outcomes)
    if reasons:
        lines.append(f"Not applicable ({sum(reasons.values())}), by reason:")
        lines += [f"  {count:4} x {reason}" for reason, count in reasons.most_common()]
    lines.append(score_line(outcomes, profile))
    lines.append("  (weighted by severity, not-applicable checks left out; Allure's \"pass rate\" "
                 "is unweighted and counts not applicable as skipped)")
    for axis, title in (("conformance", "Conformance failures"),
                        ("compatibility", "Compatibility findings")):
        found = [o for o in outcomes if o.axis == axis and (o.failed or o.status == WARNING)]
        if found:
            lines.append(f"{title}:")
            for o in found:
                lines += _describe(o)
    return "\n".join(lines)


def _describe(o: Outcome) -> list[str]:
    message_lines = o.message.splitlines() or ["(no message)"]
    first = message_lines[0].removeprefix("AssertionError: ")
    out = [f"  - [{o.epic}] {o.name}{' (warning)' if o.status == WARNING else ''}",
           f"      {first[:400]}"]
    out += [f"      {line.strip()[:2000]}" for line in message_lines[1:]
            if line.strip().startswith(("operation:", "reproduce:"))]
    return out


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


# --- the preflight's verdict, recorded like any other result -----------------------------

PREFLIGHT_FILE = "preflight.json"


def write_preflight(results_dir: Path, report) -> None:
    """Record a preflight (an `opcp.preflight.Preflight`) beside the run's results: its own
    file (read back by `read_preflight`) and, when it failed, one broken Allure result, so a
    report shows the one root cause instead of one failure per scenario."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / PREFLIGHT_FILE).write_text(json.dumps(report.to_dict(), indent=2))
    if report.ok:
        return
    now = int(time.time() * 1000)
    result = {"uuid": str(uuid.uuid4()), "name": report.to_dict()["message"].splitlines()[0],
              "fullName": "preflight", "status": "broken", "stage": "finished",
              "statusDetails": {"message": report.message()},
              "labels": [{"name": "epic", "value": "PREFLIGHT"}, {"name": "feature", "value": "Preflight"},
                         {"name": "severity", "value": "blocker"}, {"name": "rule", "value": "PREFLIGHT"}],
              "steps": [{"name": c.line(), "status": "passed" if c.ok else "broken", "start": now,
                         "stop": now} for c in report.checks],
              "start": now, "stop": now}
    (results_dir / f"{result['uuid']}-result.json").write_text(json.dumps(result, indent=2))


def read_preflight(results_dir: Path) -> dict | None:
    path = results_dir / PREFLIGHT_FILE
    return json.loads(path.read_text()) if path.exists() else None


def preflight_junit(report) -> str:
    """A JUnit XML file whose one test case is the failed preflight."""
    message = report.message()
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<testsuites><testsuite name="opcp" errors="1" failures="0" skipped="0" tests="1">'
            f'<testcase classname="opcp.preflight" name="preflight">'
            f'<error message={quoteattr(message.splitlines()[0])}>{escape(message)}</error>'
            '</testcase></testsuite></testsuites>\n')


SCORE_FILE = "score.json"


def publish_score(results_dir: Path, outcomes: list[Outcome], profile: str) -> dict:
    """Write the score beside the results, and into what the Allure report shows: the
    environment table (score and coverage per service) and the report's title."""
    record = score_record(outcomes, profile)
    (results_dir / SCORE_FILE).write_text(json.dumps(record, indent=2))
    env = results_dir / "environment.properties"
    kept = [line for line in (env.read_text().splitlines() if env.exists() else [])
            if not line.startswith(("score.", "coverage."))]
    for key, value in record["scores"].items():
        cov = record["coverage"][key]
        kept.append(f"score.{key}={_pct(value)} ({profile}, weighted by severity)")
        kept.append(f"coverage.{key}={cov['applicable']}/{cov['total']} applicable")
    env.write_text("\n".join(kept) + "\n")
    overall, cov = record["scores"]["overall"], record["coverage"]["overall"]
    (results_dir / "executor.json").write_text(json.dumps({
        "name": "opcp check", "type": "opcp",
        "reportName": f"OPCP conformance: score {_pct(overall)} ({profile}), coverage "
                      f"{cov['applicable']}/{cov['total']} applicable"}))
    return record


def read_score(results_dir: Path) -> dict | None:
    path = results_dir / SCORE_FILE
    return json.loads(path.read_text()) if path.exists() else None


# Lines of a verdict that say how to replay it, rather than what failed.
REPLAY_PREFIXES = ("operation:", "reproduce:")


def tidy(results_dir: Path) -> int:
    """Cut each failed result's message to its first line (rule and cause) and move the rest
    (operation, curl replay, base64 bodies) to the head of its trace: Allure groups a
    category's failures by message, so this groups them by rule and cause. Idempotent;
    returns how many results changed. `read` puts the replay lines back together."""
    changed = 0
    for path in results_dir.glob("*-result.json"):
        data = json.loads(path.read_text())
        details = data.get("statusDetails") or {}
        message = details.get("message") or ""
        if data.get("status") not in ("failed", "broken") or "\n" not in message.strip():
            continue
        first, rest = message.strip().split("\n", 1)
        details["message"] = first
        details["trace"] = rest.strip() + "\n\n" + (details.get("trace") or "")
        data["statusDetails"] = details
        path.write_text(json.dumps(data))
        changed += 1
    return changed


def digest(results_dir: Path) -> str:
    """SHA-256 that pins the results a summary was made of: over every `*-result.json`, in
    file-name order, its name then its bytes (each followed by a NUL byte). Attachments are
    referenced by the results, so changing a verdict or its evidence's name changes it."""
    import hashlib

    sha = hashlib.sha256()
    for path in sorted(results_dir.glob("*-result.json")):
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


def environment(results_dir: Path) -> dict[str, str]:
    """The run's stamp (`environment.properties`) as a dict."""
    path = results_dir / "environment.properties"
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
