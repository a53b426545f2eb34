"""`opcp pki ...`: make a test PKI on disk and check certificate chains."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from v2g.pki.bundle import BundleError, load_certs, order_chain
from v2g.pki.certinfo import CertParseError, load_cert
from v2g.pki.testpki import DEFAULT_OCSP_URL, ManifestError, TestPki, layout_for
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("pki", help="ISO 15118 test PKI: create, list, validate chains")
    sub = p.add_subparsers(dest="pki_command", metavar="PKI_COMMAND")

    init = sub.add_parser("init", help="write a complete multi-root test PKI to DIR")
    init.add_argument("dir", type=Path)
    init.add_argument("--ocsp-url", default=DEFAULT_OCSP_URL,
                      help=f"OCSP URL put in AIA (default {DEFAULT_OCSP_URL})")
    init.add_argument("--force", action="store_true", help="overwrite an existing manifest")
    init.add_argument("--iso", action="append", choices=["2", "20"],
                      help="ISO 15118 part(s) whose hierarchies to make (repeatable; default 2)")
    init.set_defaults(func=_init)

    show = sub.add_parser("list", help="list the certificates of a PKI directory")
    show.add_argument("dir", type=Path)
    show.set_defaults(func=_list)

    val = sub.add_parser("validate", help="validate a chain (leaf first) against trusted roots")
    val.add_argument("chain", nargs="+", type=Path,
                     help="certificate files (PEM, DER, PKCS#7 bundles) in any order")
    val.add_argument("--trust", action="append", type=Path, default=[],
                     help="trusted root (PEM/DER file) or a PKI directory (all its roots)")
    val.add_argument("--purpose", choices=[p.value for p in Purpose])
    val.add_argument("--at", help="validation time, ISO 8601 (default now)")
    val.add_argument("--iso", choices=["2", "20"], default="2",
                     help="validate as an ISO 15118-2 (default) or -20 chain")
    val.set_defaults(func=_validate)


def _init(args: argparse.Namespace) -> int:
    if (args.dir / "manifest.json").exists() and not args.force:
        print(f"{args.dir}/manifest.json exists; use --force to overwrite", file=sys.stderr)
        return 1
    pki = TestPki.build(ocsp_url=args.ocsp_url, layout=layout_for(*(args.iso or ["2"])))
    path = pki.write(args.dir)
    print(f"wrote {len(pki.entries)} certificates and keys; manifest {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        pki = TestPki.load(args.dir)
    except ManifestError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for name, e in pki.entries.items():
        c = e.issued.cert
        print(f"{name:24} {e.role.value:4} {e.kind.value:5} {e.issued.profile.name:18} "
              f"{c.not_valid_after_utc.date()} {c.subject.rfc4514_string()}")
    return 0


def _trust(paths: list[Path]) -> TrustStore:
    store = TrustStore()
    for p in paths:
        if p.is_dir():
            pki = TestPki.load(p)
            for issued in pki.roots():
                store.anchors.append(TrustAnchor(issued.cert, issued.profile.role))
        else:
            store.add(load_cert(p.read_bytes()))
    return store


def _validate(args: argparse.Namespace) -> int:
    try:
        at = dt.datetime.fromisoformat(args.at) if args.at else None
        store = _trust(args.trust)
        certs = [c for p in args.chain for c in load_certs(p.read_bytes())]
        result = validate_chain(order_chain(certs), store, purpose=args.purpose, at=at,
                                iso=args.iso)
    except ChainError as exc:
        print(json.dumps({"valid": False, "position": exc.position, "subject": exc.subject,
                          "rule": exc.rule, "detail": exc.detail}))
        return 1
    except BundleError as exc:
        print(json.dumps({"valid": False, "position": None, "subject": None, "rule": exc.rule,
                          "detail": exc.detail}))
        return 1
    except (CertParseError, ManifestError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({
        "valid": True,
        "anchor": result.anchor.cert.subject.rfc4514_string(),
        "anchorRole": result.anchor.role.value,
        "findings": [{"position": f.position, "subject": f.subject, "rule": f.rule,
                      "detail": f.detail} for f in result.findings],
    }))
    return 0
