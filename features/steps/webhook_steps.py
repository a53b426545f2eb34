"""Steps of the webhook feature: endpoints over the API, events seen by a real receiver.

The suite runs `simulators.webhook_receiver` on a loopback port for the whole session; each
endpoint a scenario creates gets its own path there and its secret, so what one scenario
receives never mixes with another's. The target must be able to reach the receiver: the
embedded reference can; for another deployment the target file's `[webhook]` table says
where the receiver listens and how the deployment reaches it (docs/webhooks.md).

Waiting: a positive check waits until the expected delivery arrived; a negative one ("receives
nothing") waits a settle time after that, long enough for anything sent in the same pass
of the target's worker to have arrived too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_bdd import given, parsers, then, when

from features.support.calls import json_body, send
from features.support.context import Scenario
from features.support.contracts import ISO2, sign, v2g_root_der
from features.support.rules import checks
from features.support.setup import (
    delete_root_after,
    events_of,
    fresh_root,
    oem_as,
    operator_saves_root,
)
from features.support.webhooks import (
    ARRIVAL_TIMEOUT,
    CRUD_URL,
    create_endpoint,
    delete_after,
    pace,
    without_secret,
)
from opcp import media_types
from opcp.client import OpcpClient
from opcp.models import check_body
from opcp.models.errata import read_field
from opcp.target import Target
from opcp.webhook_signature import verify
from simulators.webhook_receiver import Receiver, ReceiverServer
from v2g import exi
from v2g.contract_data import read_installation_res

# --- the receiver and the target's pace -------------------------------------------------

def _settle(target: Target, ctx: Scenario) -> None:
    """Wait, once per scenario, for whatever else the target would send in the same pass."""
    if ctx.saved.get("settled"):
        return
    poll = pace(target, "poll_seconds")
    time.sleep(float(target.webhook.get("settle_seconds", max(0.25, 6 * poll) if poll else 2.0)))
    ctx.saved["settled"] = True


# --- endpoints ----------------------------------------------------------------------------

def _subscribed(endpoint: dict) -> object:
    # E-WH-3: payload version 1.0.0 named them enabledEvents; the response check judges the
    # form, the scenario goes on with the subscription either way.
    return read_field("WebhookEndpoint", endpoint, "events")


def _remember(scenario_ctx: Scenario, created: dict) -> None:
    """The endpoint as created, without its secret (scenario state goes into reports), and the
    secret's digest, to recognise it if a read shows it."""
    scenario_ctx.saved["endpoint"] = without_secret(created)
    scenario_ctx.saved["endpoint_secret_sha256"] = hashlib.sha256(str(created.get("secret")).encode()).hexdigest()
    scenario_ctx.saved["endpoint_owner"] = (scenario_ctx.role, scenario_ctx.party)


@given("I have created a webhook endpoint")
def i_have_an_endpoint(api: OpcpClient, scenario_ctx: Scenario):
    got = create_endpoint(api, scenario_ctx, {"url": CRUD_URL, "description": "OPCP suite",
                                              "enabledEvents": ["root.cert.added"]},
                          scenario_ctx.role, scenario_ctx.party)
    assert got.status == 201, f"creating a webhook endpoint failed: {got.status} " \
                              f"{got.response_body[:300]}"
    _remember(scenario_ctx, got.json())


@when(parsers.parse('I create a webhook endpoint for "{events}"'))
def i_create_endpoint(api: OpcpClient, scenario_ctx: Scenario, events: str):
    body = {"url": CRUD_URL, "enabledEvents": events_of(events), "description": "OPCP suite",
            "metadata": {"suite": "opcp"}}
    scenario_ctx.last = create_endpoint(api, scenario_ctx, body, scenario_ctx.role,
                                        scenario_ctx.party)
    if scenario_ctx.last.status == 201:
        _remember(scenario_ctx, scenario_ctx.last.json())


