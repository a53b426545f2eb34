"""Media types as RFC 9110 section 8.3.1 reads them, so no check depends on their spelling.

Guarantees: type and subtype compare case-insensitively; parameters follow `;` with
case-insensitive names and values that may be quoted; whitespace around either is ignored.
"""

from __future__ import annotations


def parse(header: str | None) -> tuple[str, dict[str, str]]:
    """`("type/subtype", {param: value})`, the media type lower-cased; ("", {}) for none."""
    if not header:
        return "", {}
    kind, *params = header.split(";")
    found = {}
    for param in params:
        name, _, value = param.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name.strip():
            found[name.strip().lower()] = value
    return kind.strip().lower(), found


def media_type(header: str | None) -> str:
    return parse(header)[0]


def is_json(header: str | None) -> bool:
    """application/json, or a structured +json type (RFC 6839)."""
    kind = media_type(header)
    return kind == "application/json" or kind.endswith("+json")
