"""The reference in a process of its own, for a program that needs a running one (the suite).

Guarantees:
- `ReferenceProcess.start()` returns once the child serves on a free loopback port and has
  written its target file (`data_dir/target.toml`), exactly as `EmbeddedReference` does in a
  thread; the child's CPU is its own, so on a machine with two cores the reference and the
  program driving it no longer share one interpreter.
- The child lives no longer than its parent: it stops when `stop()` closes its stdin, when the
  parent dies (its stdin reaches end of file) or on SIGTERM, and stops within
  `SHUTDOWN_SECONDS` as `opcp serve` does; `stop()` kills it if it does not.
- A child that cannot start (a bad store URL, a fault name it does not know) is a
  `ReferenceProcessError` carrying the child's own message, never a hang: the parent waits at
  most `start_timeout` seconds for the ready line.
- The child's log goes to `data_dir/reference.log`, kept with the data dir.

The settings cross the process boundary as one JSON line on the child's stdin
(`ChildSettings`), so the child starts with what the parent would have given
`EmbeddedReference`; `launch()` starts the interpreter before the settings are known, so that
two references launched together import their code at the same time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import selectors
import subprocess
import sys
import time
from pathlib import Path

from opcp_reference.domain.events import DeliverySettings, RetryPolicy


class ReferenceProcessError(RuntimeError):
    """The child reference did not start; the message is the child's own."""


@dataclasses.dataclass
class ChildSettings:
    """What the child reference is opened with (see `opcp_reference.server.open_reference`)."""

    data_dir: str
    faults: list[str] = dataclasses.field(default_factory=list)
    peers: list[str] = dataclasses.field(default_factory=list)  # target files of peer ecosystems
    store: str | None = None
    webhooks: dict | None = None  # DeliverySettings as a dict (its retry a dict too)
    peer_read_seconds: float | None = None  # None: the reference's default

    def delivery(self) -> DeliverySettings | None:
        if self.webhooks is None:
            return None
        fields = dict(self.webhooks)
        return DeliverySettings(**{**fields, "retry": RetryPolicy(**fields["retry"])})


class ReferenceProcess:
    """A reference served by a child Python process on a free loopback port."""

    def __init__(self, data_dir: Path, faults: list[str] | tuple[str, ...] = (),
                 webhooks: DeliverySettings | None = None,
                 peers: list[Path] | tuple[Path, ...] = (), store: str | None = None,
                 peer_read_seconds: float | None = None, start_timeout: float = 60.0):
        self.data_dir = Path(data_dir)
        self.settings = ChildSettings(
            data_dir=str(self.data_dir), faults=list(faults), peers=[str(p) for p in peers],
            store=store, webhooks=dataclasses.asdict(webhooks) if webhooks else None,
            peer_read_seconds=peer_read_seconds)
        self.start_timeout = start_timeout
        self.port = 0
        self._proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def target_file(self) -> Path:
        return self.data_dir / "target.toml"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "reference.log"

    def launch(self) -> ReferenceProcess:
        """Start the child's interpreter, which imports the reference and then waits for its
        settings: processes launched together load their code in parallel, and `start` may
        follow once what the settings name (a peer's target file) exists."""
        if self._proc is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            log = self.log_file.open("ab")
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "opcp_reference.embedded_process"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
            finally:
                log.close()
        return self

    def start(self) -> ReferenceProcess:
        self.launch()
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(dataclasses.asdict(self.settings)).encode() + b"\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            pass  # the child is gone already: its log says why (below)
        line = self._ready_line()
        try:
            ready = json.loads(line)
            self.port = int(ready["port"])
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise ReferenceProcessError(self._failure(line)) from None
        return self

    def _ready_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    return self._proc.stdout.readline().decode(errors="replace")
        self.stop()
        raise ReferenceProcessError(f"the reference did not start within {self.start_timeout:g} s"
                                    f" (its log: {self.log_file})")

    def _failure(self, line: str) -> str:
        log = self.log_file
        lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        said = lines[-1] if lines else (line.strip() or "no output")
        return f"the reference did not start: {said} (its log: {log})"

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        from opcp_reference.server import SHUTDOWN_SECONDS

        if proc.stdin is not None:
            proc.stdin.close()  # the child's signal to stop
        try:
            proc.wait(timeout=SHUTDOWN_SECONDS + 5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> ReferenceProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


async def _serve(settings: ChildSettings) -> None:
    import signal

    from opcp_reference.server import open_reference, serve_on_free_port, write_target_file

    ref = open_reference(Path(settings.data_dir), settings.faults, webhooks=settings.delivery(),
                         peers=[Path(p) for p in settings.peers], store=settings.store)
    if settings.peer_read_seconds is not None:
        ref.peer_read_seconds = settings.peer_read_seconds
    runner, port = await serve_on_free_port(ref)
    try:
        write_target_file(ref, f"http://127.0.0.1:{port}")
        sys.stdout.write(json.dumps({"port": port}) + "\n")
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        # The parent closes our stdin to stop us, and so does its death.
        loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(65536) or stop.set())
        await stop.wait()
    finally:
        await runner.cleanup()
        ref.store.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import opcp_reference.app  # noqa: F401  (loaded before the settings arrive: see launch)
    import opcp_reference.server  # noqa: F401

    line = sys.stdin.readline()
    if not line:
        return 0  # the parent went away before it sent the settings
    try:
        settings = ChildSettings(**json.loads(line))
    except (ValueError, TypeError) as exc:
        print(f"opcp_reference.embedded_process: the first line is ChildSettings as JSON ({exc})",
              file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(settings))
    except Exception as exc:  # the parent shows this line as the reason the child did not start
        logging.getLogger("opcp.reference").exception("stopped")
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
