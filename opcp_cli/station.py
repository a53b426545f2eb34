"""`opcp station`: a simulated charging station runs a whole Plug&Charge session at a CSMS.

Against `opcp up`'s CSMS by default: the station's identity and password come from the local
stations file (`DATA_DIR/csms/stations.json`), the vehicle and its contract from the ecosystem
named by `DATA_DIR/target.toml` (the OEM enrolls over EST, the CPS generates the contract), and
the session is boot, status, contract installation, certificate status, authorization with the
contract, and a transaction started and stopped (docs/csms.md). `--iso 20`: an ISO 15118-20
vehicle with two contracts, installed over two exchanges of one V2G session (docs/iso20.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("station", help="run a Plug&Charge session as a charging station at a CSMS")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="the data dir of opcp up")
    p.add_argument("--target", type=Path, default=None, help="default: DATA_DIR/target.toml")
    p.add_argument("--station", default="CS-001",
                   help="the identity in DATA_DIR/csms/stations.json (CS-001 profile 1, CS-002 "
                        "profile 2, CS-003 profile 3)")
    p.add_argument("--url", default=None,
                   help="the CSMS (default: ws://127.0.0.1:9000, or wss://127.0.0.1:9443 for "
                        "profiles 2 and 3)")
    p.add_argument("--iso", choices=("2", "20"), default="2",
                   help="the vehicle's ISO 15118 part: 2 (default) or 20 (two contracts installed"
                        " over two Get15118EVCertificate exchanges, docs/iso20.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from opcp.client import OpcpClient
    from opcp.target import TargetError, load
    from simulators.actor_calls import ActorError
    from simulators.csms_security import local_stations
    from simulators.station import local_identity, run_station

    target_file = args.target or args.data_dir / "target.toml"
    try:
        identity = local_identity(args.data_dir, args.station)
        target = load(target_file)
    except (ValueError, OSError, TargetError) as exc:
        print(f"opcp station: {exc} (is `opcp up --data-dir {args.data_dir}` running?)",
              file=sys.stderr)
        return 2
    profile = next(s.security_profile for s in local_stations(args.data_dir / "csms" / "stations.json")
                   if s.station_id == identity.station_id)
    url = args.url or ("ws://127.0.0.1:9000" if profile == 1 else "wss://127.0.0.1:9443")
    client = OpcpClient(target)
    try:
        report = run_station(client, f"{url.rstrip('/')}/{identity.station_id}", identity,
                             iso=args.iso)
    except (ActorError, OSError) as exc:
        print(f"opcp station: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    for step in report.steps:
        print(step)
    print("session complete" if report.ended else "session did not complete", flush=True)
    return 0 if report.ended else 1
