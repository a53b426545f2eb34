"""`opcp demo`: the whole Plug&Charge story with a step-by-step transcript.

Without `--target` the story runs against an embedded reference with a fresh data dir:
starting it is wiring, which is why it lives here and not among the actors.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole Plug&Charge story (embedded reference or --target)")
    p.add_argument("--target", type=Path, default=None, help="target file; default: embedded reference")
    p.add_argument("--oem-est", action="store_true",
                   help="the OEM enrolls its vehicles' provisioning certificates over EST instead of"
                        " issuing them from its own PKI")
    p.add_argument("--iso", choices=("2", "20"), default="2",
                   help="the ISO 15118 part the story speaks: 2 (default) or 20 (two contracts on"
                        " one vehicle, docs/iso20.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from opcp.target import TargetError, load
    from simulators import demo
    from simulators.common import ActorError

    if args.target is None:
        return run_embedded(oem_est=args.oem_est, iso=args.iso)
    try:
        demo.run(load(args.target), oem_est=args.oem_est, iso=args.iso)
    except TargetError as exc:
        print(f"opcp demo: {exc}", file=sys.stderr)
        return 2
    except ActorError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


def run_embedded(out: Callable[[str], None] = print, oem_est: bool = False, iso: str = "2") -> int:
    """The story against an embedded reference with a fresh data dir."""
    from opcp.target import load
    from opcp_reference.server import EmbeddedReference
    from simulators import demo
    from simulators.common import ActorError

    data = Path(tempfile.mkdtemp(prefix="opcp-demo-"))
    try:
        with EmbeddedReference(data) as reference:
            out(f"reference: {reference.base_url} (embedded, data in {data})")
            demo.run(load(data / "target.toml"), out, oem_est, iso)
        return 0
    except ActorError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(data, ignore_errors=True)
