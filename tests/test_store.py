import sqlite3
from pathlib import Path

import pytest

from opcp_reference import store as store_module
from opcp_reference.store import Store


def test_migrations_bring_a_new_store_to_the_latest_version(tmp_path: Path):
    store = Store(tmp_path / "s.sqlite3")
    assert store.version == len(store_module.MIGRATIONS)
    tables = {r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"clients", "signing_keys", "root_certs", "settings"} <= tables


def test_data_survives_a_restart(tmp_path: Path):
    store = Store(tmp_path / "s.sqlite3")
    with store.tx() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
    store.close()
    again = Store(tmp_path / "s.sqlite3")
    assert again.get_setting("k") == "v"


def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path):
    store = Store(tmp_path / "s.sqlite3")
    with pytest.raises(RuntimeError), store.tx() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('half', 'written')")
        raise RuntimeError("crash in the middle of a request")
    assert store.get_setting("half") is None


def test_durability_settings(tmp_path: Path):
    store = Store(tmp_path / "s.sqlite3")
    assert store.query_one("PRAGMA journal_mode")[0] == "wal"
    assert store.query_one("PRAGMA synchronous")[0] == 2  # FULL


def test_a_failing_migration_keeps_the_previous_version(tmp_path: Path, monkeypatch):
    Store(tmp_path / "s.sqlite3").close()
    monkeypatch.setattr(store_module, "MIGRATIONS",
                        store_module.MIGRATIONS + ["CREATE TABLE t (x); CREATE TABLE t (y)"])
    with pytest.raises(sqlite3.OperationalError):
        Store(tmp_path / "s.sqlite3")
    monkeypatch.undo()
    again = Store(tmp_path / "s.sqlite3")
    assert again.version == len(store_module.MIGRATIONS)
    assert not again.query("SELECT name FROM sqlite_master WHERE name = 't'")


def test_a_store_of_version_1_is_upgraded_with_its_data(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
    old = Store(tmp_path / "s.sqlite3")
    with old.tx() as db:
        db.execute("INSERT INTO root_certs (id, fingerprint, root_type, der, subject_dn,"
                   " serial_hex, not_before, not_after, added_at)"
                   " VALUES ('r', 'f', 'V2G', x'00', 'CN=R', '1', 'a', 'b', 'c')")
    old.close()
    monkeypatch.undo()
    new = Store(tmp_path / "s.sqlite3")
    assert new.version == len(store_module.MIGRATIONS)
    row = new.query_one("SELECT * FROM root_certs WHERE id = 'r'")
    assert row["subject_dn"] == "CN=R" and row["expiry_announced_at"] is None
    assert new.query("SELECT * FROM webhook_endpoints") == []
