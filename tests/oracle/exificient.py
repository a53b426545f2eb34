"""EXIficient as a test oracle: one long-running JVM driven over pipes.

A JVM costs about half a second to start and EXIficient about as much again to
build the MsgDef grammar, so thousands of messages go through one process.
The wire protocol is documented in ``java/ExiOracle.java``: one base64 request
line, one ``OK <base64>`` or ``ERR <text>`` answer line, in order.

Robustness rules (a differential run must report, not hang or crash):

- a request the oracle rejects raises :class:`OracleError` (or is returned as
  one by the ``*_many`` calls); the JVM keeps serving;
- an answer that does not come within the timeout kills the JVM and raises
  :class:`OracleTimeout`; the next call starts a fresh JVM;
- a JVM that dies raises :class:`OracleCrashed` with the tail of its stderr.

Stdin is written by a thread and stdout read by another, so neither a full pipe
nor a hung JVM can block the caller past its timeout.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import IO, Self

from . import tooling

_EOF = object()


class OracleError(Exception):
    """The oracle refused one request (bad XML, invalid EXI, unknown schema ...)."""


class OracleTimeout(OracleError):
    """No answer within the timeout; the JVM was killed."""


class OracleCrashed(OracleError):
    """The JVM exited while requests were pending."""


class Exificient:
    """EXIficient with the ISO 15118-2 options; a context manager owning one JVM."""

    def __init__(self, files: tooling.OracleFiles | None = None, *, timeout: float = 60.0) -> None:
        self._files = files
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._answers: queue.Queue[object] = queue.Queue()
        self._requests: queue.Queue[bytes | None] = queue.Queue()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._lock = threading.Lock()
        self.startup_seconds: float | None = None  # JVM start to first answer

    # ---- lifecycle -------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        files = self._files or tooling.ensure()
        self._files = files
        cmd = [
            # A small heap makes bogus lengths in bad EXI (a string of 2^31
            # chars) fail at once with OutOfMemoryError -> ERR, instead of
            # zeroing gigabytes first; grammars and messages need ~50 MB.
            "java", "-Xss8m", "-Xmx256m", "-XX:+UseSerialGC",
            "-cp", os.pathsep.join((str(files.jar), str(files.classes))), "ExiOracle",
            *(f"{name}={files.schema_path(name)}" for name in tooling.SCHEMA_ROOTS),
        ]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self._proc = proc
        self._answers = queue.Queue()
        self._requests = queue.Queue()
        assert proc.stdin and proc.stdout and proc.stderr
        for target, arg in ((self._read_answers, proc.stdout), (self._drain_stderr, proc.stderr),
                            (self._write_requests, proc.stdin)):
            threading.Thread(target=target, args=(arg,), daemon=True).start()
        self._roundtrip([b"PING"])
        self.startup_seconds = time.perf_counter() - t0

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self._requests.put(b"QUIT")
        self._requests.put(None)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            self._requests.put(None)

    # ---- pipe threads ----------------------------------------------------

    def _write_requests(self, stdin: IO[bytes]) -> None:
        requests = self._requests
        try:
            while (line := requests.get()) is not None:
                stdin.write(line + b"\n")
                if requests.empty():  # flush at the end of a burst, not per line
                    stdin.flush()
            stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the reader side reports the dead JVM

    def _read_answers(self, stdout: IO[bytes]) -> None:
        answers = self._answers
        for line in stdout:
            answers.put(line)
        answers.put(_EOF)

    def _drain_stderr(self, stderr: IO[bytes]) -> None:
        for line in stderr:
            self._stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    # ---- requests --------------------------------------------------------

    def _roundtrip(self, lines: Sequence[bytes], timeout: float | None = None) -> list[str | OracleError]:
        """Send all lines pipelined, collect one answer per line, in order."""
        if self._proc is None or self._proc.poll() is not None:
            self.start()
        limit = self.timeout if timeout is None else timeout
        out: list[str | OracleError] = []
        with self._lock:
            answers = self._answers
            for line in lines:
                self._requests.put(line)
            for _ in lines:
                try:
                    raw = answers.get(timeout=limit)
                except queue.Empty:
                    self._kill()
                    raise OracleTimeout(f"no answer from EXIficient within {limit:.0f} s; JVM killed") from None
                if raw is _EOF:
                    self._proc = None
                    tail = "\n".join(self._stderr_tail)
                    raise OracleCrashed(f"EXIficient JVM exited; stderr tail:\n{tail}")
                assert isinstance(raw, bytes)
                text = raw.decode("ascii").rstrip("\r\n")
                if text.startswith("OK "):
                    out.append(text[3:])
                elif text.startswith("ERR "):
                    out.append(OracleError(text[4:]))
                else:
                    out.append(OracleError(f"unexpected oracle answer: {text[:200]!r}"))
        return out

    @staticmethod
    def _line(cmd: str, schema: str, fragment: bool, payload: bytes, *extra: str) -> bytes:
        if schema not in tooling.SCHEMA_ROOTS:
            raise ValueError(f"unknown schema {schema!r}; known: {sorted(tooling.SCHEMA_ROOTS)}")
        fields = [cmd, schema, "1" if fragment else "0", *extra, base64.b64encode(payload).decode("ascii")]
        return " ".join(fields).encode("ascii")

    @staticmethod
    def _one(answer: str | OracleError) -> str:
        if isinstance(answer, OracleError):
            raise answer
        return answer

    def encode_many(self, xmls: Iterable[str], *, schema: str = "iso2",
                    fragment: bool = False) -> list[bytes | OracleError]:
        lines = [self._line("ENC", schema, fragment, x.encode("utf-8")) for x in xmls]
        return [a if isinstance(a, OracleError) else base64.b64decode(a)
                for a in self._roundtrip(lines)]

    def decode_many(self, exis: Iterable[bytes], *, schema: str = "iso2",
                    fragment: bool = False) -> list[str | OracleError]:
        lines = [self._line("DEC", schema, fragment, e) for e in exis]
        return [a if isinstance(a, OracleError) else base64.b64decode(a).decode("utf-8")
                for a in self._roundtrip(lines)]

    def encode(self, xml: str, *, schema: str = "iso2", fragment: bool = False) -> bytes:
        answer = self._roundtrip([self._line("ENC", schema, fragment, xml.encode("utf-8"))])[0]
        return base64.b64decode(self._one(answer))

    def decode(self, exi: bytes, *, schema: str = "iso2", fragment: bool = False) -> str:
        answer = self._roundtrip([self._line("DEC", schema, fragment, exi)])[0]
        return base64.b64decode(self._one(answer)).decode("utf-8")

    def bench(self, exi: bytes, *, schema: str = "iso2", fragment: bool = False,
              iterations: int = 1000, timeout: float = 600.0) -> dict[str, float]:
        """Mean µs per decode (EXI -> XML text) and per encode (XML text -> EXI),
        timed inside the warm JVM after an equal number of warm-up rounds."""
        if iterations < 1:
            raise ValueError("iterations must be >= 1")
        line = self._line("BENCH", schema, fragment, exi, str(iterations))
        answer = self._roundtrip([line], timeout=timeout)[0]
        result: dict[str, float] = json.loads(base64.b64decode(self._one(answer)))
        result.pop("sink", None)  # only there to keep the JIT from eliding work
        return result
