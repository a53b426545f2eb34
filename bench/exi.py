"""EXI benchmark: v2g.exi against EXIficient (warm JVM), same messages, same run.

Messages: the real 4.4 KB signed CertificateInstallationRes from the OPCP spec
(ccp.v1.json) and a small SessionSetupReq (hand-written XML, encoded by
EXIficient). Operations: decode = EXI bytes -> XML text, encode = XML text ->
EXI bytes, on both sides, so parsing/serialising XML is in both figures.

EXIficient is timed inside its JVM by the driver (tests/oracle/java), after as
many warm-up rounds as timed rounds; ours after a warm-up of a tenth. Both
figures are mean µs per operation. Prints ONE JSON line.

    .venv/bin/python bench/exi.py [--iterations 1000]
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the oracle lives with the tests
tooling = importlib.import_module("oracle.tooling")
exificient_mod = importlib.import_module("oracle.exificient")
reference = importlib.import_module("oracle.reference")
Exificient = exificient_mod.Exificient
OracleError = exificient_mod.OracleError

SESSION_SETUP_REQ = (
    '<d:V2G_Message xmlns:d="urn:iso:15118:2:2013:MsgDef" '
    'xmlns:h="urn:iso:15118:2:2013:MsgHeader" xmlns:b="urn:iso:15118:2:2013:MsgBody">'
    "<d:Header><h:SessionID>00</h:SessionID></d:Header>"
    "<d:Body><b:SessionSetupReq><b:EVCCID>0A1B2C3D4E5F</b:EVCCID></b:SessionSetupReq></d:Body>"
    "</d:V2G_Message>"
)


def _mean_us(fn: Callable[[], object], iterations: int) -> float:
    for _ in range(max(1, iterations // 10)):
        fn()
    t0 = time.perf_counter_ns()
    for _ in range(iterations):
        fn()
    return (time.perf_counter_ns() - t0) / 1e3 / iterations


def _ours() -> tuple[Any, str | None]:
    try:
        from v2g import exi
    except ImportError as exc:
        return None, f"v2g.exi not importable: {exc}"
    return exi, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    args = parser.parse_args(argv)
    n = args.iterations

    result: dict[str, Any] = {
        "bench": "exi", "iterations": n, "python": platform.python_version(),
        "machine": platform.machine(), "messages": {},
    }
    exi, why_not = _ours()
    if why_not:
        result["ours_unavailable"] = why_not
    try:
        files = tooling.ensure()
    except tooling.OracleUnavailable as exc:
        result["exificient_unavailable"] = str(exc)
        print(json.dumps(result))
        return 1

    t0 = time.perf_counter()
    with Exificient(files) as oracle:
        result["jvm_start_s"] = round(oracle.startup_seconds or 0.0, 3)
        t1 = time.perf_counter()
        session_setup = oracle.encode(SESSION_SETUP_REQ)
        result["grammar_build_s"] = round(time.perf_counter() - t1, 3)  # MsgDef grammar, first call
        real = reference.ccp_examples()
        cert_res = max(real.values(), key=len)  # the signed 4.4 KB CertificateInstallationRes
        for name, data in (("CertificateInstallationRes", cert_res), ("SessionSetupReq", session_setup)):
            xml = oracle.decode(data)
            java = oracle.bench(data, iterations=n)
            entry: dict[str, Any] = {
                "exi_bytes": len(data), "xml_chars": len(xml),
                "exificient": {"decode_us": java["decode_us"], "encode_us": java["encode_us"]},
            }
            if exi is not None:
                try:
                    ours_bytes = exi.xml_to_exi(xml)
                    entry["bit_exact"] = ours_bytes == data
                    ours = {
                        "decode_us": round(_mean_us(partial(exi.exi_to_xml, data), n), 3),
                        "encode_us": round(_mean_us(partial(exi.xml_to_exi, xml), n), 3),
                    }
                except Exception as exc:  # noqa: BLE001 - report it, keep the other side's figures
                    entry["ours_error"] = f"{type(exc).__name__}: {exc}"
                else:
                    entry["ours"] = ours
                    entry["ratio_ours_over_exificient"] = {
                        op: round(ours[op] / java[op], 2) for op in ("decode_us", "encode_us")
                    }
            result["messages"][name] = entry
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OracleError as exc:
        print(json.dumps({"bench": "exi", "error": str(exc)}))
        sys.exit(1)
