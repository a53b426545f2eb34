"""Session fixtures: ``exificient`` (one EXIficient JVM for all oracle tests)
and ``corpus`` (the generated message sets, built once).

Without Java or network to PyPI the oracle tests skip locally, with a message
that says how to enable them; under ``CI=true`` they fail instead, so a CI
machine that lost its JDK cannot turn the differential suite silently green.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import tooling
from .corpus import Generated, build
from .exificient import Exificient, OracleError

ENABLE_HINT = (
    "EXIficient oracle unavailable ({reason}). To enable: install Java 17 "
    "(java + javac, e.g. apt-get install openjdk-17-jdk-headless) and allow network "
    "access to PyPI once (the iso15118==0.31.2 wheel is cached in .tools/oracle/)."
)


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI. Always raises."""
    message = ENABLE_HINT.format(reason=reason)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def oracle_xsds() -> Path:
    """The ISO 15118-2 XSDs from the jar (needs the wheel, not Java)."""
    try:
        return tooling.ensure_xsds()
    except tooling.OracleUnavailable as exc:
        unavailable(str(exc))
        raise  # unreachable


@pytest.fixture(scope="session")
def oracle_files() -> tooling.OracleFiles:
    try:
        return tooling.ensure()
    except tooling.OracleUnavailable as exc:
        unavailable(str(exc))
        raise  # unreachable


@pytest.fixture(scope="session")
def exificient(oracle_files: tooling.OracleFiles) -> Iterator[Exificient]:
    oracle = Exificient(oracle_files)
    try:
        oracle.start()
    except (OSError, OracleError) as exc:
        unavailable(f"JVM did not start: {exc}")
    with oracle:
        yield oracle


@pytest.fixture(scope="session")
def corpus(oracle_xsds: Path) -> dict[str, Generated]:
    """Generated message sets (see corpus.SETS), built once per session."""
    return build()
