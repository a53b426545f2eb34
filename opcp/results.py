"""Reading a run's Allure results back into a summary a person can act on."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

NOT_APPLICABLE = "not applicable"


@dataclass
class Outcome:
    name: str
    epic: str
    feature: str
    status: str  # passed | failed | broken | skipped | not applicable
    message: str = ""
    parameters: dict = field(default_factory=dict)


def read(results_dir: Path) -> list[Outcome]:
    outcomes = []
    for path in sorted(results_dir.glob("*-result.json")):
        data = json.loads(path.read_text())
        labels = {}
        for label in data.get("labels", []):
            labels.setdefault(label["name"], label["value"])
        message = (data.get("statusDetails") or {}).get("message", "") or ""
        status = data.get("status", "unknown")
        if status == "skipped" and NOT_APPLICABLE in message:
            status = NOT_APPLICABLE
        params = {p["name"]: p["value"] for p in data.get("parameters", [])}
        outcomes.append(Outcome(name=data.get("name", path.stem), epic=labels.get("epic", "-"),
                                feature=labels.get("feature", "-"), status=status,
                                message=message.strip(), parameters=params))
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    by_feature: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for o in outcomes:
        by_feature[(o.epic, o.feature)][o.status] += 1
    width = max((len(f) for _, f in by_feature), default=10)
    lines = [f"  {'service':8} {'feature':{width}}  passed  failed  n/a  skipped"]
    for (epic, feature), counts in sorted(by_feature.items()):
        failed = counts["failed"] + counts["broken"]
        lines.append(f"  {epic:8} {feature:{width}}  {counts['passed']:6}  {failed:6}  "
                     f"{counts[NOT_APPLICABLE]:3}  {counts['skipped']:7}")
    total = Counter(o.status for o in outcomes)
    failed = total["failed"] + total["broken"]
    lines.append(f"{total['passed']} passed, {failed} failed, {total[NOT_APPLICABLE]} not "
                 f"applicable, {total['skipped']} skipped")
    failures = [o for o in outcomes if o.status in ("failed", "broken")]
    if failures:
        lines.append("Failures:")
        for o in failures:
            first = o.message.splitlines()[0] if o.message else "(no message)"
            lines.append(f"  - [{o.epic}] {o.name}: {first[:300]}")
    return "\n".join(lines)
