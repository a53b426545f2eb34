"""Ownership is one check, driven by the role table's `owner` column (opcp_reference/domain/ownership.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from opcp.access import ACCESS, OPERATIONS, Owner, Role
from opcp.errors import Forbidden, NotFound
from opcp_reference.domain import ownership
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import FAULTS, Faults

DOMAIN = Path(__file__).resolve().parents[1] / "opcp_reference" / "domain"
OEM = Principal("oem-1", Role.OEM, wmis=("WMA",))
MO = Principal("mo-1", Role.MO, emaid_prefixes=("DE-8AA",))
CPS = Principal("cps-1", Role.CPS)
NO = Faults()


def _checked_operations() -> dict[str, list[str]]:
    """Operation names passed to ownership.check (directly or through the one wrapper of a module),
    by the domain module that passes them."""
    found: dict[str, list[str]] = {}
    for path in DOMAIN.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name in ("ownership.check", "_owned", "_checked_and_signed"):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and arg.value in ACCESS:
                        found.setdefault(arg.value, []).append(path.name)
    return found


def test_every_owned_operation_is_checked_by_the_one_function() -> None:
    owned = {op.name for op in OPERATIONS if op.owner is not Owner.NONE}
    checked = _checked_operations()
    assert set(checked) == owned, (
        f"owned but never checked: {sorted(owned - set(checked))}; "
        f"checked but not owned in the table: {sorted(set(checked) - owned)}")


def test_no_other_module_words_an_ownership_refusal() -> None:
    for path in DOMAIN.glob("*.py"):
        if path.name != "ownership.py":
            assert "not one of this client" not in path.read_text(), path.name


@pytest.mark.parametrize("operation,who,value,refused", [
    ("getContracts", OEM, "WMAV2GXXX00000001", None),
    ("getContracts", OEM, "WMBV2GXXX00000001", Forbidden),
    ("getContracts", Principal("oem-2", Role.OEM, wmis=("wma",)), "WMAV2GXXX00000001", None),
    ("lookupContract", MO, "DE8AAC123456789", None),
    ("lookupContract", MO, "DE8AB0123456789", Forbidden),
    ("signContractData", MO, "DE-8AA-C12345678", None),
    ("getOEMProvCert", MO, "WMBV2GXXX00000001", None),  # WMI binds OEMs only
    ("addSignedContractData", CPS, "FR7XX0123456789", None),  # EMAID binds MOs only
    ("getWebhook", OEM, "oem-1", None),
    ("getWebhook", OEM, "oem-2", NotFound),  # creator's objects: 404, ids stay unknown
])
def test_the_rule_of_the_row_decides(operation, who, value, refused) -> None:
    if refused is None:
        ownership.check(who, operation, value, NO)
    else:
        with pytest.raises(refused):
            ownership.check(who, operation, value, NO, subject="id: unknown")
    assert ACCESS[operation].owner.refusal == (404 if ACCESS[operation].owner is Owner.CREATOR else 403)


def test_a_fault_lifts_the_check_only_where_its_row_says() -> None:
    lifted = Faults(["ccp-skip-wmi-check"])
    ownership.check(OEM, "getContracts", "WMBV2GXXX00000001", lifted)
    with pytest.raises(Forbidden):
        ownership.check(OEM, "getOEMProvCert", "WMBV2GXXX00000001", lifted)


def test_every_fault_that_lifts_ownership_names_owned_operations() -> None:
    for fault in FAULTS.values():
        for name in fault.unowned:
            assert ACCESS[name].owner is not Owner.NONE, (fault.name, name)


def test_an_operation_without_a_rule_cannot_be_checked() -> None:
    with pytest.raises(AssertionError):
        ownership.check(OEM, "getAllRootCerts", "x", NO)
