"""`opcp ctl verify`: check a certificate trust list (format `opcp-ctl/1`, docs/ctl.md).

The source is a JSON file (what `GET /v1/root/ctl` answered), a URL (with `--token`), or a
deployment named by a target file (`--target FILE`: its first client reads the CTL). The
checks are `v2g.pki.ctl.verify`'s; with `--anchor` (a V2G root the caller already holds,
PEM or DER) the signer must chain to it, else to a V2G root the CTL lists itself. Exit code
0: valid; 1: refused (the rule is printed); 2: the CTL could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

from opcp.client import OpcpClient
from opcp.target import TargetError
from opcp.target import load as load_target
from v2g.pki import ctl
from v2g.pki.bundle import BundleError, load_certs


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ctl", help="certificate trust lists: verify one")
    sub = p.add_subparsers(dest="ctl_command", metavar="CTL_COMMAND")
    verify = sub.add_parser("verify", help="verify a CTL from a file, a URL or a deployment")
    verify.add_argument("source", nargs="?", help="a JSON file or an http(s) URL of the CTL")
    verify.add_argument("--target", type=Path, help="read the CTL from this deployment")
    verify.add_argument("--token", help="bearer token for a URL source")
    verify.add_argument("--anchor", action="append", type=Path, default=[],
                        help="a V2G root you trust (PEM/DER); repeatable")
    verify.add_argument("--previous-sequence", type=int,
                        help="the last sequence number you accepted: older CTLs are replays")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(func=_verify)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _fetch(args: argparse.Namespace) -> object:
    if args.target is not None:
        target = load_target(args.target)
        if not target.clients:
            raise ValueError(f"{args.target}: the target file has no client to read the CTL with")
        client = OpcpClient(target)
        try:
            got = client.op("getCertificateTrustList", role=target.clients[0].role)
        finally:
            client.close()
        if got.status != 200:
            raise ValueError(f"getCertificateTrustList answered {got.status}: {got.response_body[:300]}")
        return got.json()
    if args.source is None:
        raise ValueError("give a file, a URL or --target")
    if args.source.startswith(("http://", "https://")):
        headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
        resp = httpx.get(args.source, headers=headers, timeout=30)
        if resp.status_code != 200:
            raise ValueError(f"{args.source} answered {resp.status_code}: {resp.text[:300]}")
        return resp.json()
    return json.loads(Path(args.source).read_text())


def _verify(args: argparse.Namespace) -> int:
    try:
        anchors = [c for path in args.anchor for c in load_certs(path.read_bytes())]
        document = _fetch(args)
    except (OSError, ValueError, TargetError, BundleError, httpx.HTTPError) as exc:
        print(f"cannot read the CTL: {exc}", file=sys.stderr)
        return 2
    try:
        result = ctl.verify(document, anchors=anchors, min_sequence=args.previous_sequence)
    except ctl.CtlError as exc:
        if args.json:
            print(json.dumps({"valid": False, "field": exc.field, "rule": exc.rule,
                              "detail": exc.detail, "ruleText": ctl.RULES.get(exc.rule)}))
        else:
            print(f"INVALID {exc}")
            print(f"  rule {exc.rule}: {ctl.RULES.get(exc.rule, '')}")
        return 1
    if args.json:
        print(json.dumps({
            "valid": True, "sequenceNumber": result.sequence, "issuer": result.issuer,
            "thisUpdate": result.this_update.isoformat(), "nextUpdate": result.next_update.isoformat(),
            "anchoredBy": result.anchored_by, "warnings": result.warnings,
            "roots": [{"rootType": r.root_type, "fingerprintSha256": r.fingerprint,
                       "subject": r.certificate.subject.rfc4514_string(),
                       "crossCertificates": len(r.cross_certificates)} for r in result.roots]}))
        return 0
    print(f"VALID CTL #{result.sequence} of {result.issuer}: {len(result.roots)} roots,"
          f" {result.this_update:%Y-%m-%dT%H:%M:%SZ} to {result.next_update:%Y-%m-%dT%H:%M:%SZ}")
    print(f"  signed by {result.signer.subject.rfc4514_string()}, anchored in"
          f" {result.anchor.subject.rfc4514_string()} ({result.anchored_by})")
    for r in result.roots:
        cross = f", {len(r.cross_certificates)} cross-certificate(s)" if r.cross_certificates else ""
        print(f"  {r.root_type:4} {r.fingerprint}  {r.certificate.subject.rfc4514_string()}{cross}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    return 0
