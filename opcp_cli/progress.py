"""Live progress of a suite run on the console, read from the suite's event file
(`opcp_cli.suite_events`).

On a terminal, one live line per feature (passed / failed / not applicable so far, and how
many are left) redrawn in place with `rich`; elsewhere (CI logs, pipes) one line per feature
when it is finished. `quiet` shows nothing. The follower never blocks the suite: it reads
the file the suite appends to, until the suite's process ends.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

POLL_SECONDS = 0.2


@dataclass
class FeatureProgress:
    name: str
    total: int = 0
    counts: Counter = field(default_factory=Counter)
    started: float | None = None
    finished: float | None = None

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def line(self) -> Text:
        failed = self.counts["failed"]
        mark, style = ("✗", "bold red") if failed else (("✓", "green") if self.done == self.total
                                                          else ("…", "yellow"))
        text = Text(f"{mark} ", style=style)
        text.append(f"{self.name}", style="bold" if self.done < self.total else "")
        text.append(f"  {self.done}/{self.total}  ")
        text.append(f"passed {self.counts['passed']}", style="green")
        text.append(", ")
        text.append(f"failed {failed}", style="red" if failed else "")
        extra = [f"{k} {v}" for k, v in sorted(self.counts.items()) if k not in ("passed", "failed")]
        if extra:
            text.append(", " + ", ".join(extra), style="dim")
        if self.started is not None:
            took = (self.finished or time.monotonic()) - self.started
            text.append(f"  [{took:.1f} s]", style="dim")
        return text


class SuiteProgress:
    def __init__(self, events: Path, *, quiet: bool = False, console: Console | None = None):
        self.events = events
        self.quiet = quiet
        self.console = console or Console(highlight=False)
        self.features: dict[str, FeatureProgress] = {}
        self.collected = 0
        self._offset = 0
        self._buffer = ""
        self._printed: set[str] = set()

    # --- reading the event file -----------------------------------------------------
    def _read(self) -> list[dict]:
        if not self.events.exists():
            return []
        with self.events.open() as fh:
            fh.seek(self._offset)
            chunk = fh.read()
            self._offset = fh.tell()
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split("\n")
        return [json.loads(line) for line in lines if line.strip()]

    def _apply(self, event: dict) -> list[FeatureProgress]:
        """Take one event in; return the features it finished."""
        if event["event"] == "collected":
            self.collected = len(event["items"])
            for item in event["items"]:
                self.features.setdefault(item["feature"], FeatureProgress(item["feature"])).total += 1
            return []
        feature = self.features.setdefault(event["feature"], FeatureProgress(event["feature"], 1))
        if feature.started is None:
            feature.started = time.monotonic()
        feature.counts[event["outcome"]] += 1
        if feature.done >= feature.total:
            feature.finished = time.monotonic()
            return [feature]
        return []

    # --- showing it -----------------------------------------------------------------
    def _table(self) -> Table:
        table = Table.grid(padding=(0, 1))
        for feature in self.features.values():
            if feature.started is not None:
                table.add_row(feature.line())
        waiting = sum(f.total for f in self.features.values() if f.started is None)
        if waiting:
            table.add_row(Text(f"  {waiting} more scenario(s) in "
                               f"{sum(f.started is None for f in self.features.values())} feature(s) "
                               "to go", style="dim"))
        return table

    def follow(self, proc: subprocess.Popen) -> None:
        """Show progress until `proc` (the suite) ends."""
        if self.quiet:
            proc.wait()
            return
        if self.console.is_terminal:
            with Live(self._table(), console=self.console, refresh_per_second=4, transient=False) as live:
                while True:
                    ended = proc.poll() is not None
                    for event in self._read():
                        self._apply(event)
                    live.update(self._table())
                    if ended:
                        break
                    time.sleep(POLL_SECONDS)
            return
        while True:
            ended = proc.poll() is not None
            for event in self._read():
                if event["event"] == "collected":
                    self._apply(event)
                    if self.collected:
                        self.console.print(f"running {self.collected} scenario(s) in "
                                           f"{len(self.features)} feature(s)")
                for feature in self._apply(event) if event["event"] == "result" else []:
                    self.console.print(feature.line(), soft_wrap=True)
                    self._printed.add(feature.name)
            if ended:
                break
            time.sleep(POLL_SECONDS)
        for feature in self.features.values():  # cut short (--maxfail, a stop): say so
            if feature.name not in self._printed and feature.done:
                self.console.print(feature.line(), soft_wrap=True)
