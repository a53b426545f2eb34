"""`opcp demo --iso 20` tells the story in ISO 15118-20 against the embedded reference: two
contracts reach one vehicle, one exchange each."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from opcp.paths import REPO


@pytest.mark.parametrize("options", [[], ["--oem-est"], ["--curve", "ed448"],
                                     ["--curve", "ed448", "--oem-est"]],
                         ids=["own-oem-pki", "oem-est", "ed448", "ed448-oem-est"])
def test_demo_iso20_installs_two_contracts_on_one_vehicle(options):
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "demo", "--iso", "20", *options], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    installed = [re.fullmatch(r"installed: EMAID=([A-Z0-9]{14,15}) PCID=([A-Z0-9]{18})", line)
                 for line in lines if line.startswith("installed:")]
    assert len(installed) == 2 and all(installed), lines
    assert installed[0][2] == installed[1][2], "both contracts are for one vehicle"
    assert installed[0][1] != installed[1][1], "two different contracts"
    assert lines[-1].startswith("installed:")
    remaining = [int(m[1]) for line in lines
                 if (m := re.search(r"RemainingContractCertificateChains (\d+)", line))]
    assert remaining == [1, 0], lines
    oem_line = next(line for line in lines if " OEM  produced" in line)
    assert ("enrolled over EST" in oem_line) == ("--oem-est" in options), oem_line
    ed448 = "ed448" in options
    if "--oem-est" in options:
        # The EST oem CA of the vehicle's algorithm certified it (with its X448 key on Ed448).
        assert f"ISO15118-20/{'ed448' if ed448 else 'secp521r1'})" in oem_line, oem_line
    assert ("ed448 provisioning certificate with an X448 ECDHE key" in oem_line) == ed448, oem_line
    cps_lines = [line for line in lines if " CPS  signed" in line]
    assert len(cps_lines) == 2 and all(
        ("ECDHE X448" if ed448 else "ECDHE SECP521") in line for line in cps_lines), cps_lines


@pytest.mark.parametrize("options, message", [
    (["--curve", "ed448"], "--curve ed448 needs --iso 20"),
    (["--oem-est", "--curve", "ed448"], "--curve ed448 needs --iso 20"),
])
def test_demo_curve_options_that_do_not_fit_are_refused(options, message):
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "demo", *options], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and message in proc.stderr, proc.stdout + proc.stderr
