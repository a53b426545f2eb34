"""Erratum E-ROLE-2 as data: the role table's `disputed` roles are exactly where the role table
(docs/04_authentication.md, as `opcp/access.py` holds it) and the OpenAPI files' `security`
blocks disagree. Read from the spec beside the checkout ($OPCP_SPEC_DIR or ../shared/spec)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from opcp.access import ALL_PARTIES, OPERATIONS, Role

SPEC = Path(os.environ.get("OPCP_SPEC_DIR") or
            Path(__file__).resolve().parents[2] / "shared" / "spec" / "opcp-1.0.0")
# The security scheme names of the OpenAPI files, as the project's roles.
SCHEMES = {"All_roles": ALL_PARTIES | {Role.ADMIN}, "Admin": {Role.ADMIN}, "OEM": {Role.OEM},
           "OEM_with_V2G_PKI": {Role.OEM}, "CPO": {Role.CPO}, "CPS": {Role.CPS},
           "MO": {Role.MO, Role.MO_V2G}, "MO_with_own_PKI": {Role.MO},
           "MO_without_PKI": {Role.MO_V2G}, "MO_with_V2G_PKI": {Role.MO_V2G}}


def _security() -> dict[tuple[str, str], frozenset[Role]]:
    """(METHOD, path with the EST ca as {ca}) -> the roles the OpenAPI file names."""
    found = {}
    for path in sorted((SPEC / "reference").glob("*.json")):
        document = json.loads(path.read_text())
        for route, item in document.get("paths", {}).items():
            for method, op in item.items():
                if isinstance(op, dict) and "security" in op:
                    roles = frozenset().union(*(SCHEMES[name] for block in op["security"]
                                                for name in block))
                    found[(method.upper(), _shape(route))] = roles
    return found


def _shape(route: str) -> str:
    """A path reduced to its literal segments (parameter names and trailing slashes differ
    between the OpenAPI files and the role table; EST's `ca` is a parameter in one of them)."""
    parts = [p for p in route.strip("/").split("/") if p]
    parts = ["{}" if p.startswith("{") or p in ("cpo", "mo", "oem", "cps", "veh") else p for p in parts]
    if parts and parts[0] == ".well-known":
        parts = parts[2:] if len(parts) > 1 and parts[1] == "est" else parts[1:]
    return "/".join(parts)


@pytest.mark.skipif(not (SPEC / "reference").is_dir(),
                    reason=f"the OPCP spec is not at {SPEC} (set OPCP_SPEC_DIR)")
def test_disputed_roles_are_where_the_table_and_the_openapi_files_disagree() -> None:
    security = _security()
    checked = 0
    for op in OPERATIONS:
        declared = security.get((op.method, _shape(op.path)))
        if declared is None:
            assert not op.disputed, f"{op.name}: no security block, nothing to dispute"
            continue
        checked += 1
        if op.service == "est":
            # The OpenAPI file's security covers every {ca} at once; the role table is per CA,
            # so only a table grant the OpenAPI file does not make is a contradiction.
            expected = op.roles - declared
        else:
            expected = op.roles ^ declared
        assert op.disputed == expected, (
            f"{op.name}: the table says {sorted(op.roles)}, the OpenAPI file {sorted(declared)};"
            f" disputed should be {sorted(expected)}, the row says {sorted(op.disputed)}")
    assert checked >= 20, f"only {checked} operations matched a security block: the path shapes drifted"
