"""The benchmark still runs (tiny n); its figures are not asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "pki.py"


def test_bench_runs() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--n", "5"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    line = json.loads(out)
    for op in ("issue_contract", "validate_chain", "encrypt_decrypt_key"):
        assert line[op]["ours_us"] > 0 and line[op]["baseline_us"] > 0
