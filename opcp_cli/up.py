"""`opcp up`: run the reference and the actors' receivers until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="run the reference ecosystem and webhook receivers until Ctrl-C")
    p.add_argument("--data-dir", type=Path, default=Path("data"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--receiver-port", type=int, default=8090)
    p.add_argument("--tls", action="store_true",
                   help="serve HTTPS with a local CA made on first use (DATA_DIR/tls/ca.pem)")
    p.add_argument("--csms-port", type=int, default=9000,
                   help="the CPO's OCPP 2.0.1 CSMS for stations (ws); 0: no CSMS (docs/csms.md)")
    p.add_argument("--csms-tls-port", type=int, default=9443, help="the CSMS over wss")
    p.add_argument("--ecosystems", type=int, default=1, metavar="N",
                   help="run N peered ecosystems with different V2G roots (DATA_DIR/a, b, ...; "
                        "ports PORT+i, RECEIVER_PORT+i; docs/ecosystems.md)")
    register_instances(p)
    p.set_defaults(func=run)


def register_instances(p: argparse.ArgumentParser) -> None:
    p.add_argument("--instances", type=int, default=1, metavar="N",
                   help="run N reference instances on one --store behind nginx (opcp_cli/front.py)")
    p.add_argument("--store", default=None, metavar="URL",
                   help="postgresql://... (needed for --instances > 1; default: SQLite in DATA_DIR)")


def run_instances(args: argparse.Namespace) -> int | None:
    """`--instances N`: the front over N instances; None when one in-process instance runs."""
    if args.instances == 1 and args.store is None:
        return None
    if args.instances < 1:
        print("--instances: must be 1 or more")
        return 2
    if not (args.store or "").startswith(("postgresql://", "postgres://")):
        print("--store: several instances share one PostgreSQL store: give postgresql://...")
        return 2
    if args.tls:
        print("--tls: not with --instances (terminate TLS in nginx; docs/scale.md)")
        return 2
    from opcp_cli.ecosystem import UpSettings
    from opcp_cli.front import run as run_front

    asyncio.run(run_front(UpSettings(args.data_dir, args.host, args.port, args.receiver_port),
                          args.instances, args.store))
    return 0


def run(args: argparse.Namespace) -> int:
    import logging

    from opcp_cli.ecosystem import UpSettings
    from opcp_cli.ecosystem import run as run_up

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the actors' own calls are noise here
    if args.ecosystems != 1:
        from opcp_cli.ecosystem import ecosystem_names

        try:
            ecosystem_names(args.ecosystems)
        except ValueError as exc:
            print(exc)
            return 2
        if args.instances != 1 or args.store is not None:
            print("--ecosystems: not with --instances or --store (each ecosystem keeps SQLite in"
                  " its own data dir)")
            return 2
    fronted = run_instances(args)
    if fronted is not None:
        return fronted
    asyncio.run(run_up(UpSettings(args.data_dir, args.host, args.port, args.receiver_port, args.tls,
                                  args.csms_port or None, args.csms_tls_port, args.ecosystems)))
    return 0
