"""Operator commands on a reference's data dir: `opcp audit`, `opcp keys rotate`,
`opcp pcp cleanse`, `opcp ccp cleanse`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="read the reference's audit trail")
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--since", default=None, help="ISO 8601 time, e.g. 2026-11-25T10:00")
    p.add_argument("--client", default=None, help="only this client id")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=run_audit)
    k = sub.add_parser("keys", help="manage the reference's token signing keys")
    k.add_argument("action", choices=["rotate"])
    k.add_argument("--data-dir", type=Path, required=True)
    k.set_defaults(func=run_keys)
    register_tls(sub)
    c = sub.add_parser("pcp", help="maintain the reference's Provisioning Certificate Pool")
    c.add_argument("action", choices=["cleanse"],
                   help="cleanse: delete expired and revoked provisioning certificates")
    c.add_argument("--data-dir", type=Path, required=True)
    c.set_defaults(func=run_pcp)
    c = sub.add_parser("ccp", help="maintain the reference's Contract Certificate Pool")
    c.add_argument("action", choices=["cleanse"],
                   help="cleanse: delete contracts whose certificate expired or is revoked")
    c.add_argument("--data-dir", type=Path, required=True)
    c.set_defaults(func=run_ccp)


def _open(data_dir: Path):
    """The store of the reference in `data_dir`: OPCP_STORE (a PostgreSQL URL) if set, else
    the data dir's SQLite file; the data dir's master key opens its secrets."""
    from opcp_reference.server import default_store, open_store, store_from_environment

    location = store_from_environment() or default_store(data_dir)
    if "://" not in location and not Path(location).exists():
        raise SystemExit(f"opcp: {data_dir} holds no reference store (opcp.sqlite3)")
    return open_store(location, data_dir)


def run_audit(args: argparse.Namespace) -> int:
    from opcp_reference import audit

    rows = audit.read(_open(args.data_dir), since=args.since, client_id=args.client)
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{row['at']}  {row['status']}  {row['client_id'] or '-':12} "
                  f"{row['role'] or '-':7} {row['operation']:28} {','.join(row['object_ids'])}"
                  f"  traceId={row['trace_id']}")
    return 0


def run_keys(args: argparse.Namespace) -> int:
    from opcp_reference.domain import auth

    kid = auth.rotate_signing_key(_open(args.data_dir))
    print(f"new signing key {kid}; tokens of the previous key stay valid until they expire")
    return 0


def register_tls(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tls", help="make a local CA, server and client certificates for HTTPS")
    p.add_argument("action", choices=["init"])
    p.add_argument("directory", type=Path)
    p.add_argument("--host", action="append", default=None,
                   help="server name or IP (repeatable; default localhost and 127.0.0.1)")
    p.set_defaults(func=run_tls)


def run_tls(args: argparse.Namespace) -> int:
    from opcp_reference.tls import make_local_tls

    made = make_local_tls(args.directory, tuple(args.host or ("localhost", "127.0.0.1")))
    for name, path in made.items():
        print(f"{name}: {path.with_suffix('.pem')}" + ("" if name == "ca" else
                                                      f"  key: {path.with_suffix('.key')}"))
    return 0


def run_pcp(args: argparse.Namespace) -> int:
    import asyncio

    from opcp_reference.domain import pcp
    from opcp_reference.domain.pki import StatusChecker

    store = _open(args.data_dir)
    deleted = asyncio.run(pcp.cleanse(store, StatusChecker(store)))
    for pcid, reason in deleted:
        print(f"deleted {pcid}: {reason}")
    print(f"{len(deleted)} provisioning certificate(s) deleted")
    return 0


def run_ccp(args: argparse.Namespace) -> int:
    import asyncio

    from opcp_reference.domain.ccp_cleansing import cleanse
    from opcp_reference.domain.pki import StatusChecker

    store = _open(args.data_dir)
    deleted = asyncio.run(cleanse(store, StatusChecker(store)))
    for emaid, pcid, reason in deleted:
        print(f"deleted {emaid} for PCID {pcid}: {reason}")
    print(f"{len(deleted)} contract(s) deleted")
    return 0
