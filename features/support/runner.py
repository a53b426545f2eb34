"""Session plumbing of the suite: the target, the client, applicability, Allure labels
and attachments.

Service tags on a feature (`@rcp`, `@auth`, ...) say which service it checks: a target that
does not declare that service gets the scenario reported as *not applicable* (skipped with
that reason), never passed. Severity tags (`@blocker`, `@critical`, `@normal`, `@minor`)
become Allure severities.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import allure
import httpx
import pytest

from features.support.rules import rule_of
from opcp import certsummary, preflight, results, stamp
from opcp.client import OpcpClient, pretty
from opcp.models import check_response_profiled, operation_for
from opcp.rules import COMPATIBILITY, CONFORMANCE, KINDS, RULES
from opcp.target import SERVICES, Target, load

SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")
NOT_APPLICABLE = "not applicable"


class TargetHooks:
    @pytest.hookspec(firstresult=True)
    def pytest_opcp_embedded_target(self, config: pytest.Config):
        """A context manager that starts an embedded deployment and yields its target file.

        Implemented by the reference's plugin (`opcp_reference.suite_plugin`); the suite
        itself never imports the reference."""

    @pytest.hookspec(firstresult=True)
    def pytest_opcp_wrap_target(self, config: pytest.Config, target_file: Path):
        """A context manager that puts something between the suite and the target (e.g. a
        proxy that answers in a conformant variant) and yields the target file to use, or
        None to talk to the target directly."""

    @pytest.hookspec(firstresult=True)
    def pytest_opcp_peer_outage(self, config: pytest.Config, kind: str):
        """A context manager during which the target's peer ecosystem is `down` (refuses
        connections) or `slow` (never answers) as the target sees it; it yields the peer's
        name. Implemented for the embedded reference (`opcp_reference.suite_plugin`); None
        when the suite cannot do that to the target's peer."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(TargetHooks)


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    with contextlib.ExitStack() as stack:
        path = request.config.getoption("--target")
        if not path:
            embedded = request.config.hook.pytest_opcp_embedded_target(config=request.config)
            if embedded is None:
                raise pytest.UsageError("no --target given and no embedded deployment is available")
            path = stack.enter_context(embedded)
        wrapped = request.config.hook.pytest_opcp_wrap_target(config=request.config,
                                                              target_file=Path(path))
        if wrapped is not None:
            path = stack.enter_context(wrapped)
        yield _preflighted(request.config, load(path))


_PREFLIGHT_FAILED = pytest.StashKey[preflight.Preflight]()


def _preflighted(config: pytest.Config, target: Target, *, midway: bool = False) -> Target:
    """Before the first scenario: the preflight. When it fails, its one verdict is recorded
    (Allure result, JUnit entry) and the run stops with exit code 2: one root cause must not
    show as one failure per scenario. Run again (`midway`) when scenarios in a row could not
    reach the target: a target that went away stops the run the same way."""
    report = preflight.run(target, midway=midway)
    results_dir = getattr(config.option, "allure_report_dir", None)
    if results_dir:
        results.write_preflight(Path(results_dir), report)
    if not report.ok:
        config.stash[_PREFLIGHT_FAILED] = report
        pytest.exit(report.message(), returncode=2)
    return target


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After the JUnit writer: a failed preflight is the run's one JUnit entry. And every
    failure's message is cut to its rule and cause, the replay moving to its trace, so the
    report's categories group failures by rule and cause, not by curl commands."""
    results_dir = getattr(session.config.option, "allure_report_dir", None)
    if results_dir and Path(results_dir).is_dir():
        results.tidy(Path(results_dir))
    report = session.config.stash.get(_PREFLIGHT_FAILED, None)
    junit = getattr(session.config.option, "xmlpath", None)
    if report is not None and junit:
        Path(junit).write_text(results.preflight_junit(report))


@pytest.fixture(scope="session")
def run_stamp(request: pytest.FixtureRequest, target: Target, record_testsuite_property):
    """Stamps the run in the JUnit properties and the Allure environment."""
    profile = request.config.getoption("--profile")
    started = stamp.now()
    yield
    values = stamp.stamp(profile, target.name, target.base_url, started, stamp.now(), target.services)
    for key, value in values.items():
        record_testsuite_property(key, value)
    results = getattr(request.config.option, "allure_report_dir", None)
    if results:
        Path(results).mkdir(parents=True, exist_ok=True)
        (Path(results) / "environment.properties").write_text(
            "".join(f"{k}={v}\n" for k, v in values.items()))
        (Path(results) / "categories.json").write_text(json.dumps(CATEGORIES, indent=2))


# Allure categories: failures sorted by the rule they break (Allure then groups each rule's
# failures by their message, which `results.tidy` cuts to the cause); verdicts whose rule is
# not in the table fall back to their axis and kind (the prefix every verdict carries).
CATEGORIES = [
    {"name": f"{rule.id}: {rule.text} ({rule.axis}/{rule.kind})", "matchedStatuses": ["failed", "broken"],
     "messageRegex": rf"(?s).*\[{rule.axis}/{rule.kind}\] {re.escape(rule.id)} .*"}
    for rule in RULES.values()
] + [
    {"name": f"{axis.capitalize()}: {kind}", "matchedStatuses": ["failed", "broken"],
     "messageRegex": rf"(?s).*\[{axis}/{kind}\] (?!(?:{'|'.join(re.escape(r) for r in RULES)}) ).*"}
    for axis in (CONFORMANCE, COMPATIBILITY) for kind in KINDS
] + [{"name": "Preflight: the target could not be tested", "matchedStatuses": ["broken"],
      "messageRegex": "(?s).*preflight failed.*"},
     {"name": "Compatibility warnings (lenient profile)", "matchedStatuses": ["skipped"],
      "messageRegex": "(?s).*warning: \\[compatibility.*"},
     {"name": "Not applicable to the target", "matchedStatuses": ["skipped"],
      "messageRegex": "(?s).*not applicable.*"}]


@pytest.fixture(scope="session")
def api(target: Target) -> OpcpClient:
    client = OpcpClient(target)
    yield client
    client.close()


SCENARIO_RULE = "__opcp_scenario_rule__"


def pytest_configure(config) -> None:
    # Service and severity tags are read by the suite itself, and are pytest marks too, so
    # `-m` (opcp check --tags) selects by them; registered here, from the same tables.
    for tag in (*SERVICES, *SEVERITIES):
        config.addinivalue_line("markers", f"{tag}: scenarios tagged @{tag}")


def pytest_bdd_apply_tag(tag: str, function) -> bool | None:
    # `@rule:ID` names the rule a whole scenario checks; it is no pytest mark.
    if tag.startswith("rule:"):
        setattr(function, SCENARIO_RULE, RULES[tag.removeprefix("rule:")])
        return True
    return None


def pytest_collection_modifyitems(config, items) -> None:
    """In the lenient profile a compatibility finding is a warning, not a failure."""
    if config.getoption("--profile") != "lenient":
        return
    for item in items:
        rule = getattr(getattr(item, "function", None), SCENARIO_RULE, None)
        if rule is not None and rule.axis == COMPATIBILITY:
            item.add_marker(pytest.mark.xfail(reason=f"warning: {rule.label()}", strict=False))


def _service_of(feature, scenario) -> str | None:
    """A scenario's own service tag wins over its feature's."""
    for tags in (scenario.tags, feature.tags):
        found = [s for s in SERVICES if s in tags]
        if found:
            return found[0]
    return None


def pytest_bdd_before_scenario(request, feature, scenario) -> None:
    tags = set(feature.tags) | set(scenario.tags)
    service = _service_of(feature, scenario)
    if service:
        allure.dynamic.epic(service.upper())
    allure.dynamic.feature(feature.name)
    scenario_rule = getattr(request.node.function, SCENARIO_RULE, None)
    allure.dynamic.label("axis", scenario_rule.axis if scenario_rule else CONFORMANCE)
    if scenario_rule:
        allure.dynamic.label("rule", scenario_rule.id)
    allure.dynamic.story(scenario.name)
    allure.dynamic.title(title(scenario.name))
    severity = next((s for s in SEVERITIES if s in tags), "normal")
    allure.dynamic.severity(allure.severity_level[severity.upper()])
    for tag in sorted(tags - set(SERVICES) - set(SEVERITIES)):
        allure.dynamic.tag(tag)
    target: Target = request.getfixturevalue("target")
    if service and not target.implements(service):
        pytest.skip(f"{NOT_APPLICABLE}: the target does not declare the {service} service")
    request.getfixturevalue("run_stamp")
    api: OpcpClient = request.getfixturevalue("api")
    request.node.stash[_FIRST_EXCHANGE] = request.node.stash[_ATTACHED] = len(api.exchanges)


def title(name: str) -> str:
    """A scenario's name with the article its example value needs ("an expired token")."""
    return re.sub(r"\ba (?=[aeio]|u(?!ni|s|u))", "an ", name)


_FIRST_EXCHANGE = pytest.StashKey[int]()
_ATTACHED = pytest.StashKey[int]()


_STEP_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_after_step(request, feature, scenario, step, step_func, step_func_args) -> None:
    """The exchanges a step made go under that step in the report (before Allure closes it)."""
    _attach_exchanges(request)


def pytest_bdd_after_scenario(request, feature, scenario) -> None:
    if not request.node.stash.get(_STEP_FAILED, False):
        request.config.stash[_UNREACHED] = 0
    _attach_exchanges(request)  # what hooks and cleanups sent after the last step
    exchanges = _scenario_exchanges(request)
    _record_coverage(request, feature, scenario, exchanges)
    if request.node.stash.get(_STEP_FAILED, False):
        return  # the step's own failure is the verdict; don't mask it
    profile = request.config.getoption("--profile")
    forgiven = []
    for exchange in exchanges:
        problems, findings = check_response_profiled(
            exchange.method, urlsplit(exchange.url).path, exchange.status,
            exchange.response_headers.get("content-type", ""), exchange.response.content, profile)
        rule = RULES["API-ERRATUM"] if findings else RULES["API-MODEL"]
        if problems:
            raise AssertionError(verdict(rule, "the response does not conform to the API model: "
                                         + "; ".join(problems), exchange))
        forgiven += findings
    if forgiven:
        # The target followed another reading the spec supports (an erratum): it passes, in
        # both profiles; the report names the erratum as a note.
        notes = sorted(set(forgiven))
        allure.dynamic.label("erratum", ", ".join(sorted({n.split(":")[0] for n in notes})))
        allure.attach("\n".join(notes), name=f"note: {RULES['API-ERRATUM'].label()}",
                      attachment_type=allure.attachment_type.TEXT)


_UNREACHED = pytest.StashKey[int]()
UNREACHED_LIMIT = 3  # scenarios in a row that could not reach the target before it is checked again


def _count_unreached(request, exception) -> None:
    config = request.config
    if not isinstance(exception, httpx.TransportError):
        config.stash[_UNREACHED] = 0
        return
    config.stash[_UNREACHED] = config.stash.get(_UNREACHED, 0) + 1
    if config.stash[_UNREACHED] >= UNREACHED_LIMIT:
        config.stash[_UNREACHED] = 0
        _preflighted(config, request.getfixturevalue("target"), midway=True)


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args,
                          exception) -> None:
    """Name the rule the failed step checks, and how to replay the exchange."""
    request.node.stash[_STEP_FAILED] = True
    _count_unreached(request, exception)
    _attach_exchanges(request)
    exchanges = _scenario_exchanges(request)
    if not isinstance(exception, AssertionError):
        return
    rule = rule_of(step_func)
    scenario_rule = getattr(request.node.function, SCENARIO_RULE, None)
    if scenario_rule is not None and (rule is None or rule.id.startswith("API-")):
        rule = scenario_rule
    rule = rule or RULES["API-STATUS"]
    allure.dynamic.label("rule", rule.id)
    last = exchanges[-1] if exchanges else None
    target = request.getfixturevalue("target")
    exception.args = (verdict(rule, str(exception), last, target),)
    if last is not None:
        note = [] if request.config.getoption("--target") else [
            f"# the embedded reference of this run ({target.base_url}) stopped with the run: replay "
            "against `opcp serve` (same port: --port) or `opcp check --target`'s deployment"]
        allure.attach("\n".join([*note, reproducer(last, target)]), name="reproducer",
                      attachment_type=allure.attachment_type.TEXT)


def _record_coverage(request, feature, scenario, exchanges) -> None:
    """One line per scenario: which operations it called, as which role, with what answer
    (read by `opcp coverage` to write docs/coverage.md)."""
    results = getattr(request.config.option, "allure_report_dir", None)
    if not results:
        return
    calls = []
    for exchange in exchanges:
        op = operation_for(exchange.method, urlsplit(exchange.url).path)
        if op is not None:
            calls.append([op.name, exchange.role or "token", exchange.status])
    rule = getattr(request.node.function, SCENARIO_RULE, None)
    line = {"feature": feature.name, "scenario": request.node.name, "title": scenario.name,
            "rule": rule.id if rule else None, "calls": calls}
    Path(results).mkdir(parents=True, exist_ok=True)
    with open(Path(results) / "coverage.jsonl", "a") as fh:
        fh.write(json.dumps(line) + "\n")


def verdict(rule, message: str, exchange, target: Target | None = None) -> str:
    lines = [f"{rule.label()}: {message}"]
    if exchange is not None:
        op = operation_for(exchange.method, urlsplit(exchange.url).path)
        if op is not None:
            lines.append(f"operation: {op.name} ({op.spec_ref})")
        lines.append(f"reproduce: {curl(exchange, target)}")
    return "\n".join(lines)


