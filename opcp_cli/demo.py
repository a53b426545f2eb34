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
    p.add_argument("--curve", choices=("secp521r1", "ed448"), default="secp521r1",
                   help="with --iso 20: the vehicle's provisioning algorithm; ed448 certifies an X448"
                        " key for the contract key's ECDHE, from the OEM's PKI or with --oem-est"
                        " over EST (docs/iso20.md)")
    p.add_argument("--ecosystems", type=int, default=1, choices=(1, 2), metavar="N",
                   help="2: the story across two peered ecosystems (vehicle and CPO of A, MO of"
                        " B; A's pool forwards to B); with --target, the file's [peer] is B")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from opcp.target import TargetError, load
    from simulators import demo
    from simulators.actor_calls import ActorError

    if args.ecosystems == 2 and args.oem_est:
        print("opcp demo: --oem-est is not part of the two-ecosystem story", file=sys.stderr)
        return 2
    if args.ecosystems == 2 and args.iso == "20":
        print("opcp demo: --iso 20 is not part of the two-ecosystem story", file=sys.stderr)
        return 2
    if args.curve != "secp521r1" and args.iso != "20":
        print(f"opcp demo: --curve {args.curve} needs --iso 20 (ISO 15118-2 vehicles are"
              " secp256r1)", file=sys.stderr)
        return 2
    if args.target is None:
        if args.ecosystems == 2:
            return run_embedded_across()
        return run_embedded(oem_est=args.oem_est, iso=args.iso, curve=args.curve)
    try:
        target = load(args.target)
        if args.ecosystems == 2:
            if target.peer is None:
                print(f"opcp demo: --ecosystems 2: {args.target} names no peer ecosystem ([peer]"
                      " with its target_file, or its keys inline)", file=sys.stderr)
                return 2
            demo.run_across(target, target.peer)
        else:
            demo.run(target, oem_est=args.oem_est, iso=args.iso, curve=args.curve)
    except TargetError as exc:
        print(f"opcp demo: {exc}", file=sys.stderr)
        return 2
    except ActorError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


def _in_fresh_data_dir(play: Callable[[Path], None]) -> int:
    """Run `play` on a fresh temporary data dir (removed afterwards); an actor's failure is one
    line on stderr and exit 1."""
    from simulators.actor_calls import ActorError

    data = Path(tempfile.mkdtemp(prefix="opcp-demo-"))
    try:
        play(data)
        return 0
    except ActorError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(data, ignore_errors=True)


def run_embedded(out: Callable[[str], None] = print, oem_est: bool = False, iso: str = "2",
                 curve: str = "secp521r1") -> int:
    """The story against an embedded reference with a fresh data dir."""
    from opcp.target import load
    from opcp_reference.server import EmbeddedReference
    from simulators import demo

    def play(data: Path) -> None:
        with EmbeddedReference(data) as reference:
            out(f"reference: {reference.base_url} (embedded, data in {data})")
            demo.run(load(data / "target.toml"), out, oem_est, iso, curve)
    return _in_fresh_data_dir(play)


def run_embedded_across(out: Callable[[str], None] = print) -> int:
    """The two-ecosystem story against two embedded references, each the other's peer."""
    from opcp.target import load
    from opcp_reference.server import EmbeddedReference
    from simulators import demo

    def play(data: Path) -> None:
        with EmbeddedReference(data / "a") as ref_a, EmbeddedReference(data / "b") as ref_b:
            target_a, target_b = load(data / "a" / "target.toml"), load(data / "b" / "target.toml")
            ref_a.ref.peers, ref_b.ref.peers = (target_b,), (target_a,)
            out(f"ecosystem A: {ref_a.base_url} (embedded, data in {data / 'a'}; peer: B)")
            out(f"ecosystem B: {ref_b.base_url} (embedded, data in {data / 'b'}; peer: A)")
            demo.run_across(target_a, target_b, out)
    return _in_fresh_data_dir(play)
