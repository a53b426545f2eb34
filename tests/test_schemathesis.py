"""Schemathesis fuzzes every operation of the reference's own OpenAPI description.

No generated request, however malformed, may yield a 5xx, an undeclared status, a wrong
content type or a body off its model. The ADMIN sweep reaches every operation, most of them
only up to the role check; one sweep per party role then takes the operations that role may
call (CPS, CCP, PCP, EST, webhooks) past authorisation into the domain's input checks. The
same sweep run against a reference with a fault switch on must fail, or the sweep would
prove nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from opcp.access import ALL_PARTIES, OPERATIONS, Role
from opcp_reference.server import EmbeddedReference
from tests.conftest import token_for

pytestmark = pytest.mark.slow  # a fuzzer over every operation and role

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


def _schemathesis() -> str:
    import shutil
    import sys

    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("schemathesis is not installed (it is in the dev extras)")
    return found


def sweep(tmp_path: Path, faults: tuple[str, ...] = (), role: Role = Role.ADMIN) -> tuple[int, str]:
    """One Schemathesis run with the token of the first client of `role`: over every operation
    for ADMIN, over the operations the role may call for a party role."""
    only: list[str] = []
    if role is not Role.ADMIN:
        for op in OPERATIONS:
            if op.allows(role):
                only += ["--include-operation-id", op.name]
    with EmbeddedReference(tmp_path / "data", faults=faults) as ref:
        clients = __import__("json").loads((ref.ref.data_dir / "clients.json").read_text())
        token = token_for(ref.base_url, next(c for c in clients if c["role"] == role.value))
        proc = subprocess.run(
            [_schemathesis(), "run", f"{ref.base_url}/openapi.json", "--checks", CHECKS,
             "-H", f"Authorization: Bearer {token}", "--max-examples", "25", "--seed", "1",
             "--request-timeout", "10", "--no-color", *only],
            capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("role", [Role.ADMIN, *sorted(ALL_PARTIES)])
def test_every_operation_survives_the_fuzzer(tmp_path, role):
    code, output = sweep(tmp_path, role=role)
    assert code == 0, output[-3000:]
    tested = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert tested and int(tested.group(1)) >= 7, output[-2000:]
    assert cases and cases.group(1) == cases.group(2), output[-2000:]
    print(f"schemathesis as {role.value}: {tested.group(1)} operations, {cases.group(1)} cases,"
          " 0 failures")


def test_the_sweep_fails_against_a_faulty_reference(tmp_path):
    code, output = sweep(tmp_path, faults=("error-without-trace-id",))
    assert code != 0, "schemathesis passed a reference whose error bodies lack the traceId"
    assert "traceId" in output
