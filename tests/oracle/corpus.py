"""The standard differential corpus: which generated message sets, how many.

One place so the generator's coverage test, the differential tests and the
docs agree. ``OPCP_ORACLE_SEED`` and ``OPCP_ORACLE_SCALE`` (a multiplier of
the counts) allow longer fuzz runs locally without editing code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .generator import Coverage, generate

DEFAULT_SEED = 15118


@dataclass(frozen=True)
class MessageSet:
    id: str
    schema: str
    fragment: bool
    count: int


SETS = (
    MessageSet("iso2-doc", "iso2", False, 2000),       # every V2G_Message body type
    MessageSet("iso2-fragment", "iso2", True, 400),    # signed elements (Id attribute)
    MessageSet("xmldsig-fragment", "xmldsig", True, 200),  # SignedInfo
    MessageSet("app-doc", "app", False, 100),          # supportedAppProtocolReq/Res
)


@dataclass
class Generated:
    set: MessageSet
    messages: list[tuple[str, str]]
    coverage: Coverage = field(default_factory=Coverage)


def seed() -> int:
    return int(os.environ.get("OPCP_ORACLE_SEED", DEFAULT_SEED))


def scale() -> float:
    return float(os.environ.get("OPCP_ORACLE_SCALE", "1"))


def build(sets: tuple[MessageSet, ...] = SETS) -> dict[str, Generated]:
    out = {}
    for s in sets:
        cov = Coverage()
        count = max(1, round(s.count * scale()))
        msgs = list(generate(seed(), count, s.schema, fragment=s.fragment, coverage=cov))
        out[s.id] = Generated(s, msgs, cov)
    return out
