"""`opcp report`: the last run's results as a report a person can open, and a statement a
vendor can hand over.

- `opcp report` renders the Allure results as one self-contained HTML file (Allure's
  single-file mode), `reports/allure-report/index.html`, which opens from disk in any browser;
- `opcp report --multi-file` writes Allure's directory layout (to publish on a web server);
- `opcp report --serve` renders the multi-file report and serves it on 127.0.0.1 until Ctrl-C;
- `opcp report --statement` writes the one-page conformance statement (HTML and PDF) of the
  same results (`opcp_cli.statement`).

The report's title carries the run's score and coverage (`score.json`, written by
`opcp check`), the same figures as the console's; Allure's own "pass rate" is unweighted.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import sys
from pathlib import Path

from opcp import paths, results
from opcp_cli.arguments import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render the last run's results: HTML report, or a statement")
    p.add_argument("--results", type=Path, default=paths.ALLURE_RESULTS)
    p.add_argument("--output", type=Path, default=None,
                   help=f"where to write (default: {paths.ALLURE_REPORT}; with --statement: "
                        f"{paths.REPORTS / 'statement'})")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--serve", action="store_true",
                      help="serve the report on http://127.0.0.1:PORT until Ctrl-C")
    mode.add_argument("--statement", action="store_true",
                      help="write the one-page conformance statement (statement.html and .pdf)")
    p.add_argument("--port", type=positive_int, default=8000, help="port for --serve")
    p.add_argument("--multi-file", action="store_true",
                   help="Allure's directory layout (index.html and data/, to publish on a web server) "
                        "instead of one file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.statement:
        from opcp_cli.statement import write

        return write(args.results, args.output or paths.REPORTS / "statement")
    output = args.output or paths.ALLURE_REPORT
    if args.serve:
        code = render(args.results, output, single_file=False)
        return code if code else serve(output, args.port)
    return render(args.results, output, single_file=not args.multi_file)


def report_name(results_dir: Path) -> str:
    record = results.read_score(results_dir)
    if record is None:
        return "OPCP conformance"
    overall, cov = record["scores"].get("overall"), record["coverage"]["overall"]
    shown = "n/a" if overall is None else f"{overall:.1f}%"
    return (f"OPCP conformance: score {shown} ({record['profile']}), coverage "
            f"{cov['applicable']}/{cov['total']} applicable")


def render(results_dir: Path, output: Path, *, single_file: bool = True) -> int:
    allure = paths.allure_command()
    if allure is None:
        print("opcp report: the Allure command line is not installed; run `python3 run.py "
              "check` (it installs it with npm into .tools/) or set OPCP_ALLURE",
              file=sys.stderr)
        return 2
    if not results_dir.is_dir() or not any(results_dir.glob("*-result.json")):
        print(f"opcp report: no Allure results in {results_dir}; run `opcp check` first",
              file=sys.stderr)
        return 2
    command = [allure, "generate", str(results_dir), "-o", str(output), "--clean",
               "--name", report_name(results_dir)]
    if single_file:
        command.append("--single-file")
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"opcp report: allure failed:\n{proc.stdout}{proc.stderr}", file=sys.stderr)
        return proc.returncode
    index = output.resolve() / "index.html"
    if single_file:
        print(f"HTML report: {index} (one file: open it in a browser, or send it)")
    else:
        print(f"HTML report: {index}")
    return 0


def serve(directory: Path, port: int) -> int:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        print(f"opcp report: cannot listen on 127.0.0.1:{port} ({exc.strerror}); try --port",
              file=sys.stderr)
        return 2
    print(f"serving the report on http://127.0.0.1:{server.server_address[1]}/ ; Ctrl-C stops",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("stopped")
    return 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass
