"""A bounded, seeded slice of the mutation fuzzer: no crash, no encoder/decoder disagreement."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[2] / "fuzz" / "exi_fuzz.py"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("exi_fuzz", FUZZ)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["exi_fuzz"] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


def test_fuzz_slice_2000_inputs() -> None:
    fuzz = _load()
    report = fuzz.run(2000, seed=12345, max_seconds=2.0)
    assert report.inputs == 2000
    assert report.crashes == [], report.crashes[:2]
    assert report.inconsistent == [], report.inconsistent[:2]
    # the mutations must reach both outcomes, or the slice tests nothing
    assert report.decoded > 50 and report.errors > 500


def test_mutations_are_seeded() -> None:
    fuzz = _load()
    a = fuzz.run(300, seed=7)
    b = fuzz.run(300, seed=7)
    assert (a.decoded, a.errors) == (b.decoded, b.errors)


def test_fuzz_slice_iso20_2000_inputs() -> None:
    fuzz = _load()
    report = fuzz.run(2000, seed=2020, max_seconds=2.0, schema="iso20")
    assert report.inputs == 2000
    assert report.crashes == [], report.crashes[:2]
    assert report.inconsistent == [], report.inconsistent[:2]
    assert report.decoded > 50 and report.errors > 500


def test_xml_fuzz_slice_iso20() -> None:
    fuzz = _load()
    report = fuzz.run_xml(500, seed=2020, max_seconds=2.0, schema="iso20")
    assert report.crashes == [] and report.inconsistent == [], (report.crashes + report.inconsistent)[:2]
    assert report.decoded > 20 and report.errors > 20


def test_iso20_seeds_cover_every_set() -> None:
    fuzz = _load()
    schemas = {s.schema for s in fuzz.seeds_for("iso20")}
    assert {"iso20-common", "iso20-dc", "iso20-ac", "iso20-acdp", "iso20-wpt", "iso20-app", "xmldsig"} <= schemas
    assert {s.schema for s in fuzz.seeds_for("iso20-dc")} == {"iso20-dc"}
