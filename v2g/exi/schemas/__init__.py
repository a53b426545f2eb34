"""Schema descriptions, in the DSL of :mod:`v2g.exi.model`, and the schema sets built from them.

``SCHEMA_SETS`` maps the public schema names to a function returning its modules:
``iso2`` (V2G_CI_MsgDef with MsgHeader, MsgBody, MsgDataTypes and xmldsig-core),
``app`` (SupportedAppProtocol) and ``xmldsig`` (xmldsig-core alone).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from v2g.exi.model import Module, Schema
from v2g.exi.schemas import app_protocol, iso2, xmldsig

SCHEMA_SETS: dict[str, Callable[[], list[Module]]] = {
    "iso2": lambda: [*iso2.modules(), xmldsig.module()],
    "app": lambda: [app_protocol.module()],
    "xmldsig": lambda: [xmldsig.module()],
}


@cache
def load_schema(name: str) -> Schema:
    if name not in SCHEMA_SETS:
        raise ValueError(f"unknown schema {name!r}; expected one of {sorted(SCHEMA_SETS)}")
    return Schema(name, SCHEMA_SETS[name]())
