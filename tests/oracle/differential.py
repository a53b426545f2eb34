"""Differential run of the project's EXI codec against EXIficient.

For every case (name, XML) of one schema/fragment mode, three checks:

- ``encode``: ``v2g.exi.xml_to_exi(xml)`` is byte-identical to EXIficient's;
- ``decode``: ``v2g.exi.exi_to_xml(oracle bytes)`` re-encoded by EXIficient
  gives the oracle bytes back (decoded XML texts are not compared: prefixes
  and lexical forms may legitimately differ, the information may not);
- ``oracle-decodes-ours``: EXIficient accepts the codec's bytes.

All oracle calls are pipelined through the one JVM. Failing cases are written
to a directory (XML, both EXI streams, a JSON note) for replay with
``python -m oracle.replay <dir>`` from ``tests/``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .exificient import Exificient, OracleError
from .tooling import REPO_ROOT

FAILURE_ROOT = REPO_ROOT / "reports" / "exi-differential"

Encode = Callable[..., bytes]
Decode = Callable[..., str]


@dataclass
class Failure:
    check: str  # encode | decode | oracle-decodes-ours | oracle-rejects-input
    name: str
    index: int
    detail: str
    bit: int | None = None
    ours: bytes | None = None
    oracle: bytes | None = None


def first_diff_bit(a: bytes, b: bytes) -> int | None:
    """Offset (from the first bit of the stream, MSB first) of the first differing bit."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i * 8 + (8 - (x ^ y).bit_length())
    if len(a) != len(b):
        return min(len(a), len(b)) * 8
    return None


def run(oracle: Exificient, cases: Sequence[tuple[str, str]], *, schema: str, fragment: bool,
        xml_to_exi: Encode, exi_to_xml: Decode) -> tuple[list[Failure], int]:
    """Run all three checks; returns (failures, number of cases)."""
    failures: list[Failure] = []
    expected = oracle.encode_many([x for _, x in cases], schema=schema, fragment=fragment)

    ours: list[bytes | None] = []
    ours_xml: list[str | None] = []
    for i, ((name, xml), ref) in enumerate(zip(cases, expected)):
        if isinstance(ref, OracleError):
            failures.append(Failure("oracle-rejects-input", name, i, str(ref)))
            ours.append(None)
            ours_xml.append(None)
            continue
        try:
            mine: bytes | None = xml_to_exi(xml, schema=schema, fragment=fragment)
        except Exception as exc:  # noqa: BLE001 - any crash of the codec is a finding
            failures.append(Failure("encode", name, i, f"raised {type(exc).__name__}: {exc}", oracle=ref))
            mine = None
        else:
            assert mine is not None
            bit = first_diff_bit(mine, ref)
            if bit is not None:
                failures.append(Failure("encode", name, i, f"differs ({len(mine)} vs {len(ref)} bytes)",
                                        bit, mine, ref))
        ours.append(mine)
        try:
            ours_xml.append(exi_to_xml(ref, schema=schema, fragment=fragment))
        except Exception as exc:  # noqa: BLE001 - as above
            failures.append(Failure("decode", name, i, f"raised {type(exc).__name__}: {exc}", oracle=ref))
            ours_xml.append(None)

    # Oracle re-encodes what we decoded: must give its own bytes back.
    idx = [i for i, x in enumerate(ours_xml) if x is not None]
    again = oracle.encode_many([ours_xml[i] or "" for i in idx], schema=schema, fragment=fragment)
    for i, re in zip(idx, again):
        ref = expected[i]
        assert isinstance(ref, bytes)
        if isinstance(re, OracleError):
            failures.append(Failure("decode", cases[i][0], i, f"oracle cannot encode our decoded XML: {re}",
                                    oracle=ref))
        elif (bit := first_diff_bit(re, ref)) is not None:
            failures.append(Failure("decode", cases[i][0], i, "our decoded XML re-encodes differently",
                                    bit, re, ref))

    # Oracle decodes ours where ours differs (identical bytes decode by definition).
    idx = [i for i, b in enumerate(ours) if b is not None and b != expected[i]]
    back = oracle.decode_many([ours[i] or b"" for i in idx], schema=schema, fragment=fragment)
    for i, res in zip(idx, back):
        if isinstance(res, OracleError):
            failures.append(Failure("oracle-decodes-ours", cases[i][0], i, str(res), ours=ours[i]))
    failures.sort(key=lambda f: (f.index, f.check))
    return failures, len(cases)


def write_failures(set_id: str, failures: Sequence[Failure], cases: Sequence[tuple[str, str]], *,
                   schema: str, fragment: bool, root: Path = FAILURE_ROOT) -> Path:
    """One directory per set, replaced on every run; returns its path."""
    out = root / set_id
    shutil.rmtree(out, ignore_errors=True)
    if not failures:
        return out
    out.mkdir(parents=True)
    for f in failures:
        stem = f"{f.index:05d}-{f.name.replace('+', '_')}-{f.check}"
        (out / f"{stem}.xml").write_text(cases[f.index][1], encoding="utf-8")
        if f.ours is not None:
            (out / f"{stem}.ours.exi").write_bytes(f.ours)
        if f.oracle is not None:
            (out / f"{stem}.oracle.exi").write_bytes(f.oracle)
        note = {"name": f.name, "check": f.check, "detail": f.detail, "bit": f.bit,
                "schema": schema, "fragment": fragment}
        (out / f"{stem}.json").write_text(json.dumps(note, indent=1), encoding="utf-8")
    return out


def summary(set_id: str, failures: Sequence[Failure], total: int, where: Path) -> str:
    by_check: dict[str, int] = {}
    for f in failures:
        by_check[f.check] = by_check.get(f.check, 0) + 1
    first = failures[0]
    at = f" at bit {first.bit} (byte {first.bit // 8})" if first.bit is not None else ""
    names = sorted({f.name for f in failures})
    return (
        f"{set_id}: {len({f.index for f in failures})}/{total} messages fail {by_check}; "
        f"first: #{first.index} {first.name} [{first.check}]{at}: {first.detail[:300]}; "
        f"message types: {names[:12]}{' ...' if len(names) > 12 else ''}; "
        f"cases in {where} (replay: cd tests && python -m oracle.replay {where})"
    )