def curl(exchange, target: Target | None = None) -> str:
    """The exchange's curl command, with the target's TLS files (`--cacert`, `--cert`)."""
    return with_tls(exchange.curl(), target)


def with_tls(command: str, target: Target | None) -> str:
    tls = []
    if target is not None and target.tls.ca_bundle:
        tls += ["--cacert", shlex.quote(target.tls.ca_bundle)]
    if target is not None and not target.tls.verify:
        tls.append("--insecure")
    if target is not None and target.tls.client_cert:
        tls += ["--cert", shlex.quote(target.tls.client_cert)]
        if target.tls.client_key:
            tls += ["--key", shlex.quote(target.tls.client_key)]
    return command.replace("curl ", "curl " + "".join(f"{t} " for t in tls), 1) if tls else command


def token_curl(exchange, target: Target | None) -> list[str]:
    """How to get the `$OPCP_TOKEN` the replay sends: the token request of a client of the
    same role, its secret read from an environment variable (never printed)."""
    if target is None or exchange.role in (None, "anonymous", "token"):
        return ["# this request carries no token of a role; it replays as it is"]
    client = target.client(exchange.role)
    if client is None:
        return [f"# set OPCP_TOKEN to a token of role {exchange.role}"]
    body = json.dumps({"client_id": client.client_id, "client_secret": "SECRET",
                       "audience": target.audience, "grant_type": "client_credentials"},
                      separators=(",", ":"))
    # Single-quoted for the shell, except the secret, which the shell fills in.
    body = "'" + body.replace('"SECRET"', '"\'"$OPCP_CLIENT_SECRET"\'"') + "'"
    token = with_tls(f"curl -sS -X POST {shlex.quote(target.token_url)} "
                     f"-H 'Content-Type: application/json' --data-binary {body}", target)
    return [f"# 1. a token of role {exchange.role}: put the secret of client {client.client_id} "
            "(target file / clients.json) in OPCP_CLIENT_SECRET, then",
            f"export OPCP_TOKEN=$({token} | python3 -c "
            "'import json,sys;print(json.load(sys.stdin)[\"access_token\"])')",
            "# 2. the request:"]


def reproducer(exchange, target: Target | None = None) -> str:
    """A copy-pasteable replay of the failing exchange, with how to get its token and what
    it got back."""
    text = [*token_curl(exchange, target), curl(exchange, target), "",
            f"# answered {exchange.status}:", exchange.response_body[:4000]]
    text += exi_views(exchange)
    return "\n".join(text)


def exi_views(exchange) -> list[str]:
    """Decoded XML beside base64 EXI payloads, once the EXI codec is available."""
    try:
        from v2g.exi import exi_to_xml
    except ImportError:
        return []
    views = []
    for body in (exchange.request_body, exchange.response_body):
        for value in _base64_strings(body):
            try:
                xml = exi_to_xml(base64.b64decode(value))
            except Exception:  # noqa: BLE001 - not EXI after all: nothing to show
                continue
            views += ["", "# EXI payload decoded:", xml]
    return views


def _base64_strings(body: str) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return []
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and len(node) > 40 and node[:1] == "g":
            found.append(node)  # EXI streams start 0x80 (base64 "g")

    walk(data)
    return found


def _scenario_exchanges(request) -> list:
    start = request.node.stash.get(_FIRST_EXCHANGE, None)
    if start is None:
        return []
    return request.getfixturevalue("api").exchanges[start:]


def _attach_exchanges(request) -> list:
    """Attach the exchanges not attached yet, to the step (or scenario) open now."""
    start = request.node.stash.get(_ATTACHED, None)
    if start is None:
        return []
    api: OpcpClient = request.getfixturevalue("api")
    new = api.exchanges[start:]
    for exchange in new:
        path = exchange.url.split("://", 1)[-1].split("/", 1)[-1]
        allure.attach(
            exchange.text().replace(exchange.response_body, pretty(exchange.response_body)),
            name=f"{exchange.method} /{path} -> {exchange.status}",
            attachment_type=allure.attachment_type.TEXT,
        )
        for label, body in (("request", exchange.request_body), ("response", exchange.response_body)):
            summary = certsummary.summaries(body)
            if summary:
                allure.attach(summary, name=f"certificates in the {label} of {exchange.method} /{path}",
                              attachment_type=allure.attachment_type.TEXT)
        decoded = exi_views(exchange)
        if decoded:
            allure.attach("\n".join(decoded).strip(), name=f"EXI decoded: {exchange.method} /{path}",
                          attachment_type=allure.attachment_type.XML)
    request.node.stash[_ATTACHED] = len(api.exchanges)
    return new
