"""Mutation fuzzer for the EXI decoder (and the encoder, on what the decoder accepts).

Seeds are valid EXI streams. ``--schema iso2`` (default): the operator's real messages from the
spec plus fragments of them (signed elements, SignedInfo) and an AppProtocol request.
``--schema iso20``: the ISO 15118-20 golden vectors of tests/exi/data (every message of every -20
schema set, the signed-element fragments) plus signed CertificateInstallationReq/Res
(secp521r1 and Ed448, tests/exi/iso20_samples.py) with their fragments and SignedInfo;
``--schema iso20-dc`` (or any other -20 set) keeps the seeds of that set only.
Each input is a seeded mutation: bit flips, byte overwrites, truncation, insertion, deletion,
chunk duplication, or splicing two seeds.

For every input:
  * ``decode`` must return a tree or raise ExiError: any other exception is a *crash*;
  * a decode slower than ``--max-seconds`` is a *crash* too (a hang in the making);
  * when it decodes, the tree is re-encoded, decoded and encoded again; the two encodings
    must be equal, or the input counts as *inconsistent* (encoder and decoder disagree).

With ``--xml`` the encoder is fuzzed instead: mutated XML (decoded seeds) must give bytes
that decode, or ExiError.

Usage: ``python fuzz/exi_fuzz.py --count 20000 --seed 1 [--schema iso20] [--xml]``. Exit status 1 if anything crashed
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
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opcp.paths import spec_dir  # noqa: E402 - after the path set-up above
from v2g import exi
from v2g.errors import ExiError

ROOT = Path(__file__).resolve().parents[1]
SPEC = spec_dir() / "reference" / "ccp.v1.json"
ISO20_VECTORS = ROOT / "tests" / "exi" / "data" / "exificient_vectors_iso20.json"


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


def iso20_seeds(schema: str = "iso20") -> list[Seed]:
    """-20 seeds: all -20 sets for ``iso20``, else those of one set (e.g. ``iso20-dc``)."""
    vectors = json.loads(ISO20_VECTORS.read_text(encoding="utf-8"))["vectors"]
    seeds = [Seed(bytes.fromhex(v["exi"]), v["schema"], v["fragment"]) for v in vectors]
    sys.path.insert(0, str(ROOT / "tests"))
    from exi.iso20_samples import installation_req, installation_res  # deterministic signed messages

    for build in (installation_req, installation_res):
        for kind in ("secp521r1", "ed448"):
            root, _ = build(kind)
            seeds.append(Seed(exi.encode(root, "iso20-common"), "iso20-common", False))
            for e in root.iter():
                if any(k.endswith("}Id") for k in e.attrib) and e is not root:
                    seeds.append(Seed(exi.encode(e, "iso20-common", fragment=True), "iso20-common", True))
                if e.tag.endswith("}SignedInfo"):
                    seeds.append(Seed(exi.encode(e, "xmldsig", fragment=True), "xmldsig", True))
    if schema != "iso20":
        seeds = [s for s in seeds if s.schema == schema]
    if not seeds:
        raise SystemExit(f"no seeds for schema {schema!r}")
    return seeds


def seeds_for(schema: str) -> list[Seed]:
    if schema == "iso2":
        return default_seeds()
    if schema == "iso20" or schema.startswith("iso20-"):
        return iso20_seeds(schema)
    raise SystemExit(f"unknown --schema {schema!r}: iso2, iso20 or one -20 set (iso20-common, iso20-dc, ...)")


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
        # Re-encoding normalises what EXIficient normalises (whitespace per the type's facet,
        # an xs:anyType cast on undeclared elements), so the first re-encoding may differ
        # from the input; from then on decode/encode must be a fixed point.
        first = exi.encode(root, schema, fragment)
        again = exi.decode(first, schema, fragment)
        second = exi.encode(again, schema, fragment)
        exi.exi_to_xml(data, schema, fragment)
    except ExiError as exc:
        report.inconsistent.append(f"{data.hex()} {schema} {fragment}: re-encode failed: {exc}")
        return
    except Exception:  # noqa: BLE001
        report.crashes.append(f"{data.hex()} {schema} {fragment} (re-encode)\n{traceback.format_exc()}")
        return
    if second != first:
        report.inconsistent.append(f"{data.hex()} {schema} {fragment}: decode/encode is not a fixed point")


_XML_SNIPPETS = ['<x/>', 'xsi:type="xs:string" ', 'xsi:nil="true" ', 'Id="ID9" ', '&amp;', '<![CDATA[x]]>',
                 '<!-- c -->', '<?pi x?>', ' xmlns:q="urn:q"', '<q:E xmlns:q="urn:q">t</q:E>', '\u00e9\U0001F600',
                 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ', '  \n\t', '-1', '99999999999999999999']


def mutate_xml(rng: random.Random, text: str) -> str:
    t = text
    for _ in range(rng.choice((1, 1, 2, 4))):
        i = rng.randrange(len(t) + 1)
        op = rng.randrange(4)
        if op == 0:
            t = t[:i] + rng.choice(_XML_SNIPPETS) + t[i:]
        elif op == 1:
            t = t[:i] + t[i + rng.randrange(1, 40):]
        elif op == 2:  # duplicate a slice (often a whole element)
            j = min(len(t), i + rng.randrange(1, 400))
            t = t[:j] + t[i:j] + t[j:]
        else:
            t = t[:i] + chr(rng.randrange(32, 0x2FF)) + t[i + 1:]
    return t


def check_xml(text: str, schema: str, fragment: bool, report: Report, max_seconds: float) -> None:
    """The encoder on (mutated) XML: bytes or ExiError, and the bytes must decode."""
    report.inputs += 1
    t0 = time.perf_counter()
    try:
        data = exi.xml_to_exi(text, schema, fragment)
    except ExiError:
        report.errors += 1
        return
    except Exception:  # noqa: BLE001
        report.crashes.append(f"XML {schema} {fragment}\n{text[:2000]}\n{traceback.format_exc()}")
        return
    finally:
        report.slowest = max(report.slowest, time.perf_counter() - t0)
    try:
        exi.decode(data, schema, fragment)
        report.decoded += 1
    except Exception:  # noqa: BLE001 - what we encoded must decode
        report.inconsistent.append(f"XML {schema} {fragment}: own output does not decode\n{text[:2000]}")


def run_xml(count: int, seed: int = 1, max_seconds: float = 1.0, schema: str = "iso2") -> Report:
    rng = random.Random(seed)
    seeds = [(exi.exi_to_xml(s.data, s.schema, s.fragment), s.schema, s.fragment) for s in seeds_for(schema)]
    report = Report()
    while report.inputs < count:
        text, schema, fragment = rng.choice(seeds)
        check_xml(mutate_xml(rng, text), schema, fragment, report, max_seconds)
    return report


def run(count: int, seed: int = 1, max_seconds: float = 1.0, schema: str = "iso2") -> Report:
    rng = random.Random(seed)
    seeds = seeds_for(schema)
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
    ap.add_argument("--xml", action="store_true", help="fuzz the encoder with mutated XML instead")
    ap.add_argument("--schema", default="iso2",
                    help="seed family: iso2 (default), iso20 (every -20 set) or one set such as iso20-dc")
    args = ap.parse_args(argv)
    report = (run_xml if args.xml else run)(args.count, args.seed, args.max_seconds, args.schema)
    print(report.line())
    for c in (report.crashes + report.inconsistent)[: args.show]:
        print("----\n" + c)
    return 1 if report.crashes or report.inconsistent else 0


if __name__ == "__main__":
    sys.exit(main())
