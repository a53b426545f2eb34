"""`opcp demo` tells the whole story against the embedded reference and installs a contract."""

from __future__ import annotations

import re
import subprocess
import sys

from opcp.paths import REPO


def test_demo_installs_a_contract_on_the_vehicle():
    proc = subprocess.run([sys.executable, "-m", "opcp", "demo"], cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"installed: EMAID=[A-Z0-9]{14,15} PCID=[A-Za-z0-9]{17,18}", lines[-1]), lines[-1]
    for actor in ("RCP", "OEM", "PCP", "MO", "CPS", "EV", "CPO"):
        assert any(f" {actor} " in line for line in lines), f"no {actor} step in the transcript"
