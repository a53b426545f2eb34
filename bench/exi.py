"""EXI benchmark: v2g.exi against EXIficient (warm JVM), same messages, same run, interleaved.

Messages: the real 4.4 KB signed ISO 15118-2 CertificateInstallationRes from the OPCP spec
(ccp.v1.json), a small -2 SessionSetupReq (hand-written XML, encoded by EXIficient), and a
signed ISO 15118-20 CertificateInstallationRes (secp521r1 chains, tests/exi/iso20_samples.py,
schema iso20-common). Operations: decode = EXI bytes -> XML text, encode = XML text -> EXI
bytes, on both sides, so parsing/serialising XML is in both figures.

The two codecs take turns, A B A B: each round EXIficient times ``--iterations`` decodes and
encodes inside its JVM (after as many warm-up rounds, tests/oracle/java), then ours times the
same number in this process. A noisy neighbour hits both sides of a round alike, so the
reported ratio is the median of the per-round ratios (with the per-round spread); the µs
figures are medians of the rounds. Each figure comes twice: wall time (``*_us``) and CPU
time (``*_cpu_us``: the JVM thread's, this process's), the latter steadier when other jobs
share the cores. Prints ONE JSON line.

    .venv/bin/python bench/exi.py [--iterations 200] [--rounds 9]
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
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
iso20_samples = importlib.import_module("exi.iso20_samples")
Exificient = exificient_mod.Exificient
OracleError = exificient_mod.OracleError

SESSION_SETUP_REQ = (
    '<d:V2G_Message xmlns:d="urn:iso:15118:2:2013:MsgDef" '
    'xmlns:h="urn:iso:15118:2:2013:MsgHeader" xmlns:b="urn:iso:15118:2:2013:MsgBody">'
    "<d:Header><h:SessionID>00</h:SessionID></d:Header>"
    "<d:Body><b:SessionSetupReq><b:EVCCID>0A1B2C3D4E5F</b:EVCCID></b:SessionSetupReq></d:Body>"
    "</d:V2G_Message>"
)


def _mean_us(fn: Callable[[], object], iterations: int) -> tuple[float, float]:
    """Mean wall and process-CPU µs per call, after a warm-up of a tenth."""
    for _ in range(max(1, iterations // 10)):
        fn()
    t0, c0 = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(iterations):
        fn()
    return ((time.perf_counter_ns() - t0) / 1e3 / iterations, (time.process_time_ns() - c0) / 1e3 / iterations)


def _ours() -> tuple[Any, str | None]:
    try:
        from v2g import exi
    except ImportError as exc:
        return None, f"v2g.exi not importable: {exc}"
    return exi, None


def _interleaved(oracle: Any, exi: Any, data: bytes, xml: str, schema: str, n: int, rounds: int) -> dict[str, Any]:
    keys = ("decode_us", "encode_us", "decode_cpu_us", "encode_cpu_us")
    java: dict[str, list[float]] = {k: [] for k in keys}
    ours: dict[str, list[float]] = {k: [] for k in keys}
    ops = {"decode": partial(exi.exi_to_xml, data, schema), "encode": partial(exi.xml_to_exi, xml, schema)}
    for _ in range(rounds):
        j = oracle.bench(data, schema=schema, iterations=n)  # A
        for k in keys:
            java[k].append(j[k])
        for op, fn in ops.items():  # B
            wall, cpu = _mean_us(fn, n)
            ours[f"{op}_us"].append(wall)
            ours[f"{op}_cpu_us"].append(cpu)
    out: dict[str, Any] = {
        "exificient": {k: round(statistics.median(v), 3) for k, v in java.items()},
        "ours": {k: round(statistics.median(v), 3) for k, v in ours.items()},
        "ratio_ours_over_exificient": {}, "ratio_range": {},
    }
    for k in keys:
        ratios = sorted(o / j for o, j in zip(ours[k], java[k]))
        out["ratio_ours_over_exificient"][k] = round(statistics.median(ratios), 2)
        out["ratio_range"][k] = [round(ratios[0], 2), round(ratios[-1], 2)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200, help="operations per side per round")
    parser.add_argument("--rounds", type=int, default=9, help="A B rounds (odd: a true median)")
    args = parser.parse_args(argv)
    n, rounds = args.iterations, args.rounds

    result: dict[str, Any] = {
        "bench": "exi", "iterations": n, "rounds": rounds, "python": platform.python_version(),
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
        res20_xml = iso20_samples.ET.tostring(iso20_samples.installation_res("secp521r1")[0], encoding="unicode")
        res20 = oracle.encode(res20_xml, schema="iso20-common")
        cases = (("CertificateInstallationRes", cert_res, "iso2"), ("SessionSetupReq", session_setup, "iso2"),
                 ("iso20 CertificateInstallationRes", res20, "iso20-common"))
        for name, data, schema in cases:
            xml = oracle.decode(data, schema=schema)
            entry: dict[str, Any] = {"schema": schema, "exi_bytes": len(data), "xml_chars": len(xml)}
            if exi is None:
                entry["exificient"] = oracle.bench(data, schema=schema, iterations=n)
            else:
                try:
                    entry["bit_exact"] = exi.xml_to_exi(xml, schema) == data
                    entry.update(_interleaved(oracle, exi, data, xml, schema, n, rounds))
                except Exception as exc:  # noqa: BLE001 - report it, keep the other side's figures
                    entry["ours_error"] = f"{type(exc).__name__}: {exc}"
                    entry["exificient"] = oracle.bench(data, schema=schema, iterations=n)
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
