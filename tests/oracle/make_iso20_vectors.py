"""Write tests/exi/data/exificient_vectors_iso20.json: golden ISO 15118-20 vectors made by EXIficient.

For every -20 schema set, the shortest generated instance of each message type (documents)
or signed element (fragments), and the shortest one holding undeclared wildcard content,
encoded by EXIficient. They let tests/exi check -20 bit-exactness (and seed the fuzzer)
without Java. Run from the repository root: ``.venv/bin/python -m tests.oracle.make_iso20_vectors``.
"""

from __future__ import annotations

import json
from pathlib import Path

from .corpus import SETS, seed
from .exificient import Exificient
from .generator import generate

OUT = Path(__file__).resolve().parents[1] / "exi" / "data" / "exificient_vectors_iso20.json"


def main() -> None:
    vectors = []
    with Exificient() as oracle:
        for s in SETS:
            if not s.schema.startswith("iso20-"):
                continue
            best: dict[str, str] = {}
            for name, xml in generate(seed() + s.seed_offset, s.count, s.schema, fragment=s.fragment):
                if name not in best or len(xml) < len(best[name]):
                    best[name] = xml
            for name in sorted(best):
                exi = oracle.encode(best[name], schema=s.schema, fragment=s.fragment)
                vectors.append({"name": f"{s.id}/{name}", "schema": s.schema, "fragment": s.fragment,
                                "xml": best[name], "exi": exi.hex()})
    source = (f"EXIficient (EXICodec.jar of iso15118==0.31.2) with the DESIGN.md options and the ISO 15118-20 "
              f"XSDs of the same wheel, encoding XML from the tests/oracle generator (seed {seed()}, corpus.SETS)")
    OUT.write_text(json.dumps({"source": source, "vectors": vectors}, indent=1, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    print(f"{len(vectors)} vectors -> {OUT}")


if __name__ == "__main__":
    main()
