"""Mutation fuzzer for the EXI decoder (and the encoder, on what the decoder accepts).

Seeds are valid EXI streams: the operator's real messages from the spec plus fragments of
them (signed elements, SignedInfo). Each input is a seeded mutation: bit flips, byte
overwrites, truncation, insertion, deletion, chunk duplication, or splicing two seeds.

For every input:
  * ``decode`` must return a tree or raise ExiError: any other exception is a *crash*;
  * a decode slower than ``--max-seconds`` is a *crash* too (a hang in the making);
  * when it decodes, the tree is re-encoded and decoded again; a different tree is counted
    as *inconsistent* (encoder and decoder disagree).

Usage: ``python fuzz/exi_fuzz.py --count 20000 --seed 1``. Exit status 1 if anything crashed
or was inconsistent. ``run()`` is what the bounded test in tests/exi calls.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from v2g import exi
from v2g.errors import ExiError

SPEC = Path("/work/shared/spec/opcp-1.0.0/reference/ccp.v1.json")


@dataclass
class Seed:
    data: bytes
    schema: str
    fragment: bool


@dataclass
class Report:
    inputs: int = 0
    decoded: int = 0
    errors: int = 0
    crashes: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    slowest: float = 0.0

    def line(self) -> str:
        return (f"inputs={self.inputs} decoded={self.decoded} exi_errors={self.errors} "
                f"crashes={len(self.crashes)} inconsistent={len(self.inconsistent)} "
                f"slowest={self.slowest * 1000:.1f}ms")


def _spec_messages(spec: Path = SPEC) -> list[bytes]:
    if not spec.exists():
        return []
    found: dict[str, bytes] = {}

    def walk(o: object) -> None:
        if isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
        elif isinstance(o, str) and o.startswith("gJ"):
            found[o] = base64.b64decode(o)

    walk(json.loads(spec.read_text()))
    return list(found.values())


def default_seeds() -> list[Seed]:
    seeds = [Seed(d, "iso2", False) for d in _spec_messages()]
    for s in list(seeds):
        root = exi.decode(s.data)
        for e in root.iter():
            if any(k.endswith("Id") for k in e.attrib):
                seeds.append(Seed(exi.encode(e, "iso2", fragment=True), "iso2", True))
            if e.tag.endswith("}SignedInfo"):
                seeds.append(Seed(exi.encode(e, "xmldsig", fragment=True), "xmldsig", True))
    app = ('<a:supportedAppProtocolReq xmlns:a="urn:iso:15118:2:2010:AppProtocol"><AppProtocol>'
           '<ProtocolNamespace>urn:iso:15118:2:2013:MsgDef</ProtocolNamespace><VersionNumberMajor>2'
           '</VersionNumberMajor><VersionNumberMinor>0</VersionNumberMinor><SchemaID>1</SchemaID>'
           '<Priority>1</Priority></AppProtocol></a:supportedAppProtocolReq>')
    seeds.append(Seed(exi.xml_to_exi(app, "app"), "app", False))
    return seeds


def mutate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        op = rng.randrange(8)
        if not b:
            b = bytearray(b"\x80")
        if op == 0:  # flip one bit
            i = rng.randrange(len(b) * 8)
            b[i >> 3] ^= 0x80 >> (i & 7)
        elif op == 1:  # overwrite a byte
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 2:  # truncate
            del b[rng.randrange(len(b)):]
        elif op == 3:  # insert random bytes
            i = rng.randrange(len(b) + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        elif op == 4:  # delete a run
            i = rng.randrange(len(b))
            del b[i:i + rng.randrange(1, 16)]
        elif op == 5:  # duplicate a chunk
            i = rng.randrange(len(b))
            j = min(len(b), i + rng.randrange(1, 64))
            b[j:j] = b[i:j]
        elif op == 6:  # splice with another seed
            i = rng.randrange(len(b) + 1)
            j = rng.randrange(len(other) + 1)
            b = b[:i] + other[j:]
        else:  # set a run to 0xFF (long unsigned integers, big lengths)
            i = rng.randrange(len(b))
            b[i:i + rng.randrange(1, 12)] = b"\xff" * len(b[i:i + 12])
    return bytes(b)


_ANY_TYPE_CAST = ("{http://www.w3.org/2001/XMLSchema-instance}type", "{http://www.w3.org/2001/XMLSchema}anyType")


def _tree(e: ET.Element) -> tuple[object, ...]:
    # The encoder casts every undeclared element to xs:anyType (as EXIficient does), so a
    # decoded stream that lacked the cast gains it on re-encoding: not a disagreement.
    attrs = sorted(kv for kv in e.attrib.items() if kv != _ANY_TYPE_CAST)
    return (e.tag, attrs, e.text or "", e.tail or "", tuple(_tree(c) for c in e))


def check_one(data: bytes, schema: str, fragment: bool, report: Report, max_seconds: float) -> None:
    report.inputs += 1
    t0 = time.perf_counter()
    try:
        root = exi.decode(data, schema, fragment)
    except ExiError:
        report.errors += 1
        root = None
    except Exception:  # noqa: BLE001 - any other exception is exactly what we hunt
        report.crashes.append(f"{data.hex()} {schema} {fragment}\n{traceback.format_exc()}")
        return
    elapsed = time.perf_counter() - t0
    report.slowest = max(report.slowest, elapsed)
    if elapsed > max_seconds:
        report.crashes.append(f"{data.hex()} {schema} {fragment}: decode took {elapsed:.2f}s")
    if root is None:
        return
    report.decoded += 1
    try:
        again = exi.decode(exi.encode(root, schema, fragment), schema, fragment)
        exi.exi_to_xml(data, schema, fragment)
    except ExiError as exc:
        report.inconsistent.append(f"{data.hex()} {schema} {fragment}: re-encode failed: {exc}")
        return
    except Exception:  # noqa: BLE001
        report.crashes.append(f"{data.hex()} {schema} {fragment} (re-encode)\n{traceback.format_exc()}")
        return
    if _tree(again) != _tree(root):
        report.inconsistent.append(f"{data.hex()} {schema} {fragment}: tree changed on re-encode")


def run(count: int, seed: int = 1, max_seconds: float = 1.0) -> Report:
    rng = random.Random(seed)
    seeds = default_seeds()
    report = Report()
    for s in seeds:  # the seeds themselves must pass
        check_one(s.data, s.schema, s.fragment, report, max_seconds)
    while report.inputs < count:
        s = rng.choice(seeds)
        other = rng.choice(seeds).data
        check_one(mutate(rng, s.data, other), s.schema, s.fragment, report, max_seconds)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=5000, help="number of inputs (default 5000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=1.0, help="time bound per decode")
    ap.add_argument("--show", type=int, default=3, help="print this many crash reports")
    args = ap.parse_args(argv)
    report = run(args.count, args.seed, args.max_seconds)
    print(report.line())
    for c in (report.crashes + report.inconsistent)[: args.show]:
        print("----\n" + c)
    return 1 if report.crashes or report.inconsistent else 0


if __name__ == "__main__":
    sys.exit(main())
