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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from opcp_cli.ecosystem import UpSettings
    from opcp_cli.ecosystem import run as run_up

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the actors' own calls are noise here
    asyncio.run(run_up(UpSettings(args.data_dir, args.host, args.port, args.receiver_port, args.tls,
                                  args.csms_port or None, args.csms_tls_port)))
    return 0
