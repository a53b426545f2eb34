"""`opcp demo` tells the whole story against the embedded reference and installs a contract."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from opcp.paths import REPO


@pytest.mark.parametrize("options", [[], ["--oem-est"]], ids=["own-oem-pki", "oem-est"])
def test_demo_installs_a_contract_on_the_vehicle(options):
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "demo", *options], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"installed: EMAID=[A-Z0-9]{14,15} PCID=[A-Za-z0-9]{17,18}", lines[-1]), lines[-1]
    for actor in ("RCP", "OEM", "PCP", "MO", "CPS", "EV", "CPO"):
        assert any(f" {actor} " in line for line in lines), f"no {actor} step in the transcript"
    oem_line = next(line for line in lines if " OEM  produced" in line)
    assert ("enrolled over EST" in oem_line) == ("--oem-est" in options), oem_line
    # Over EST the OEM needs no root of its own in the RCP.
    assert any("registered OEM root" in line for line in lines) != ("--oem-est" in options)


def test_demo_across_two_ecosystems_installs_a_contract_of_the_peer():
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "demo", "--ecosystems", "2"],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"installed: EMAID=[A-Z0-9]{14,15} PCID=[A-Za-z0-9]{17,18}", lines[-1]), lines[-1]
    assert any("OEM  (of A) produced" in line for line in lines)
    assert any("MO   (of B)" in line and "pooled in B's CCP" in line for line in lines)
    assert any("A's pool holds no contract" in line for line in lines)
    assert any("CPO  (of A)" in line and "forwarded to its peer B" in line for line in lines)
    assert any("under a V2G root of B" in line for line in lines)


def test_demo_across_ecosystems_needs_a_peer_in_the_target_file(tmp_path):
    target = tmp_path / "a.toml"
    target.write_text('base_url = "http://127.0.0.1:9"\naudience = "a"\n[[clients]]\nrole = "CPO"\n'
                      'client_id = "c"\nclient_secret = "s"\n')
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "demo", "--ecosystems", "2",
                           "--target", str(target)], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "names no peer ecosystem ([peer]" in proc.stderr
