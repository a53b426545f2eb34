"""`opcp demo`: the whole Plug&Charge story with a step-by-step transcript."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole Plug&Charge story (embedded reference or --target)")
    p.add_argument("--target", type=Path, default=None, help="target file; default: embedded reference")
    p.add_argument("--oem-est", action="store_true",
                   help="the OEM enrolls its vehicles' provisioning certificates over EST instead of"
                        " issuing them from its own PKI")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from simulators import demo
    from simulators.common import ActorError

    if args.target is None:
        return demo.main_embedded(oem_est=args.oem_est)
    from opcp.target import TargetError, load

    try:
        demo.run(load(args.target), oem_est=args.oem_est)
    except TargetError as exc:
        print(f"opcp demo: {exc}", file=sys.stderr)
        return 2
    except ActorError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0