# Bad requests, by the rule they break; each names the field the error must mention.
BAD_BODIES: dict[str, dict | str] = {
    "an unknown event type": {"url": CRUD_URL, "enabledEvents": ["root.cert.exploded"]},
    "no event types": {"url": CRUD_URL, "enabledEvents": []},
    "no enabledEvents": {"url": CRUD_URL},
    "events that are not a list": {"url": CRUD_URL, "enabledEvents": "root.cert.added"},
    "no url": {"enabledEvents": ["root.cert.added"]},
    "an ftp url": {"url": "ftp://webhooks.example.invalid/in", "enabledEvents": ["root.cert.added"]},
    "a relative url": {"url": "/payload", "enabledEvents": ["root.cert.added"]},
    'status "paused"': {"url": CRUD_URL, "enabledEvents": ["root.cert.added"], "status": "paused"},
    "metadata that is a list": {"url": CRUD_URL, "enabledEvents": ["root.cert.added"],
                                "metadata": ["a"]},
    "a body that is not JSON": "{not json",
}


def _send_bad(api: OpcpClient, ctx: Scenario, operation: str, path_params: dict | None,
              case: str):
    bad = BAD_BODIES[case]
    content = bad.encode() if isinstance(bad, str) else json.dumps(bad).encode()
    send(api, ctx, operation, path_params, content=content,
         headers={"Content-Type": "application/json"})


@when(parsers.parse("I create a webhook endpoint with {case}"))
def create_bad(api: OpcpClient, scenario_ctx: Scenario, case: str):
    _send_bad(api, scenario_ctx, "addWebhook", None, case)
    if scenario_ctx.last.status == 201:  # a wrong answer must not leave litter behind
        delete_after(api, scenario_ctx, scenario_ctx.last.json()["id"], scenario_ctx.role,
                     scenario_ctx.party)


@when(parsers.parse("I update that endpoint with {case}"))
def update_bad(api: OpcpClient, scenario_ctx: Scenario, case: str):
    _send_bad(api, scenario_ctx, "updateWebhook", {"id": scenario_ctx.saved["endpoint"]["id"]}, case)


@when(parsers.parse('I update that endpoint to status "{status}" and events "{events}"'))
def update_endpoint(api: OpcpClient, scenario_ctx: Scenario, status: str, events: str):
    endpoint = scenario_ctx.saved["endpoint"]
    send(api, scenario_ctx, "updateWebhook", {"id": endpoint["id"]},
         json={"url": endpoint["url"] + "/v2", "enabledEvents": events_of(events),
               "status": status})


