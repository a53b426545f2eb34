"""``opcp exi``: decode, encode and verify ISO 15118-2 EXI messages.

FILE may hold raw EXI, base64 text of EXI, or XML; ``-`` reads standard input.
Exit codes: 0 success (or a valid signature), 1 invalid signature (the reason is printed),
2 unusable input (the error names the bit offset and what was expected).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys

from v2g import exi, xmldsig
from v2g.errors import ExiError, SignatureError
from v2g.exi.schemas import ISO20_SCHEMAS

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("exi", help="decode, encode and verify ISO 15118-2 and -20 EXI messages")
    sub = p.add_subparsers(dest="exi_command", metavar="ACTION")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("file", metavar="FILE", help="raw EXI, base64 EXI or XML; '-' for stdin")
        sp.add_argument("--iso", choices=["2", "20"], default="2",
                        help="the part of ISO 15118 (default 2)")
        sp.add_argument("--schema", default=None,
                        help="the grammar: with --iso 2 iso2 (V2G_CI_MsgDef, default), app"
                             " (SupportedAppProtocol) or xmldsig; with --iso 20 common (default),"
                             " dc, ac, acdp, wpt, app or xmldsig")
        sp.add_argument("--fragment", action="store_true", help="an EXI fragment, not a document")

    d = sub.add_parser("decode", help="EXI (raw or base64) to XML on stdout")
    common(d)
    d.add_argument("--pretty", action="store_true", help="indent the XML, one element per line")
    d.set_defaults(func=cmd_decode)
    e = sub.add_parser("encode", help="XML (or EXI, re-encoded) to EXI on stdout")
    common(e)
    e.add_argument("--base64", action="store_true", help="write base64 text instead of raw bytes")
    e.set_defaults(func=cmd_encode)
    v = sub.add_parser("verify", help="check the XMLDSig signature of a V2G message")
    common(v)
    v.add_argument("--cert", metavar="CERT",
                   help="signer certificate (PEM, DER or base64 DER); default: the one the message carries")
    v.set_defaults(func=cmd_verify)
    p.set_defaults(func=lambda args: (p.print_help(), EXIT_UNUSABLE)[1])


ISO2_SCHEMAS = {"iso2": "iso2", "app": "app", "xmldsig": "xmldsig"}


def schema_set(args: argparse.Namespace) -> str:
    """The codec's schema set for --iso and --schema; an unknown pair is a usage error naming
    the valid ones."""
    names = {**ISO20_SCHEMAS, "xmldsig": "xmldsig"} if args.iso == "20" else ISO2_SCHEMAS
    chosen = args.schema or ("common" if args.iso == "20" else "iso2")
    if chosen in names.values():
        return chosen
    if chosen not in names:
        raise SystemExit(f"opcp exi: --schema {chosen} is not a grammar of ISO 15118-{args.iso};"
                         f" choose one of {', '.join(names)}")
    return names[chosen]


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def load_input(raw: bytes) -> tuple[str, bytes | str]:
    """Classify input: ("exi", bytes) or ("xml", text). Raises ExiError if it is neither."""
    if raw[:1] == b"\x80" or raw[:4] == b"$EXI":
        return "exi", raw
    try:
        text = raw.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return "exi", raw  # binary but not a valid header: let the decoder say why
    if text.startswith("<"):
        return "xml", text
    try:
        return "exi", exi.from_base64(text)
    except ExiError as exc:
        raise ExiError("input is neither EXI, base64 nor XML", 0, "EXI header 0x80, base64 or '<'") from exc


def indent_xml(xml: str) -> str:
    """The same XML with one element per line, indented by depth (text content untouched)."""
    from xml.dom import minidom

    pretty = minidom.parseString(xml.encode()).toprettyxml(indent="  ", encoding="utf-8").decode()
    return "\n".join(line for line in pretty.splitlines() if line.strip())


def _fail(message: str, code: int = EXIT_UNUSABLE) -> int:
    print(f"opcp exi: {message}", file=sys.stderr)
    return code


def cmd_decode(args: argparse.Namespace) -> int:
    try:
        kind, data = load_input(_read(args.file))
        if kind == "xml":
            return _fail("decode takes EXI (raw or base64); this is XML, use 'opcp exi encode'")
        assert isinstance(data, bytes)
        xml = exi.exi_to_xml(data, schema_set(args), args.fragment)
    except (ExiError, OSError) as exc:
        return _fail(str(exc))
    print(indent_xml(xml) if args.pretty else xml)  # a closed pipe is the CLI's to handle
    return EXIT_OK


def cmd_encode(args: argparse.Namespace) -> int:
    try:
        kind, data = load_input(_read(args.file))
        if kind == "xml":
            assert isinstance(data, str)
            out = exi.xml_to_exi(data, schema_set(args), args.fragment)
        else:
            assert isinstance(data, bytes)
            schema = schema_set(args)
            out = exi.encode(exi.decode(data, schema, args.fragment), schema, args.fragment)
    except (ExiError, OSError) as exc:
        return _fail(str(exc))
    if args.base64:
        print(base64.b64encode(out).decode("ascii"))
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(out)
        sys.stdout.buffer.flush()
    return EXIT_OK


def _read_cert(path: str) -> bytes:
    raw = _read(path)
    if raw.lstrip().startswith(b"-----BEGIN") or raw[:1] == b"\x30":
        return raw
    try:
        return base64.b64decode(b"".join(raw.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("certificate is neither PEM, DER nor base64 DER", "certificate") from exc


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        kind, data = load_input(_read(args.file))
        schema = schema_set(args)
        if kind == "xml":
            data = exi.xml_to_exi(data, schema)  # type: ignore[arg-type]
        root = exi.decode(data, schema)  # type: ignore[arg-type]
        cert = _read_cert(args.cert) if args.cert else None
        result = xmldsig.verify(root, cert)
    except (ExiError, SignatureError, OSError) as exc:
        return _fail(str(exc))
    if result.valid:
        print(f"valid: {len(result.references)} reference(s) {', '.join(result.references)}; "
              f"key from {result.signer}")
        return EXIT_OK
    for reason in result.reasons:
        print(f"invalid: {reason}")
    return EXIT_INVALID
