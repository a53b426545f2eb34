"""Replay failing differential cases written by test_differential.

Usage (from ``tests/``)::

    python -m oracle.replay ../reports/exi-differential/iso2-doc [more dirs or .xml files]

For each case: our encoding vs EXIficient's (first differing bit), and our
decoding of EXIficient's bytes re-encoded by EXIficient. Exit status 1 if any
case still differs, so the command also serves as a regression check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .differential import run
from .exificient import Exificient


def _cases(paths: list[Path]) -> dict[tuple[str, bool], list[tuple[str, str]]]:
    grouped: dict[tuple[str, bool], list[tuple[str, str]]] = {}
    files = [f for p in paths for f in (sorted(p.glob("*.xml")) if p.is_dir() else [p])]
    for xml_file in files:
        note = json.loads(xml_file.with_suffix(".json").read_text(encoding="utf-8"))
        key = (note["schema"], bool(note["fragment"]))
        grouped.setdefault(key, []).append((f"{xml_file.stem}", xml_file.read_text(encoding="utf-8")))
    return grouped


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    from v2g import exi  # imported late: the usage text works without the codec

    still = 0
    with Exificient() as oracle:
        for (schema, fragment), cases in _cases([Path(a) for a in argv]).items():
            failures, total = run(oracle, cases, schema=schema, fragment=fragment,
                                  xml_to_exi=exi.xml_to_exi, exi_to_xml=exi.exi_to_xml)
            for f in failures:
                at = f" at bit {f.bit}" if f.bit is not None else ""
                print(f"FAIL {f.name} [{f.check}]{at}: {f.detail}")
            print(f"{schema}{' fragment' if fragment else ''}: {total - len({f.index for f in failures})}"
                  f"/{total} cases now pass")
            still += len(failures)
    return 1 if still else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
