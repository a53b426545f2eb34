"""Webhook events: routing, the outbox's state machine, signatures (domain level, no server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opcp.access import Role
from opcp.errors import BadRequest, NotFound
from opcp.models import check_body
from opcp.models.webhook import EVENTS, Audience
from opcp.webhook_signature import sign, signature_headers, verify
from opcp_reference.domain import events, rcp, webhooks
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from opcp_reference.server import open_reference
from simulators.webhook_receiver import Receiver
from tests.conftest import make_root

NO_FAULTS = Faults()
WHO = {
    "oem-1": Principal("oem-1", Role.OEM, wmis=("WMA", "WMB")),
    "oem-2": Principal("oem-2", Role.OEM, wmis=("WVW",)),
    "mo-1": Principal("mo-1", Role.MO, emaid_prefixes=("DEABC",)),
    "mo-2": Principal("mo-2", Role.MO, emaid_prefixes=("NLXYZ",)),
    "mo-v2g-1": Principal("mo-v2g-1", Role.MO_V2G, emaid_prefixes=("DEV2G",)),
    "cpo-1": Principal("cpo-1", Role.CPO),
    "cps-1": Principal("cps-1", Role.CPS),
}
ALL_EVENTS = list(EVENTS)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One demo ecosystem per module (its scrypt-hashed clients take a while), copied per test."""
    data = tmp_path_factory.mktemp("template") / "data"
    open_reference(data).store.close()
    return data


