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
