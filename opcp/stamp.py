"""What a run is traceable to: the suite version and the spec version it implements."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import metadata

SPEC_VERSION = "OPCP 1.0.0"
SPEC_SOURCE = "hubject/opcp commit cf4d940 (2026-03-09)"


def suite_version() -> str:
    try:
        return metadata.version("opcp-harness")
    except metadata.PackageNotFoundError:
        return "unknown"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def stamp(profile: str, target_name: str, target_url: str, started: str,
          ended: str | None = None, services: tuple[str, ...] | list[str] = ()) -> dict:
    values = {"suite.version": suite_version(), "spec.version": SPEC_VERSION,
              "spec.source": SPEC_SOURCE, "profile": profile, "target.name": target_name,
              "target.url": target_url, "run.start": started}
    if services:
        values["target.services"] = ",".join(services)
    if ended:
        values["run.end"] = ended
    return values
