"""The `opcp` command line.

Each command group lives in its own module of this package and exposes
``register(subparsers)``, which adds its sub-commands; each sub-command sets
``func`` to a callable taking the parsed arguments and returning an exit code.
Adding a group means adding its module name to ``GROUPS``.

A command never ends in a traceback: Ctrl-C exits 130, a reader that closed the pipe
(`opcp exi decode ... | head`) ends the command quietly, and an unexpected error is one line
naming it (set OPCP_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Modules of this package that contribute commands, in the order `opcp --help` lists them.
GROUPS = ["serve", "up", "station", "demo", "check", "target", "report", "coverage", "selftest", "admin",
          "exi", "pki", "ctl"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opcp",
        description="OPCP conformance harness: reference ecosystem, simulators and conformance suite.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUPS:
        try:
            module = importlib.import_module(f"opcp_cli.{name}")
        except ModuleNotFoundError as exc:
            # A group whose module is not there yet is simply absent; any other import error is a bug.
            if exc.name != f"opcp_cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("opcp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and nowhere to say it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        if os.environ.get("OPCP_DEBUG"):
            raise
        print(f"opcp {args.command}: {type(exc).__name__}: {exc} (OPCP_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
