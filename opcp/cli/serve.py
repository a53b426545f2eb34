"""`opcp serve`: run the reference ecosystem."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the reference OPCP ecosystem (HTTP)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--data-dir", type=Path, default=Path("data"),
                   help="state directory (SQLite store, clients.json); created if missing")
    p.add_argument("--audience", default=None, help="the token audience this instance serves")
    p.add_argument("--fault", action="append", default=[], metavar="NAME",
                   help="switch on a deliberate fault (for proving the suite); repeatable")
    p.add_argument("--public-url", default=None,
                   help="base URL under which this instance is reached, baked into the OCSP URL"
                        " of its certificates at first start (default http://HOST:PORT)")
    p.add_argument("--peer", action="append", default=[], type=Path, metavar="FILE",
                   help="target file of another ecosystem to forward provisioning certificate"
                        " lookups to (pool collaboration); repeatable")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from opcp_reference.faults import FAULTS
    from opcp_reference.server import DEFAULT_AUDIENCE, serve

    unknown = [f for f in args.fault if f not in FAULTS]
    if unknown:
        print(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
        return 2
    serve(args.data_dir, args.host, args.port, args.fault, args.audience or DEFAULT_AUDIENCE,
          args.public_url, args.peer)
    return 0
