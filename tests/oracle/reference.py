"""The real EXI messages shipped as examples in the OPCP spec (ccp.v1.json).

They come from an operator's QA systems and were produced by a production
codec, so they pin the EXI options: our oracle must reproduce them bit for bit.
The spec is not vendored into the repository (its files do not carry over);
it is read from ``$OPCP_SPEC_DIR`` or from ``shared/spec/opcp-1.0.0`` beside
the checkout, which is where developers' machines and CI keep it.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path


def spec_dir() -> Path:
    from opcp.paths import spec_dir as shared

    return shared()


def ccp_examples() -> dict[str, bytes]:
    """Distinct EXI documents among the ccp.v1.json examples, keyed
    ``<json key>-<size>`` (e.g. ``certificateInstallationRes-4416``).

    Found by walking the JSON for base64 strings that decode to an EXI header
    byte 0x80, so a reshuffled spec file still yields them.
    """
    path = spec_dir() / "reference" / "ccp.v1.json"
    found: dict[bytes, str] = {}

    def walk(node: object, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and len(node) >= 16:
            try:
                data = base64.b64decode(node, validate=True)
            except (binascii.Error, ValueError):
                return
            if data[:1] == b"\x80":
                found.setdefault(data, f"{key}-{len(data)}")

    walk(json.loads(path.read_text(encoding="utf-8")), "")
    return {name: data for data, name in found.items()}
