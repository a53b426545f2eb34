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
    p.add_argument("--tls-cert", type=Path, default=None, help="serve HTTPS with this certificate")
    p.add_argument("--tls-key", type=Path, default=None)
    p.add_argument("--client-ca", type=Path, default=None,
                   help="require client certificates issued by this CA (mutual TLS)")
    p.add_argument("--allow-tls12", action="store_true",
                   help="also accept TLS 1.2 (default: TLS 1.3 only)")
    p.add_argument("--webhook-retry-seconds", type=float, default=3600.0, metavar="N",
                   help="interval between webhook delivery retries (default: the spec's hour)")
    p.add_argument("--fault", action="append", default=[], metavar="NAME",
                   help="switch on a deliberate fault (for proving the suite); repeatable")
    p.add_argument("--public-url", default=None,
                   help="base URL under which this instance is reached, baked into the OCSP URL"
                        " of its certificates at first start (default http://HOST:PORT)")
    p.add_argument("--peer", action="append", default=[], type=Path, metavar="FILE",
                   help="target file of another ecosystem to forward provisioning certificate"
                        " lookups to (pool collaboration); repeatable")
    p.add_argument("--strict", action="store_true", help="refuse deployed clients' habits (docs/clients.md)")
    p.add_argument("--store", default=None, metavar="URL",
                   help="postgresql://... to share one ecosystem between instances (default:"
                        " $OPCP_STORE, else DATA_DIR/opcp.sqlite3); instances of one store share"
                        " the master key (OPCP_MASTER_KEY, OPCP_MASTER_KEY_FILE or the data dir)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from opcp_reference.domain.events import DeliverySettings, RetryPolicy
    from opcp_reference.faults import FAULTS
    from opcp_reference.server import DEFAULT_AUDIENCE, serve, store_from_environment

    unknown = [f for f in args.fault if f not in FAULTS]
    if unknown:
        print(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
        return 2
    ssl_context = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            print("opcp serve: --tls-cert and --tls-key go together")
            return 2
        from opcp_reference.tls import server_context

        ssl_context = server_context(args.tls_cert, args.tls_key, args.client_ca,
                                     args.allow_tls12)
    elif args.client_ca:
        print("opcp serve: --client-ca needs --tls-cert and --tls-key")
        return 2
    if args.webhook_retry_seconds <= 0:
        print("--webhook-retry-seconds: must be a positive number of seconds")
        return 2
    store = args.store or store_from_environment()
    if store is not None and "://" in store and not store.startswith(("postgresql://", "postgres://")):
        print(f"--store: {store.split('://')[0]}:// is not a store; give postgresql://... or a file")
        return 2
    webhooks = DeliverySettings(retry=RetryPolicy(interval_seconds=args.webhook_retry_seconds))
    serve(args.data_dir, args.host, args.port, args.fault, args.audience or DEFAULT_AUDIENCE,
          args.public_url, args.peer, ssl_context, webhooks, strict=args.strict, store=store)
    return 0
