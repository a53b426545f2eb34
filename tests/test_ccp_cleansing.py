"""CCP data cleansing: expired and revoked contracts leave the pool, announced like a delete."""

from __future__ import annotations

import asyncio
import datetime as dt

from cryptography import x509

from opcp_reference.domain import ccp, cps
from opcp_reference.domain.ccp_cleansing import cleanse
from tests.test_ccp import MO, MO_V2G, NO, contract_body, emaid, vehicle
from tests.test_ccp import world as world  # the module-scoped reference store with its PKI
from tests.test_pcp import BrokenChecker, FakeChecker


def _serial(store, contract_emaid: str) -> int:
    row = store.query_one("SELECT contract_der FROM contracts WHERE emaid = ?", (contract_emaid,))
    return x509.load_der_x509_certificate(bytes(row["contract_der"])).serial_number


def _pooled(store) -> set[str]:
    return {r["emaid"] for r in store.query("SELECT emaid FROM contracts")}


def test_expired_and_revoked_contracts_are_cleansed_and_announced(world, monkeypatch):
    store = world["store"]
    raised = []
    monkeypatch.setattr(ccp.events, "contract_event",
                        lambda db, kind, **kw: raised.append((kind, kw["emaid"])))
    own, generated = emaid(), emaid("DEV2G")
    cps.sign_contract_data(store, MO, contract_body(world, vehicle(world), own), NO)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cps.generate(store, MO_V2G, {
        "emaid": generated, "pcid": vehicle(world).pcid, "xsdMsgDefNamespace": ccp.ISO2,
        "contractBegins": now.isoformat(),
        "contractEnds": (now + dt.timedelta(days=30)).isoformat()}, NO)
    before = _pooled(store)
    raised.clear()

    assert asyncio.run(cleanse(store, FakeChecker())) == []  # all valid and good: all kept
    assert _pooled(store) == before and raised == []

    done = asyncio.run(cleanse(store, FakeChecker({_serial(store, own)})))
    assert [(e, "revoked" in reason) for e, _, reason in done] == [(own, True)]
    assert _pooled(store) == before - {own}
    assert raised == [("oem.contract.deleted", own)]

    later = now + dt.timedelta(days=31)  # after the generated contract's contractEnds
    done = asyncio.run(cleanse(store, FakeChecker(), later))
    assert generated in [e for e, _, _ in done]
    assert all("expired" in reason for _, _, reason in done)
    assert generated not in _pooled(store)


def test_a_responder_that_cannot_be_asked_deletes_nothing(world):
    store = world["store"]
    cps.sign_contract_data(store, MO, contract_body(world, vehicle(world), emaid()), NO)
    before = _pooled(store)
    assert asyncio.run(cleanse(store, BrokenChecker())) == []
    assert _pooled(store) == before


def test_the_cleanse_command_runs_on_a_data_dir(tmp_path, capsys):
    from opcp_cli import main
    from opcp_reference.server import open_reference

    open_reference(tmp_path).store.close()
    assert main(["ccp", "cleanse", "--data-dir", str(tmp_path)]) == 0
    assert "0 contract(s) deleted" in capsys.readouterr().out
