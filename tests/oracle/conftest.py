"""Session fixture ``exificient``: one EXIficient JVM for all oracle tests.

Without Java or network to PyPI the oracle tests skip locally, with a message
that says how to enable them; under ``CI=true`` they fail instead, so a CI
machine that lost its JDK cannot turn the differential suite silently green.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from . import tooling
from .exificient import Exificient, OracleError

ENABLE_HINT = (
    "EXIficient oracle unavailable ({reason}). To enable: install Java 17 "
    "(java + javac, e.g. apt-get install openjdk-17-jdk-headless) and allow network "
    "access to PyPI once (the iso15118==0.31.2 wheel is cached in .tools/oracle/)."
)


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI."""
    message = ENABLE_HINT.format(reason=reason)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def oracle_files() -> tooling.OracleFiles:
    try:
        return tooling.ensure()
    except tooling.OracleUnavailable as exc:
        unavailable(str(exc))
        raise  # unreachable: unavailable() always raises


@pytest.fixture(scope="session")
def exificient(oracle_files: tooling.OracleFiles) -> Iterator[Exificient]:
    oracle = Exificient(oracle_files)
    try:
        oracle.start()
    except (OSError, OracleError) as exc:
        unavailable(f"JVM did not start: {exc}")
    with oracle:
        yield oracle