@pytest.fixture
def store(template: Path, tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(template, data)
    ref = open_reference(data)
    yield ref.store
    ref.store.close()


def _endpoint(store, client: str, events_: list[str] = ALL_EVENTS, status: str = "enabled") -> str:
    body = {"url": f"https://hooks.example.invalid/{client}", "enabledEvents": events_,
            "status": status}
    return webhooks.create_endpoint(store, WHO[client], body, NO_FAULTS)["id"]


def _routed(store, event_id: str | None) -> set[str]:
    if event_id is None:
        return set()
    rows = store.query("SELECT e.owner FROM webhook_deliveries d JOIN webhook_endpoints e"
                       " ON e.id = d.endpoint_id WHERE d.event_id = ?", (event_id,))
    return {r["owner"] for r in rows}


def _every_party_subscribed(store) -> None:
    for client in WHO:
        _endpoint(store, client)


# --- the event table ----------------------------------------------------------------------

def test_the_table_has_the_16_events_of_the_component_doc():
    assert len(EVENTS) == 16
    assert {e.name for e in EVENTS.values() if not e.in_json_enum} == {
        "root.cert.revoked", "mo.prov.cert.factory.reset"}
    assert {e.audience for e in EVENTS.values() if e.name.startswith("root.")} == {Audience.ALL}
    assert {e.audience for e in EVENTS.values() if e.name.startswith("mo.")} == {Audience.MO}
    assert {e.audience for e in EVENTS.values() if e.name.startswith("oem.")} == {Audience.OEM}


# --- routing ------------------------------------------------------------------------------

def test_root_events_reach_every_subscribed_endpoint(store):
    _every_party_subscribed(store)
    _endpoint(store, "cpo-1", ["root.cert.revoked"])  # subscribed to something else
    _endpoint(store, "cps-1", ["root.cert.added"], status="disabled")
    with store.tx() as db:
        event_id = events.raise_event(db, "root.cert.added", {"rootCertificateId": "x"},
                                      events.Route.everyone())
    assert _routed(store, event_id) == set(WHO)
    count = store.query_one("SELECT COUNT(*) FROM webhook_deliveries WHERE event_id = ?",
                            (event_id,))[0]
    assert count == len(WHO)  # neither the unsubscribed nor the disabled endpoint


@pytest.mark.parametrize("event_type", [n for n, e in EVENTS.items() if e.audience is Audience.OEM])
def test_oem_events_reach_the_oem_owning_the_pcids_wmi(store, event_type):
    _every_party_subscribed(store)
    with store.tx() as db:
        first = events.contract_event(db, event_type, emaid="DEABC123456789", pcid="WMB12345678901234")
        second = events.contract_event(db, event_type, emaid="DEABC123456789", pcid="wvw12345678901234")
        nobody = events.contract_event(db, event_type, emaid="DEABC123456789", pcid="XXX12345678901234")
    assert _routed(store, first) == {"oem-1"}
    assert _routed(store, second) == {"oem-2"}
    assert nobody is None
    assert store.query_one("SELECT COUNT(*) FROM webhook_events")[0] == 2


@pytest.mark.parametrize("event_type", [n for n, e in EVENTS.items() if e.audience is Audience.MO])
def test_mo_events_reach_the_mo_owning_the_emaid_prefix(store, event_type):
    _every_party_subscribed(store)
    with store.tx() as db:
        own_pki = events.contract_event(db, event_type, emaid="DE-ABC-C12345678-9",
                                        pcid="WMA12345678901234")
        v2g_pki = events.contract_event(db, event_type, emaid="dev2gc123456789",
                                        pcid="WMA12345678901234")
        nobody = events.contract_event(db, event_type, emaid="FRQQQC123456789",
                                       pcid="WMA12345678901234")
    assert _routed(store, own_pki) == {"mo-1"}
    assert _routed(store, v2g_pki) == {"mo-v2g-1"}
    assert nobody is None


def test_an_owner_not_subscribed_to_the_event_gets_nothing(store):
    _endpoint(store, "oem-1", ["oem.contract.deleted"])
    with store.tx() as db:
        assert events.contract_event(db, "oem.contract.created", emaid="DEABC123456789",
                                     pcid="WMA12345678901234") is None


def test_an_event_cannot_be_routed_to_another_audience(store):
    with pytest.raises(ValueError), store.tx() as db:
        events.raise_event(db, "oem.contract.created", {}, events.Route.everyone())


def test_the_wrong_party_fault_routes_to_everyone(store):
    _endpoint(store, "oem-1", ["oem.contract.created"])
    _endpoint(store, "oem-2", ["root.cert.added"])
    with store.tx() as db:
        event_id = events.contract_event(db, "oem.contract.created", emaid="DEABC123456789",
                                         pcid="WMA12345678901234",
                                         faults=Faults(["webhook-event-to-wrong-party"]))
    assert _routed(store, event_id) == {"oem-1", "oem-2"}


def test_payloads_are_valid_webhook_payloads(store):
    _every_party_subscribed(store)
    with store.tx() as db:
        events.contract_event(db, "mo.contract.created.sent.to.oem", emaid="DEABC123456789",
                              pcid="WMA12345678901234", contract_cert="MIIB",
                              signature_algorithm="secp256r1")
    rcp.save_root(store, {"caCertificate": base64.b64encode(make_root("T", "V2G")).decode(),
                          "rootType": "V2G"}, NO_FAULTS)
    bodies = [json.loads(bytes(r["body"])) for r in store.query("SELECT body FROM webhook_events")]
    assert {b["eventType"] for b in bodies} == {"mo.contract.created.sent.to.oem", "root.cert.added"}
    for body in bodies:
        assert check_body("WebhookPayload", body) == [], body


# --- the outbox commits with the change that caused it -----------------------------------

def test_an_event_is_not_left_behind_by_a_failed_change(store):
    _endpoint(store, "cpo-1")
    with pytest.raises(RuntimeError), store.tx() as db:
        events.raise_event(db, "root.cert.added", {}, events.Route.everyone())
        raise RuntimeError("the change failed after raising its event")
    assert store.query_one("SELECT COUNT(*) FROM webhook_events")[0] == 0
    assert store.query_one("SELECT COUNT(*) FROM webhook_deliveries")[0] == 0


def test_save_and_delete_of_a_root_raise_added_and_revoked(store):
    _endpoint(store, "cps-1", ["root.cert.added", "root.cert.revoked", "root.cert.expired"])
    saved = rcp.save_root(store, {"caCertificate": base64.b64encode(make_root("R", "MO")).decode(),
                                  "rootType": "MO"}, NO_FAULTS)["RootResponse"]
    rcp.delete_root(store, saved["rootCertificateId"])
    with pytest.raises(NotFound):
        rcp.delete_root(store, saved["rootCertificateId"])
    types = [r["event_type"] for r in store.query("SELECT event_type FROM webhook_events"
                                                  " ORDER BY created_at, rowid")]
    assert types == ["root.cert.added", "root.cert.revoked"]


def test_a_refused_root_raises_nothing(store):
    _endpoint(store, "cps-1")
    with pytest.raises(BadRequest):
        rcp.save_root(store, {"caCertificate": "bm90IGEgY2VydA==", "rootType": "V2G"}, NO_FAULTS)
    assert store.query_one("SELECT COUNT(*) FROM webhook_events")[0] == 0


def test_an_expired_root_is_announced_once(store):
    _endpoint(store, "oem-2", ["root.cert.expired"])
    now = datetime.now(UTC)
    der = make_root("Short", "V2G", days=1, not_before=now - timedelta(days=2))
    rcp.save_root(store, {"caCertificate": base64.b64encode(der).decode(), "rootType": "V2G"},
                  NO_FAULTS, now=now - timedelta(days=1, hours=12))
    assert rcp.cleanse_expired(store, now=now) >= 1
    assert rcp.cleanse_expired(store, now=now) == 0
    expired = store.query("SELECT body FROM webhook_events WHERE event_type = 'root.cert.expired'")
    assert len(expired) == 1
    assert json.loads(bytes(expired[0]["body"]))["payload"]["commonName"] == "Short"
    # The expired root left the pool with its event (RCP data cleansing, docs/components/01).
    root_id = json.loads(bytes(expired[0]["body"]))["payload"]["rootCertificateId"]
    with pytest.raises(NotFound):
        rcp.delete_root(store, root_id, now=now)
    assert store.query_one("SELECT COUNT(*) FROM webhook_events")[0] == 1


# --- the delivery state machine -----------------------------------------------------------

def _one_delivery(store) -> int:
    _endpoint(store, "cpo-1", ["root.cert.added"])
    with store.tx() as db:
        events.raise_event(db, "root.cert.added", {}, events.Route.everyone())
    return store.query_one("SELECT id FROM webhook_deliveries")["id"]


POLICY = events.RetryPolicy(3, 60)


def _record(store, delivery_id, status, policy=POLICY, error=None, now=1000.0):
    with store.tx() as db:
        return events.record_attempt(db, delivery_id, status, error, 1.0, policy, now=now)


def test_5xx_is_retried_three_times_then_failed(store):
    delivery = _one_delivery(store)
    assert [_record(store, delivery, 503) for _ in range(3)] == ["pending"] * 3
    row = store.query_one("SELECT * FROM webhook_deliveries WHERE id = ?", (delivery,))
    assert row["next_attempt"] == 1060.0 and row["attempts"] == 3
    assert _record(store, delivery, 500) == "failed"
    assert _record(store, delivery, 200) == "failed"  # a finished delivery stays finished
    assert store.query_one("SELECT COUNT(*) FROM webhook_attempts")[0] == 4


def test_timeouts_and_refused_connections_are_retried(store):
    delivery = _one_delivery(store)
    assert _record(store, delivery, None, error="no answer within 10 s") == "pending"
    assert _record(store, delivery, None, error="ClientConnectorError") == "pending"
    assert _record(store, delivery, 204) == "delivered"
    assert _record(store, delivery, 204) == "delivered"
    assert store.query_one("SELECT COUNT(*) FROM webhook_attempts")[0] == 3


def test_4xx_is_final(store):
    delivery = _one_delivery(store)
    assert _record(store, delivery, 401) == "failed"


# --- the MO's follow-ups of an oem.contract.* event ----------------------------------------

MO_FOLLOW_UPS = ["mo.contract.created.sent.to.oem", "mo.contract.queued.to.oem",
                 "mo.contract.rejected.by.oem"]


def _oem_event(store, oem_endpoints: int = 1) -> list[int]:
    """oem.contract.created toward oem-1's endpoints; mo-1 subscribed to its follow-ups."""
    for _ in range(oem_endpoints):
        _endpoint(store, "oem-1", ["oem.contract.created"])
    _endpoint(store, "mo-1", MO_FOLLOW_UPS)
    with store.tx() as db:
        event_id = events.contract_event(db, "oem.contract.created", emaid="DEABC123456789",
                                         pcid="WMA12345678901234", contract_cert="MIIB")
    return [r["id"] for r in store.query("SELECT id FROM webhook_deliveries WHERE event_id = ?"
                                         " ORDER BY id", (event_id,))]


def _told_mo(store) -> list[str]:
    rows = store.query("SELECT body FROM webhook_events WHERE event_type LIKE 'mo.%'"
                       " ORDER BY rowid")
    bodies = [json.loads(bytes(r["body"])) for r in rows]
    for body in bodies:
        assert check_body("WebhookPayload", body) == [], body
        assert body["payload"]["emaid"] == "DEABC123456789"
        assert body["payload"]["contractCert"] == "MIIB"
    return [b["eventType"] for b in bodies]


def test_the_mo_hears_sent_to_oem_only_once_the_oem_accepted(store):
    first, second = _oem_event(store, oem_endpoints=2)
    assert _told_mo(store) == []  # raising the OEM's event tells the MO nothing yet
    assert _record(store, first, 204) == "delivered"
    assert _told_mo(store) == ["mo.contract.created.sent.to.oem"]
    assert _record(store, second, 200) == "delivered"
    assert _told_mo(store) == ["mo.contract.created.sent.to.oem"]  # once per event


def test_a_retry_toward_the_oem_is_queued_once_then_sent(store):
    [delivery] = _oem_event(store)
    assert _record(store, delivery, 503) == "pending"
    assert _record(store, delivery, None, error="refused") == "pending"
    assert _told_mo(store) == ["mo.contract.queued.to.oem"]
    assert _record(store, delivery, 200) == "delivered"
    assert _told_mo(store) == ["mo.contract.queued.to.oem", "mo.contract.created.sent.to.oem"]


@pytest.mark.parametrize("refusal", [400, 409])
def test_an_oem_refusal_ends_the_action_and_the_mo_hears_rejected(store, refusal):
    [delivery] = _oem_event(store)
    assert _record(store, delivery, refusal) == "failed"
    assert _told_mo(store) == ["mo.contract.rejected.by.oem"]


def test_other_oem_errors_are_retried_then_rejected(store):
    # The table: "Action stopped in case OEM send HTTP400 or HTTP409. Otherwise retry started."
    [delivery] = _oem_event(store)
    assert [_record(store, delivery, 404) for _ in range(3)] == ["pending"] * 3
    assert _record(store, delivery, 401) == "failed"
    assert _told_mo(store) == ["mo.contract.queued.to.oem", "mo.contract.rejected.by.oem"]


def test_rejected_waits_for_every_endpoint_of_the_oem(store):
    first, second = _oem_event(store, oem_endpoints=2)
    assert _record(store, first, 409) == "failed"
    assert _told_mo(store) == []  # the second endpoint may still accept it
    assert _record(store, second, 400) == "failed"
    assert _told_mo(store) == ["mo.contract.rejected.by.oem"]


def test_faults_break_the_follow_ups(store):
    [delivery] = _oem_event(store)
    with store.tx() as db:
        assert events.record_attempt(db, delivery, 409, None, 1.0, POLICY, now=1000.0,
                                     faults=Faults(["webhook-oem-refusal-retried"])) == "pending"
    assert _told_mo(store) == ["mo.contract.queued.to.oem"]


def test_due_deliveries_skip_in_flight_and_cancel_disabled_endpoints(store):
    delivery = _one_delivery(store)
    with store.tx() as db:
        assert [d.delivery_id for d in events.due_deliveries(db, time.time(), 10)] == [delivery]
        assert events.due_deliveries(db, time.time(), 10, skip={delivery}) == []
    endpoint = store.query_one("SELECT id FROM webhook_endpoints")["id"]
    with store.tx() as db:
        db.execute("UPDATE webhook_endpoints SET status = 'disabled' WHERE id = ?", (endpoint,))
        assert events.due_deliveries(db, time.time(), 10) == []
    status = store.query_one("SELECT status FROM webhook_deliveries")["status"]
    assert status == "cancelled"


# --- endpoints --------------------------------------------------------------------------

def test_an_endpoint_is_its_creators_alone(store):
    endpoint = _endpoint(store, "oem-1")
    assert webhooks.list_endpoints(store, WHO["oem-2"], NO_FAULTS) == []
    for call in (lambda: webhooks.get_endpoint(store, WHO["oem-2"], endpoint, NO_FAULTS),
                 lambda: webhooks.delete_endpoint(store, WHO["oem-2"], endpoint, NO_FAULTS),
                 lambda: webhooks.delivery_log(store, WHO["oem-2"], endpoint, NO_FAULTS),
                 lambda: webhooks.update_endpoint(store, WHO["oem-2"], endpoint,
                                                  {"url": "https://x.example"}, NO_FAULTS)):
        with pytest.raises(NotFound):
            call()
    assert webhooks.get_endpoint(store, WHO["oem-1"], endpoint, NO_FAULTS)["url"].endswith("oem-1")


def test_the_secret_is_shown_on_create_only(store):
    created = webhooks.create_endpoint(store, WHO["mo-1"], {
        "url": "https://h.example/p", "enabledEvents": ["root.cert.added"]}, NO_FAULTS)
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 32
    assert check_body("WebhookEndpointCreated", created) == []
    shown = webhooks.get_endpoint(store, WHO["mo-1"], created["id"], NO_FAULTS)
    assert "secret" not in shown and check_body("WebhookEndpoint", shown) == []
    assert shown["providerIds"] == ["DEABC"] and shown["userRole"] == "MO"


@pytest.mark.parametrize("body,field", [
    ({"url": "https://h.example", "enabledEvents": ["root.cert.nope"]}, "enabledEvents[0]"),
    ({"url": "https://h.example", "enabledEvents": ["root.cert.added", "root.cert.added"]},
     "enabledEvents"),
    ({"url": "https://h.example", "events": ["x"]}, "events[0]"),
    ({"url": "mailto:a@b.example", "enabledEvents": ["root.cert.added"]}, "url"),
    ({"url": "https://", "enabledEvents": ["root.cert.added"]}, "url"),
    ({"url": "https://h.example:99999/", "enabledEvents": ["root.cert.added"]}, "url"),
    ({"url": "https://h.example", "enabledEvents": ["root.cert.added"], "apiVersion": "v2"},
     "apiVersion"),
    ({"url": "https://h.example", "enabledEvents": ["root.cert.added"], "description": 5},
     "description"),
    ([], "body"),
])
def test_bad_endpoints_are_refused_naming_the_field(store, body, field):
    with pytest.raises(BadRequest) as refused:
        webhooks.create_endpoint(store, WHO["cps-1"], body, NO_FAULTS)
    assert any(m.startswith(f"{field}:") for m in refused.value.messages), refused.value.messages
    assert webhooks.list_endpoints(store, WHO["cps-1"], NO_FAULTS) == []


def test_an_update_keeps_what_it_does_not_name(store):
    endpoint = _endpoint(store, "cpo-1", ["root.cert.added"])
    updated = webhooks.update_endpoint(store, WHO["cpo-1"], endpoint,
                                       {"url": "https://new.example/p", "status": "disabled"},
                                       NO_FAULTS)
    assert updated["events"] == ["root.cert.added"] and updated["status"] == "disabled"
    assert updated["url"] == "https://new.example/p"


def test_deleting_an_endpoint_drops_its_pending_deliveries(store):
    _one_delivery(store)
    endpoint = store.query_one("SELECT id FROM webhook_endpoints")["id"]
    webhooks.delete_endpoint(store, WHO["cpo-1"], endpoint, NO_FAULTS)
    assert store.query_one("SELECT COUNT(*) FROM webhook_deliveries")[0] == 0


# --- signatures -------------------------------------------------------------------------

def test_the_signature_is_hmac_sha256_of_the_raw_body():
    body = b'{"eventId":"e","eventType":"root.cert.added"}'
    expected = hmac.new(b"whsec_k", body, hashlib.sha256).hexdigest()
    assert sign("whsec_k", body) == expected
    headers = signature_headers("whsec_k", body)
    assert headers == {"X-Operator-Signature": f"sha256={expected}",
                       "X-Hubject-Signature": f"sha256={expected}",
                       "payload-signature": expected}


def test_the_receiver_accepts_only_a_matching_signature():
    body = b'{"a":1}'
    good = f"sha256={sign('s1', body)}"
    assert verify("s1", body, good)
    assert verify("s1", body, good.upper().replace("SHA256=", "sha256="))  # hex case is free
    assert not verify("s2", body, good)  # another endpoint's secret
    assert not verify("s1", body + b" ", good)  # a changed body
    assert not verify("s1", body, sign("s1", body))  # the prefix is part of the format
    assert not verify("s1", body, None)
    receiver = Receiver()
    receiver.register("h", "s1")
    assert receiver.handle("h", body, {"X-Operator-Signature": good}) == 200
    assert receiver.handle("h", body, {"X-Operator-Signature": "sha256=00"}) == 401
    assert receiver.handle("other", body, {"X-Operator-Signature": good}) == 401
    receiver.fail_next("h", 1)
    assert receiver.handle("h", body, {"X-Operator-Signature": good}) == 503
    assert [d.answered for d in receiver.deliveries("h")] == [200, 401, 503]


def test_the_request_models_accept_what_the_reference_accepts(store):
    from opcp.models.webhook import OPERATIONS

    good = {"url": "https://h.example/p?x=1", "enabledEvents": ["root.cert.added"],
            "status": "disabled", "description": "d", "metadata": {"k": "v"}, "apiVersion": "v1"}
    assert check_body("WebhookEndpointRequest", good) == []
    webhooks.create_endpoint(store, WHO["cpo-1"], good, NO_FAULTS)
    for bad in ({"url": "ftp://h.example", "enabledEvents": ["root.cert.added"]},
                {"url": "https://h.example", "enabledEvents": ["root.cert.nope"]},
                {"url": "https://h.example", "enabledEvents": []},
                {"enabledEvents": ["root.cert.added"]}):
        assert check_body("WebhookEndpointRequest", bad) != [], bad
        with pytest.raises(BadRequest):
            webhooks.create_endpoint(store, WHO["cpo-1"], bad, NO_FAULTS)
    assert set(OPERATIONS) == {"getWebhooks", "addWebhook", "getWebhook", "updateWebhook",
                               "deleteWebhook", "getWebhookDeliveries"}
