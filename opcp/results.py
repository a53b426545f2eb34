"""Reading a run's Allure results back into verdicts a person can act on.

Each result has a status, and labels the suite set: epic (service), feature, severity, axis
(conformance or compatibility) and, on failure, the rule. From them come the console
summary, the two verdict axes and the conformance score.

Score (per service and overall) = 100 x (sum of the weights of passed checks) / (sum of the
weights of applicable checks), a check being one scenario or Scenario Outline example, its
weight given by its severity (WEIGHTS). Not-applicable checks are left out. In the strict
profile every applicable check counts; in the lenient profile compatibility checks are left
out of the score (their failures are warnings).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

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
        for label in data.get("labels", []):
            labels.setdefault(label["name"], label["value"])
        message = ((data.get("statusDetails") or {}).get("message", "") or "").strip()
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
                                rule=labels.get("rule", "")))
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
    shown = ", ".join(f"{k} {_pct(v)}" for k, v in scores(outcomes, profile).items())
    lines.append(f"Score ({profile}): {shown}")
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
