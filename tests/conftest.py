"""Fixtures for the unit and integration tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from opcp_reference.server import DEFAULT_AUDIENCE, EmbeddedReference


@pytest.fixture
def reference(tmp_path: Path):
    with EmbeddedReference(tmp_path / "data") as ref:
        yield ref


@pytest.fixture
def clients(reference) -> dict[str, dict]:
    listed = json.loads((reference.ref.data_dir / "clients.json").read_text())
    return {c["client_id"]: c for c in listed}


def token_for(base_url: str, client: dict, audience: str = DEFAULT_AUDIENCE) -> str:
    got = httpx.post(f"{base_url}/oauth/token", json={
        "client_id": client["client_id"], "client_secret": client["client_secret"],
        "audience": audience, "grant_type": "client_credentials"})
    assert got.status_code == 200, got.text
    return got.json()["access_token"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedReference:
    """`opcp serve` as a child process, the way a user runs it."""

    def __init__(self, data_dir: Path, *args: str, scheme: str = "http", verify=None):
        import sys

        from opcp.paths import REPO

        self.port = free_port()
        self.data_dir = data_dir
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        # The log goes to a file: a pipe nobody drains fills up after a suite run's worth of
        # log lines and blocks the server.
        self.log_path = data_dir.parent / f"serve-{self.port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "opcp_cli", "serve", "--port", str(self.port), "--data-dir",
             str(data_dir), *args], cwd=REPO, stdout=self._log,
            stderr=subprocess.STDOUT, text=True)
        self._wait(verify)

    def _wait(self, verify) -> None:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"opcp serve exited: {self.log_path.read_text()}")
            try:
                with socket_connect(self.port):
                    return
            except OSError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("opcp serve did not start within 30 s")

    def stop(self) -> str:
        """Stop the server (if running) and return its log."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            # SIGTERM: requests in flight get opcp_reference.server.SHUTDOWN_SECONDS, webhook
            # attempts two more; a loaded machine may need longer to schedule the process.
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise
        self._log.close()
        return self.log_path.read_text()


def socket_connect(port: int):
    import socket

    return socket.create_connection(("127.0.0.1", port), timeout=1)


@pytest.fixture
def served(tmp_path: Path):
    server = ServedReference(tmp_path / "data")
    yield server
    server.stop()


def make_root(common_name: str, dc: str, *, days: int = 3650, not_before=None) -> bytes:
    """A fresh self-signed root of the role `dc` (V2G, MO, OEM), as DER."""
    from datetime import UTC, datetime, timedelta

    from v2g.pki.builder import issue

    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    profile = {"V2G": "v2g_root", "MO": "mo_root", "OEM": "oem_root"}[dc]
    return issue(profile, common_name, not_before=start, not_after=start + timedelta(days=days)).der


def need_tool(tool: str | None, what: str) -> str:
    """A tool a test needs (chromium, pdftotext, allure): skipped locally when it is missing,
    failed under CI=true, where .ci/run installs it."""
    import os

    if tool:
        return tool
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing; .ci/run installs it")
    pytest.skip(f"{what} is not installed (CI installs it)")


# --- the store backend: SQLite by default, PostgreSQL with OPCP_TEST_STORE -----------------
TEST_STORE_ENV = "OPCP_TEST_STORE"


def test_store_server() -> str | None:
    """The PostgreSQL server the store-touching tests run on (OPCP_TEST_STORE), if any."""
    import os

    return os.environ.get(TEST_STORE_ENV) or None


_databases: dict[str, str] = {}


def database_for(data_dir: Path) -> str:
    """One database per data dir, fresh the first time this run sees the dir; a reference
    reopened on the same dir (restart tests) finds its state again."""
    import hashlib

    from opcp_reference.store_postgres import database_url

    key = str(Path(data_dir).resolve())
    if key not in _databases:
        name = "opcp_t_" + hashlib.sha1(key.encode()).hexdigest()[:20]
        _databases[key] = database_url(test_store_server(), name, fresh=True)
    return _databases[key]


@pytest.fixture(autouse=True, scope="session")
def _store_backend():
    """With OPCP_TEST_STORE set, every reference a test opens without naming a store uses a
    database of its own on that server instead of the SQLite file in its data dir."""
    if not test_store_server():
        yield
        return
    from opcp_reference import server

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server, "default_store", database_for)
        yield


def open_test_store(data_dir: Path):
    """The store a test's reference in `data_dir` would open, on the run's backend."""
    from opcp_reference.server import open_store

    data_dir.mkdir(parents=True, exist_ok=True)
    location = database_for(data_dir) if test_store_server() else str(data_dir / "opcp.sqlite3")
    return open_store(location, data_dir)


sqlite_only = pytest.mark.skipif(
    bool(__import__("os").environ.get(TEST_STORE_ENV)),
    reason="reads SQLite's own files or rowid; the PostgreSQL store has tests of its own")


@pytest.fixture
def store_location(tmp_path: Path) -> str:
    """Where a store-level test opens its store: a fresh database under OPCP_TEST_STORE, else
    a SQLite file in tmp_path."""
    if test_store_server():
        return database_for(tmp_path / "store")
    return str(tmp_path / "store" / "opcp.sqlite3")