@when("I read that endpoint")
def read_endpoint(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getWebhook", {"id": scenario_ctx.saved["endpoint"]["id"]})


@when("I delete that endpoint")
def delete_endpoint(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "deleteWebhook", {"id": scenario_ctx.saved["endpoint"]["id"]})


@when("I read the delivery log of that endpoint")
def read_log(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getWebhookDeliveries", {"id": scenario_ctx.saved["endpoint"]["id"]})


@when("I list my webhook endpoints")
def list_endpoints(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getWebhooks")


def _count(api: OpcpClient, ctx: Scenario) -> int:
    got = api.op("getWebhooks", role=ctx.role, party=ctx.party)
    assert got.status == 200, f"listing webhook endpoints failed: {got.status} {got.response_body}"
    return len(got.json())


@given("I remember how many webhook endpoints I have")
def remember_count(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.saved["endpoint_count"] = _count(api, scenario_ctx)


@then("I have as many webhook endpoints as before")
def same_count(api: OpcpClient, scenario_ctx: Scenario):
    now = _count(api, scenario_ctx)
    assert now == scenario_ctx.saved["endpoint_count"], (
        f"I had {scenario_ctx.saved['endpoint_count']} endpoints and now have {now}: a refused "
        f"request created one")


@then("the body shows the new endpoint with its signing secret")
def shows_created(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    assert isinstance(body.get("secret"), str) and len(body["secret"]) >= 16, (
        "the create response must show the endpoint's signing secret")
    assert body["url"] == CRUD_URL and _subscribed(body) == ["root.cert.added", "root.cert.revoked"], (
        f"the endpoint is not what was asked for: {body}")
    assert body.get("status", "enabled") == "enabled", "a new endpoint is enabled by default"


def _same_secret(scenario_ctx: Scenario, body: dict) -> None:
    # docs/components/06: the secret "can be retrieved from the backend" (E-WH-8); a server
    # may show it on reads, but it must be the endpoint's own.
    if "secret" in body:
        shown = hashlib.sha256(str(body["secret"]).encode()).hexdigest()
        assert shown == scenario_ctx.saved["endpoint_secret_sha256"], (
            "a read shows a secret that is not the one given on create")


@then("the body is that endpoint, its secret if shown the one given on create")
def is_that_endpoint(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    assert body["id"] == scenario_ctx.saved["endpoint"]["id"], "another endpoint came back"
    _same_secret(scenario_ctx, body)


@then(parsers.parse('the body shows status "{status}" and events "{events}"'))
def shows_update(scenario_ctx: Scenario, status: str, events: str):
    body = json_body(scenario_ctx)
    # `status` is not a required member of an answer (E-WH-8); when shown it must be the new one.
    assert body.get("status", status) == status and _subscribed(body) == events_of(events), (
        f"the update was not applied: {body}")
    assert body["url"] == scenario_ctx.saved["endpoint"]["url"] + "/v2", "the url was not updated"


@then("that endpoint is listed, its secret if shown the one given on create")
def listed(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    mine = [e for e in body if e.get("id") == scenario_ctx.saved["endpoint"]["id"]]
    assert len(mine) == 1, "the endpoint is not in its owner's list"
    _same_secret(scenario_ctx, mine[0])


@then("that endpoint is not listed")
def not_listed(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    assert isinstance(body, list), f"the list is not a JSON array: {body}"
    ids = [e.get("id") for e in body]
    assert scenario_ctx.saved["endpoint"]["id"] not in ids, (
        "another party's endpoint is listed to me")


@then("the deleted endpoint is no longer listed")
@checks("WH-LISTING-CURRENT")
def deleted_not_listed(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    assert isinstance(body, list), f"the list is not a JSON array: {body}"
    assert scenario_ctx.saved["endpoint"]["id"] not in [e.get("id") for e in body], (
        "the deleted endpoint is still listed, though reading it answers 404")


@then("that endpoint is unchanged")
def unchanged(api: OpcpClient, scenario_ctx: Scenario):
    endpoint = scenario_ctx.saved["endpoint"]
    role, party = scenario_ctx.saved["endpoint_owner"]
    got = api.op("getWebhook", {"id": endpoint["id"]}, role=role, party=party)
    assert got.status == 200, f"the endpoint is gone: {got.status} {got.response_body[:300]}"
    now = got.json()
    for key in ("url", "events", "status"):
        was, is_ = (read_field("WebhookEndpoint", e, key) for e in (endpoint, now))
        assert is_ == was, f"{key} changed from {was!r} to {is_!r}"


# --- events ----------------------------------------------------------------------------

@when(parsers.parse('the operator adds a fresh "{root_type}" root'))
def operator_adds_root(api: OpcpClient, scenario_ctx: Scenario, root_type: str):
    fresh_root(api, scenario_ctx, root_type)


@when(parsers.re(r"the operator adds a root that expires in (?P<seconds>\d+) seconds?$"),
      converters={"seconds": int})
def operator_adds_short_root(api: OpcpClient, scenario_ctx: Scenario, seconds: int):
    check = pace(api.target, "expiry_check_seconds")
    if check is None or check > 10:
        pytest.skip("not applicable: the target file's [webhook] expiry_check_seconds is not "
                    "given or longer than 10 s")
    der = _short_lived_root(f"Suite Expiring Root {uuid.uuid4().hex[:8]}", seconds)
    got = operator_saves_root(api, der, "V2G", "a V2G root")
    assert got.status in (200, 201), f"the operator could not add the root: {got.status} " \
                                     f"{got.response_body[:300]}"
    root_id = got.json()["RootResponse"]["rootCertificateId"]
    scenario_ctx.saved.update(root_id=root_id, expires_in=seconds + check, root_type="V2G",
                              fingerprint=hashlib.sha256(der).hexdigest())
    delete_root_after(api, scenario_ctx, root_id)


def _short_lived_root(cn: str, seconds: int) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Suite"),
                      x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "V2G"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(seconds=seconds))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


@given(parsers.parse('the receiver answers {status:d} to the next {count:d} deliveries to '
                     'endpoint "{label}"'))
def receiver_fails(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer,
                   status: int, count: int, label: str):
    webhook_receiver.receiver.fail_next(scenario_ctx.saved["hooks"][label]["hook"], count, status)


@given("the target retries failed deliveries within seconds")
def fast_retries(api: OpcpClient):
    interval, retries = pace(api.target, "retry_seconds"), pace(api.target, "retries")
    if interval is None or retries is None or interval > 5:
        pytest.skip("not applicable: the target file's [webhook] retry_seconds and retries are "
                    "not given, or retries come more than 5 s apart")


# --- what a delivery is about: "that root" (the scenario's root) or "that contract" ------
# A contract is the scenario's latest EMAID for its vehicle (features/support/contracts.py).

def _subject(ctx: Scenario, kind: str) -> dict:
    if kind == "root":
        return {"rootCertificateId": ctx.saved["root_id"]}
    return {"emaid": ctx.saved["emaids"][-1], "pcid": ctx.saved["vehicle"].pcid}


def _normal(key: str, value: object) -> object:
    # The spec's normal form of EMAIDs (no hyphens, upper case) is compared, not the spelling.
    return str(value).replace("-", "").upper() if key == "emaid" else value


def _about(delivery, subject: dict, event_type: str | None = None) -> bool:
    try:
        body = delivery.json()
    except ValueError:
        return False
    if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
        return False
    if event_type is not None and body.get("eventType") != event_type:
        return False
    return all(_normal(k, body["payload"].get(k)) == _normal(k, v) for k, v in subject.items())


def _mentions(delivery, subject: dict) -> bool:
    """Anything naming the subject, valid payload or not (for "receives nothing"): the root's
    id, or the contract's EMAID or its vehicle's PCID (both unique to the scenario)."""
    return any(str(v).encode() in delivery.body for v in subject.values())


def _hook(ctx: Scenario, label: str) -> dict:
    return ctx.saved["hooks"][label]


def _timeout(target: Target, ctx: Scenario) -> float:
    return ARRIVAL_TIMEOUT + float(ctx.saved.get("expires_in", 0)) + 4 * float(
        pace(target, "retry_seconds") or 0)


COUNTS = {"one": 1, "two": 2, "three": 3}


@then(parsers.re(r'endpoint "(?P<label>[^"]+)" receives exactly (?P<count>one|two|three) '
                 r'"(?P<event_type>[a-z.]+)" events? about that (?P<kind>root|contract)$'))
def receives_exactly(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer,
                     label: str, count: str, event_type: str, kind: str):
    receiver: Receiver = webhook_receiver.receiver
    hook, subject, wanted = _hook(scenario_ctx, label)["hook"], _subject(scenario_ctx, kind), COUNTS[count]

    def accepted(ds) -> list:
        return [d for d in ds if d.hook == hook and d.accepted and _about(d, subject, event_type)]

    def refused(ds) -> list:  # 4xx is final: no point in waiting for a retry
        return [d for d in ds if d.hook == hook and 400 <= d.answered < 500
                and _about(d, subject, event_type)]

    arrived = receiver.wait_for(lambda ds: len(accepted(ds)) >= wanted or refused(ds),
                                _timeout(api.target, scenario_ctx))
    arrived = arrived and len(accepted(receiver.deliveries(hook))) >= wanted
    seen = receiver.deliveries(hook)
    assert arrived, (
        f"endpoint {label!r} got {len(accepted(seen))} accepted {event_type} events about {kind} "
        f"{subject}, expected {wanted}; it got {len(seen)} deliveries: " + "; ".join(
            f"answered {d.answered}: {d.body[:160]!r}" for d in seen[:5]))
    _settle(api.target, scenario_ctx)
    got = accepted(receiver.deliveries(hook))
    ids = {d.json()["eventId"] for d in got}
    assert len(got) == wanted and len(ids) == wanted, (
        f"endpoint {label!r} received the {event_type} event {len(got)} times (eventIds "
        f"{sorted(ids)}), expected {wanted} distinct event(s), each delivered once")
    scenario_ctx.saved.setdefault("received", {})[label] = got[-1]
    scenario_ctx.saved.setdefault("expected", {}).setdefault(label, []).extend(got)


def _unexpected(api: OpcpClient, ctx: Scenario, server: ReceiverServer, label: str, kind: str,
                expected: list) -> list:
    """Deliveries to the endpoint that mention the subject, other than `expected` ones."""
    _settle(api.target, ctx)
    hook, subject = _hook(ctx, label)["hook"], _subject(ctx, kind)
    known = {id(d) for d in expected}
    return [d for d in server.receiver.deliveries(hook)
            if _mentions(d, subject) and id(d) not in known]


@then(parsers.re(r'endpoint "(?P<label>[^"]+)" receives nothing about that '
                 r'(?P<kind>root|contract)$'))
def receives_nothing(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer,
                     label: str, kind: str):
    got = _unexpected(api, scenario_ctx, webhook_receiver, label, kind, [])
    assert not got, (f"endpoint {label!r} must not receive events about {kind} "
                     f"{_subject(scenario_ctx, kind)}, but got "
                     + "; ".join(repr(d.body[:200]) for d in got))


@then(parsers.re(r'endpoint "(?P<label>[^"]+)" received nothing else about that '
                 r'(?P<kind>root|contract)$'))
def nothing_else(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer,
                 label: str, kind: str):
    """Every delivery about the subject is one of the events the scenario already expected."""
    extra = _unexpected(api, scenario_ctx, webhook_receiver, label, kind,
                        scenario_ctx.saved.get("expected", {}).get(label, []))
    assert not extra, (f"endpoint {label!r} received more about {kind} "
                       f"{_subject(scenario_ctx, kind)} than expected: "
                       + "; ".join(repr(d.body[:200]) for d in extra))


@then(parsers.parse('the event endpoint "{label}" received is signed with its secret'))
def signed(scenario_ctx: Scenario, webhook_receiver: ReceiverServer, label: str):
    delivery = scenario_ctx.saved["received"][label]
    secret = webhook_receiver.receiver.secret(_hook(scenario_ctx, label)["hook"])
    header = delivery.headers.get("X-Operator-Signature")
    assert header, "the delivery has no X-Operator-Signature header"
    assert verify(secret, delivery.body, header), (
        "X-Operator-Signature is not sha256=<HMAC-SHA256 of the raw body under the endpoint's "
        "secret>")


@then(parsers.parse('the event endpoint "{label}" received is a valid "{model}" describing '
                    'that root'))
def payload_valid(api: OpcpClient, scenario_ctx: Scenario, label: str, model: str):
    delivery = scenario_ctx.saved["received"][label]
    assert media_types.is_json(delivery.headers.get("Content-Type")), (
        "the delivery's Content-Type is not application/json")
    body = delivery.json()
    problems = check_body(model, body)
    assert not problems, f"the delivered body is not a valid {model}:\n" + "\n".join(problems)
    # Compared with what the operator saved: a revoked root is no longer in the pool to ask.
    payload, saved = body["payload"], scenario_ctx.saved
    assert payload["rootType"] == saved["root_type"], (
        f"rootType is {payload['rootType']!r}, the root was saved as {saved['root_type']!r}")
    if "fingerprintSHA256" in payload:
        assert payload["fingerprintSHA256"].lower() == saved["fingerprint"], (
            "fingerprintSHA256 is not the SHA-256 of the root's certificate")


@then(parsers.parse('the event endpoint "{label}" received is a valid "{model}" describing '
                    'that contract'))
def contract_payload_valid(scenario_ctx: Scenario, label: str, model: str):
    delivery = scenario_ctx.saved["received"][label]
    body = delivery.json()
    problems = check_body(model, body)
    assert not problems, f"the delivered body is not a valid {model}:\n" + "\n".join(problems)
    subject = _subject(scenario_ctx, "contract")
    assert _about(delivery, subject), (
        f"the payload names {body['payload']}, not the contract {subject}")
    assert body["xsdMsgDefNamespace"] == ISO2, (
        f"xsdMsgDefNamespace is {body['xsdMsgDefNamespace']!r}; the contract is ISO 15118-2")


def _der_of(value: str) -> bytes:
    """contractCert: base64 of DER (its pattern) or of PEM (its description)."""
    raw = base64.b64decode(value, validate=True)
    if raw.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(raw).public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_certificate(raw).public_bytes(serialization.Encoding.DER)


@then(parsers.parse('the event endpoint "{label}" received names the contract\'s certificate'
                    ' and its CPS signer\'s V2G root where it carries them'))
@checks("WH-CONTRACT-PAYLOAD")
def contract_payload_content(api: OpcpClient, scenario_ctx: Scenario, label: str):
    """webhook.payload.v1.json (PCID EMAID payload): contractCert, cpsSignerRootFingerprint and
    cpsSignerRootCommonName are optional; present, they describe the contract signed."""
    payload = scenario_ctx.saved["received"][label].json()["payload"]
    signed = scenario_ctx.saved["signed"]
    xml = base64.b64decode(signed["signedData"]).decode("utf-8")
    res, _ = read_installation_res(exi.xml_to_exi(xml))
    if "contractCert" in payload:
        try:
            got = _der_of(payload["contractCert"])
        except ValueError as exc:
            raise AssertionError(f"contractCert is no base64 certificate (DER or PEM): {exc}"
                                 ) from None
        assert got == res.contract_signature_cert_chain.certificate, (
            "contractCert is not the contract certificate of the signed contract data")
    root_ref = signed["cpsV2GRootCertificateFingerprint"]
    root = x509.load_der_x509_certificate(v2g_root_der(api, root_ref))
    if "cpsSignerRootFingerprint" in payload:
        named = payload["cpsSignerRootFingerprint"].replace(":", "").lower()
        sha256 = hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).hexdigest()
        assert named in (sha256, root_ref.replace(":", "").lower()), (
            f"cpsSignerRootFingerprint {payload['cpsSignerRootFingerprint']!r} names neither the"
            f" SHA-256 nor the RCP id of the V2G root the contract was signed under ({root_ref})")
    if "cpsSignerRootCommonName" in payload:
        cn = root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert payload["cpsSignerRootCommonName"] == cn, (
            f"cpsSignerRootCommonName is {payload['cpsSignerRootCommonName']!r}, the V2G root the"
            f" contract was signed under is {cn!r}")


@then(parsers.parse('endpoint "{later}" heard it after endpoint "{earlier}" accepted its event'))
def heard_after(scenario_ctx: Scenario, later: str, earlier: str):
    """A follow-up reports an outcome: it cannot leave before the outcome happened."""
    first, then_ = scenario_ctx.saved["received"][earlier], scenario_ctx.saved["received"][later]
    assert then_.at >= first.at, (
        f"endpoint {later!r} was told {then_.json()['eventType']} {first.at - then_.at:.3f} s "
        f"before endpoint {earlier!r} accepted {first.json()['eventType']}")


@when("the MO signs that contract again")
def sign_again(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.role, scenario_ctx.party = "MO", 0
    sign(api, scenario_ctx, scenario_ctx.saved["emaids"][-1])


def _log_entry(api: OpcpClient, ctx: Scenario, label: str, event_type: str) -> dict | None:
    hook = _hook(ctx, label)
    got = api.op("getWebhookDeliveries", {"id": hook["id"]}, role=hook["role"],
                 party=hook["party"])
    assert got.status == 200, f"reading the delivery log failed: {got.status} {got.response_body}"
    problems = check_body("WebhookDeliveries", got.json())
    assert not problems, "the delivery log is not a valid WebhookDeliveries:\n" + "\n".join(problems)
    entries = [d for d in got.json()["deliveries"] if d["eventType"] == event_type]
    assert len(entries) <= 1, f"the log holds {len(entries)} {event_type} deliveries, not one"
    return entries[0] if entries else None


@then(parsers.parse('the delivery log of endpoint "{label}" shows the "{event_type}" event '
                    '{outcome} after {attempts:d} attempts'))
def log_shows(api: OpcpClient, scenario_ctx: Scenario, label: str, event_type: str, outcome: str,
              attempts: int):
    interval = pace(api.target, "retry_seconds") or 0
    deadline = time.monotonic() + ARRIVAL_TIMEOUT + attempts * interval
    entry = _log_entry(api, scenario_ctx, label, event_type)
    while (entry is None or entry["status"] == "pending") and time.monotonic() < deadline:
        time.sleep(0.1)
        entry = _log_entry(api, scenario_ctx, label, event_type)
    assert entry is not None, f"the delivery log holds no {event_type} delivery"
    assert entry["status"] == outcome and entry["attempts"] == attempts, (
        f"expected {outcome} after {attempts} attempts, the log says {entry['status']} after "
        f"{entry['attempts']}: {entry['log']}")
    assert [a["attempt"] for a in entry["log"]] == list(range(1, attempts + 1)), (
        f"the log does not list attempts 1..{attempts}: {entry['log']}")


@then(parsers.re(r'endpoint "(?P<label>[^"]+)" was called (?P<count>\d+) times about that '
                 r'(?P<kind>root|contract)(?: for (?P<events>\d+) events)?$'),
      converters={"count": int})
def called_times(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer,
                 label: str, count: int, kind: str, events: str | None):
    """Every call about the subject, accepted or not, carrying `events` distinct events (one
    unless said); a retry repeats its event's body, eventId included, byte for byte."""
    _settle(api.target, scenario_ctx)
    hook, subject = _hook(scenario_ctx, label)["hook"], _subject(scenario_ctx, kind)
    got = [d for d in webhook_receiver.receiver.deliveries(hook) if _mentions(d, subject)]
    assert len(got) == count, (f"endpoint {label!r} was called {len(got)} times, expected {count}: "
                               + ", ".join(f"{d.answered} {d.json().get('eventType')}" for d in got))
    bodies: dict[str, bytes] = {}
    for d in got:
        assert bodies.setdefault(d.json()["eventId"], d.body) == d.body, (
            "a retry must repeat the event's body and eventId exactly")
    assert len(bodies) == int(events or 1), (
        f"the calls carried {len(bodies)} distinct eventIds, expected {events or 1}: retries "
        "must repeat the same eventId")


@when("I publish the same PCID again with its key pair unchanged")
def publish_same_key(scenario_ctx: Scenario):
    oem = oem_as(scenario_ctx, scenario_ctx.role, scenario_ctx.party)
    scenario_ctx.last = oem.put_provisioning(oem.provisioning_body(scenario_ctx.saved["pcid"]))
