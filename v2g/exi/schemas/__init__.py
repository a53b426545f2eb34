"""Schema descriptions, in the DSL of :mod:`v2g.exi.model`, and the schema sets built from them.

``SCHEMA_SETS`` maps the public schema names to a function returning its modules:
``iso2`` (V2G_CI_MsgDef with MsgHeader, MsgBody, MsgDataTypes and xmldsig-core),
``app`` (SupportedAppProtocol) and ``xmldsig`` (xmldsig-core alone); and for ISO 15118-20, one
set per namespace, each with CommonTypes and xmldsig-core: ``iso20-common`` (CommonMessages),
``iso20-dc``, ``iso20-ac``, ``iso20-acdp``, ``iso20-wpt``, plus ``iso20-app`` (the -20
SupportedAppProtocol handshake: the same schema and namespace as -2's). ``ISO20_SCHEMAS`` maps
the short names a caller may use (``common``, ``dc``, ...) to these set names.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from v2g.exi.model import Module, Schema
from v2g.exi.schemas import (
    app_protocol,
    iso2,
    iso20_ac,
    iso20_acdp,
    iso20_common,
    iso20_dc,
    iso20_types,
    iso20_wpt,
    xmldsig,
)

SCHEMA_SETS: dict[str, Callable[[], list[Module]]] = {
    "iso2": lambda: [*iso2.modules(), xmldsig.module()],
    "app": lambda: [app_protocol.module()],
    "xmldsig": lambda: [xmldsig.module()],
    "iso20-common": lambda: iso20_types.with_common(iso20_common.module()),
    "iso20-dc": lambda: iso20_types.with_common(iso20_dc.module()),
    "iso20-ac": lambda: iso20_types.with_common(iso20_ac.module()),
    "iso20-acdp": lambda: iso20_types.with_common(iso20_acdp.module()),
    "iso20-wpt": lambda: iso20_types.with_common(iso20_wpt.module()),
    "iso20-app": lambda: [app_protocol.module()],
}

# ``--iso 20 --schema NAME`` of the CLI: short name -> schema set.
ISO20_SCHEMAS = {short: f"iso20-{short}" for short in ("common", "dc", "ac", "acdp", "wpt", "app")}


@cache
def load_schema(name: str) -> Schema:
    if name not in SCHEMA_SETS:
        raise ValueError(f"unknown schema {name!r}; expected one of {sorted(SCHEMA_SETS)}")
    return Schema(name, SCHEMA_SETS[name]())
