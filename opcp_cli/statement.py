"""The conformance statement: one A4 page a vendor can hand to a partner.

It summarises one run's results (the Allure results directory `opcp check` wrote): the target
and the services it declared, the spec version and commit, the suite version, the profile,
the score and coverage per service (the same figures as the console and `score.json`), why
checks were not applicable, the failures by rule, and the SHA-256 of the results it
summarises (`opcp.results.digest`), so the page can be tied to the evidence behind it.

`write` renders `statement.html` (self-contained: inline CSS, no scripts) and prints it to
`statement.pdf` with headless Chromium (`--print-to-pdf`).
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from opcp import results, stamp
from opcp.rules import RULES

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MAX_RULES = 8  # failing rules shown; the rest are counted, so the page stays one page
MAX_REASONS = 6


@dataclass
class Statement:
    env: dict[str, str]
    record: dict
    outcomes: list[results.Outcome]
    sha256: str
    generated: str

    @property
    def profile(self) -> str:
        return self.record["profile"]

    def services(self) -> list[str]:
        declared = [s for s in self.env.get("target.services", "").split(",") if s]
        return declared or sorted({o.epic.lower() for o in self.outcomes if o.epic not in ("-",)})

    def failures_by_rule(self) -> list[tuple[str, int, str]]:
        counted = Counter(o.rule or "unnamed" for o in self.outcomes if o.failed)
        return [(rule, n, RULES[rule].text if rule in RULES else "") for rule, n in counted.most_common()]

    def verdict(self) -> tuple[str, str]:
        failed = sum(o.failed for o in self.outcomes)
        if failed:
            return "bad", f"{failed} check{'s' if failed != 1 else ''} failed"
        return "good", "every applicable check passed"


def load(results_dir: Path) -> Statement:
    outcomes = results.read(results_dir)
    if not outcomes:
        raise ValueError(f"no results in {results_dir}; run `opcp check` first")
    env = results.environment(results_dir)
    record = results.read_score(results_dir) or results.score_record(outcomes, env.get("profile", "strict"))
    return Statement(env, record, outcomes, results.digest(results_dir), stamp.now())


def _e(value: object) -> str:
    return html.escape(str(value))


def _when(value: str) -> str:
    return value.replace("T", " ").replace("+00:00", " UTC")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def render_html(st: Statement) -> str:
    env, rec = st.env, st.record
    overall = rec["scores"].get("overall")
    cov = rec["coverage"]["overall"]
    verdict_class, verdict_text = st.verdict()
    rows = []
    for service in st.services():
        key = service.upper()
        score = rec["scores"].get(key)
        c = rec["coverage"].get(key, {"applicable": 0, "total": 0})
        counts = Counter(o.status for o in st.outcomes if o.epic == key)
        share = 100 * c["applicable"] / c["total"] if c["total"] else 0
        if not c["total"]:
            rows.append(f"<tr class=notrun><td class=svc>{_e(key)}</td><td class=num>-</td>"
                        "<td colspan=4 class=small>not run (this run selected other scenarios)</td></tr>")
            continue
        rows.append(
            f"<tr><td class=svc>{_e(key)}</td><td class=num>{_pct(score)}</td>"
            f"<td><div class=bar><span style='width:{share:.0f}%'></span></div>"
            f"<span class=small>{c['applicable']}/{c['total']}</span></td>"
            f"<td class=num>{counts['passed']}</td>"
            f"<td class='num{' red' if counts['failed'] + counts['broken'] else ''}'>"
            f"{counts['failed'] + counts['broken']}</td>"
            f"<td class=num>{counts[results.NOT_APPLICABLE]}</td></tr>")
    reasons = list(rec.get("not_applicable", {}).items())
    reason_items = "".join(f"<li><b>{n}</b> {_e(r)}</li>" for r, n in reasons[:MAX_REASONS])
    if len(reasons) > MAX_REASONS:
        reason_items += f"<li class=small>and {len(reasons) - MAX_REASONS} more reasons</li>"
    failing = st.failures_by_rule()
    rule_rows = "".join(f"<tr><td class=rule>{_e(rule)}</td><td class=num>{n}</td><td>{_e(text)}</td></tr>"
                        for rule, n, text in failing[:MAX_RULES])
    if len(failing) > MAX_RULES:
        rule_rows += (f"<tr><td colspan=3 class=small>and {len(failing) - MAX_RULES} more rules "
                      "(the HTML report lists every failure)</td></tr>")
    failures = (f"<table class=rules><tr><th>rule</th><th>failed</th><th>what it requires</th></tr>"
                f"{rule_rows}</table>") if failing else "<p class=none>No check failed.</p>"
    not_applicable = (f"<ul class=reasons>{reason_items}</ul>" if reasons
                      else "<p class=none>Every check was applicable.</p>")
    lenient = " (compatibility findings are warnings)" if st.profile == "lenient" else ""
    spec = f"{env.get('spec.version', stamp.SPEC_VERSION)} ({env.get('spec.source', stamp.SPEC_SOURCE)})"
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8>
<title>OPCP conformance statement: {_e(env.get('target.name', 'target'))}</title>
<style>
@page {{ size: A4; margin: 14mm 16mm; }}
* {{ box-sizing: border-box; }}
body {{ font: 10pt/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1d2433; margin: 0; }}
@media screen {{ body {{ max-width: 190mm; margin: 12mm auto; }} }}
tr.notrun td {{ color: #8a93a3; }}
header {{ border-bottom: 3px solid #1f4e8c; padding-bottom: 8px; margin-bottom: 12px;
          display: flex; justify-content: space-between; align-items: flex-end; }}
h1 {{ font-size: 19pt; margin: 0; color: #1f4e8c; letter-spacing: .2px; }}
h2 {{ font-size: 11pt; margin: 14px 0 6px; color: #1f4e8c; text-transform: uppercase; letter-spacing: .6px; }}
.sub {{ color: #5b6475; font-size: 9pt; }}
.hero {{ display: flex; gap: 16px; align-items: stretch; }}
.score {{ background: #f2f6fc; border-radius: 8px; padding: 10px 18px; min-width: 190px; text-align: center; }}
.score .big {{ font-size: 34pt; font-weight: 700; color: #1f4e8c; line-height: 1.1; }}
.facts {{ flex: 1; border-collapse: collapse; }}
.facts td {{ padding: 2px 6px; vertical-align: top; }}
.facts td:first-child {{ color: #5b6475; white-space: nowrap; width: 30%; }}
.verdict {{ display: inline-block; margin-top: 6px; padding: 2px 10px; border-radius: 10px; font-weight: 600; }}
.verdict.good {{ background: #e3f4e8; color: #1d6b35; }}
.verdict.bad {{ background: #fbe6e6; color: #a12a2a; }}
table.svc, table.rules {{ width: 100%; border-collapse: collapse; }}
table.svc th, table.rules th {{ text-align: left; font-size: 8.5pt; color: #5b6475; border-bottom: 1px solid #c9d1de;
  padding: 3px 6px; font-weight: 600; }}
table.svc td, table.rules td {{ padding: 3px 6px; border-bottom: 1px solid #eef1f6; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.svc, td.rule {{ font-weight: 600; white-space: nowrap; }}
.red {{ color: #a12a2a; font-weight: 700; }}
.bar {{ display: inline-block; width: 90px; height: 8px; background: #e6eaf1; border-radius: 4px;
        vertical-align: middle; margin-right: 6px; overflow: hidden; }}
.bar span {{ display: block; height: 100%; background: #3b7dd8; }}
.small {{ font-size: 8.5pt; color: #5b6475; }}
.reasons {{ margin: 0; padding-left: 18px; }}
.reasons li {{ margin: 1px 0; }}
.none {{ margin: 0; color: #1d6b35; }}
.cols {{ display: flex; gap: 18px; }}
.cols > div {{ flex: 1; }}
footer {{ margin-top: 14px; border-top: 1px solid #c9d1de; padding-top: 6px; font-size: 8pt; color: #5b6475; }}
code {{ font: 7.8pt "DejaVu Sans Mono", monospace; word-break: break-all; }}
</style></head>
<body>
<header>
  <div><h1>OPCP Conformance Statement</h1>
  <div class=sub>Open Plug&amp;Charge Protocol, {_e(spec)}</div></div>
  <div class=sub>issued {_e(_when(st.generated))}</div>
</header>
<section class=hero>
  <div class=score>
    <div class=small>overall score ({_e(st.profile)} profile)</div>
    <div class=big>{_pct(overall)}</div>
    <div class=small>coverage {cov['applicable']} of {cov['total']} checks applicable</div>
    <div class="verdict {verdict_class}">{_e(verdict_text)}</div>
  </div>
  <table class=facts>
    <tr><td>Target</td><td><b>{_e(env.get('target.name', '-'))}</b></td></tr>
    <tr><td>Base URL</td><td>{_e(env.get('target.url', '-'))}</td></tr>
    <tr><td>Services declared</td><td>{_e(', '.join(st.services()))}</td></tr>
    <tr><td>Specification</td><td>{_e(spec)}</td></tr>
    <tr><td>Conformance suite</td><td>opcp-harness {_e(env.get('suite.version', stamp.suite_version()))}</td></tr>
    <tr><td>Profile</td><td>{_e(st.profile)}{lenient}</td></tr>
    <tr><td>Run</td><td>{_e(_when(env.get('run.start', '-')))} to {_e(_when(env.get('run.end', '-')))}</td></tr>
  </table>
</section>
<h2>Score and coverage per service</h2>
<table class=svc>
  <tr><th>service</th><th class=num>score</th><th>coverage (applicable / all)</th><th class=num>passed</th>
  <th class=num>failed</th><th class=num>not applicable</th></tr>
  {''.join(rows)}
</table>
<div class=cols>
  <div><h2>Failures by rule</h2>{failures}</div>
  <div><h2>Not applicable, and why</h2>{not_applicable}</div>
</div>
<footer>
  Score = severity-weighted share of applicable checks passed (blocker 8, critical 4, normal 2, minor 1);
  checks not applicable to the target are left out of the score and counted in the coverage.
  This statement summarises the results whose SHA-256 is <code>{st.sha256}</code>
  ({len(st.outcomes)} results; recompute with <code>opcp report --statement</code> on the same results).
</footer>
</body></html>
"""


def chromium() -> str | None:
    return os.environ.get("OPCP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def print_pdf(html_file: Path, pdf_file: Path) -> None:
    browser = chromium()
    if browser is None:
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium); "
                           "it prints the PDF")
    with tempfile.TemporaryDirectory(prefix="opcp-chromium-") as profile:
        proc = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               "--no-pdf-header-footer", f"--print-to-pdf={pdf_file}",
                               html_file.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not pdf_file.exists():
        raise RuntimeError(f"chromium could not print the PDF: {proc.stderr[-500:]}")


def write(results_dir: Path, output: Path) -> int:
    try:
        st = load(results_dir)
    except ValueError as exc:
        print(f"opcp report: {exc}", file=sys.stderr)
        return 2
    output.mkdir(parents=True, exist_ok=True)
    html_file, pdf_file = output / "statement.html", output / "statement.pdf"
    html_file.write_text(render_html(st))
    print(f"conformance statement: {html_file.resolve()}")
    try:
        print_pdf(html_file, pdf_file)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"opcp report: {exc}", file=sys.stderr)
        return 2
    print(f"conformance statement: {pdf_file.resolve()} (results SHA-256 {st.sha256})")
    return 0
