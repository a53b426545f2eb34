"""The role matrix scenarios cover the role table exactly, for every implemented service."""

from __future__ import annotations

import re

from opcp.access import OPERATIONS, Role
from opcp.paths import FEATURES
from opcp_reference.app import SERVICE_MODULES


def _matrix_rows() -> set[tuple[str, str, str]]:
    rows = set()
    for feature in FEATURES.glob("*.feature"):
        in_matrix = False
        for line in feature.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith("Scenario Outline: Role table"):
                in_matrix = True
            elif stripped.startswith(("Scenario", "Feature")):
                in_matrix = False
            elif in_matrix and stripped.startswith("|"):
                cells = [c.strip() for c in stripped.strip("|").split("|")]
                if cells != ["operation", "role", "expected"]:
                    rows.add(tuple(cells))
    return rows


def test_every_implemented_operation_has_every_role_in_the_matrix():
    implemented = {name for m in SERVICE_MODULES for name in m.HANDLERS}
    expected = {(op.name, role.value, "access" if op.allows(role) else "no access")
                for op in OPERATIONS if op.name in implemented for role in Role}
    rows = _matrix_rows()
    assert expected - rows == set(), f"missing from the role matrix: {sorted(expected - rows)}"
    assert rows - expected == set(), f"rows that contradict the table: {sorted(rows - expected)}"


def test_the_table_holds_the_spec_rows():
    # A few rows checked by hand against docs/04_authentication.md.
    by_name = {op.name: op for op in OPERATIONS}
    assert by_name["deleteRootCa"].roles == {Role.ADMIN}
    assert by_name["generateSignedContractData"].roles == {Role.MO_V2G}
    assert by_name["getSignedContractData"].roles == {Role.CPO}
    assert by_name["simpleEnroll-CPS"].roles == {Role.MO_V2G, Role.CPS}
    assert not re.search(r"\s", "".join(op.path for op in OPERATIONS))


def _outline_rows(title_prefix: str) -> set[tuple[str, ...]]:
    rows = set()
    for feature in FEATURES.glob("*.feature"):
        inside = False
        for line in feature.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith("Scenario Outline: " + title_prefix):
                inside = True
            elif stripped.startswith(("Scenario", "Feature")):
                inside = False
            elif inside and stripped.startswith("|"):
                rows.add(tuple(c.strip() for c in stripped.strip("|").split("|")))
    return rows


def test_isolation_covers_every_owned_operation_of_implemented_services():
    """Generated from the table, not hand-listed: every operation on an owned object, with
    every role the ownership rule binds, has an isolation example (and no example names an
    operation or role the table does not isolate)."""
    implemented = {name for m in SERVICE_MODULES for name in m.HANDLERS}
    expected = {(op.name, role.value) for op in OPERATIONS if op.name in implemented
                for role in op.isolated_roles}
    rows = _outline_rows("Isolation: ") - {("operation", "role")}
    assert rows == expected, f"missing {sorted(expected - rows)}, extra {sorted(rows - expected)}"


def test_ownership_binds_the_roles_the_spec_scopes():
    # docs/04_authentication.md: OEMs are scoped by WMI, MOs by EMAID prefix; MOs and CPSs
    # read any provisioning certificate, a CPS pools contract data for every MO.
    by_name = {op.name: op for op in OPERATIONS}
    assert by_name["getOEMProvCert"].isolated_roles == {Role.OEM}
    assert by_name["addSignedContractData"].isolated_roles == {Role.MO}
    assert by_name["lookupContract"].isolated_roles == {Role.MO, Role.MO_V2G}
    assert by_name["getSignedContractData"].isolated_roles == set()
    assert by_name["getWebhook"].isolated_roles == by_name["getWebhook"].roles
