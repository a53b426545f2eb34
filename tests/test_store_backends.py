"""The store's contract, on whichever backend the run uses (SQLite, or OPCP_TEST_STORE), and
the PostgreSQL translation rules on their own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opcp_reference import store as store_module
from opcp_reference.sealing import Sealer, SealingError, check_master_key
from opcp_reference.store import Store, sqlite_sql, written_table

KEY = b"k" * 32


@pytest.fixture
def store(store_location: str):
    opened = Store(store_location, Sealer(KEY))
    yield opened
    opened.close()


def test_a_new_store_is_at_the_latest_schema_version(store):
    assert store.version == len(store_module.MIGRATIONS)


def test_rows_read_by_name_and_position_and_as_dicts(store):
    with store.tx() as db:
        db.execute("INSERT INTO settings (key, value) VALUES (?, ?)", ("k", "50% off"))
    row = store.query_one("SELECT key, value FROM settings WHERE key = ?", ("k",))
    assert (row["key"], row[1], dict(row)) == ("k", "50% off", {"key": "k", "value": "50% off"})
    assert store.query("SELECT value FROM settings WHERE key = ?", ("missing",)) == []


def test_blobs_and_numbers_come_back_as_written(store):
    with store.tx() as db:
        db.execute("INSERT INTO webhook_events (id, event_type, body, created_at) VALUES (?,?,?,?)",
                   ("e1", "root.cert.added", b"\x00\xffbody", "2026-01-01T00:00:00Z"))
    row = store.query_one("SELECT body FROM webhook_events WHERE id = ?", ("e1",))
    assert bytes(row["body"]) == b"\x00\xffbody"


def test_upserts_and_rowcounts_are_portable(store):
    with store.tx() as db:
        for value in ("1", "2"):
            db.execute("INSERT INTO settings (key, value) VALUES ('x', ?)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (value,))
        first = db.execute("INSERT INTO settings (key, value) VALUES ('y', '1')"
                           " ON CONFLICT DO NOTHING").rowcount
        again = db.execute("INSERT INTO settings (key, value) VALUES ('y', '2')"
                           " ON CONFLICT DO NOTHING").rowcount
    assert (store.get_setting("x"), store.get_setting("y"), first, again) == ("2", "1", 1, 0)


def test_a_failed_transaction_leaves_nothing_behind(store):
    with pytest.raises(RuntimeError), store.tx() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('half', 'written')")
        raise RuntimeError("crash in the middle of a request")
    assert store.get_setting("half") is None


def test_the_audit_trail_refuses_updates_and_deletes(store):
    with store.tx() as db:
        db.execute("INSERT INTO audit (at, operation, status, trace_id) VALUES (?,?,?,?)",
                   ("t", "op", 200, "tr"))
    for statement in ("UPDATE audit SET status = 500", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"), store.tx() as db:
            db.execute(statement)
    assert len(store.query("SELECT * FROM audit")) == 1


def test_a_commit_moves_the_version_of_the_tables_it_wrote_only(store):
    roots, settings = store.changes_of("root_certs"), store.changes_of("settings")
    with store.tx() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('a', 'b')")
    assert store.changes_of("root_certs") == roots
    assert store.changes_of("settings") != settings
    before = store.changes_of("settings")
    with pytest.raises(RuntimeError), store.tx() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('c', 'd')")
        raise RuntimeError("rolled back")
    assert store.changes_of("settings") == before  # nothing committed, nothing to forget


def test_another_store_object_never_shares_a_version(store, store_location):
    other = Store(store_location, Sealer(KEY))
    try:
        assert other.changes_of("root_certs") != store.changes_of("root_certs")
    finally:
        other.close()


def test_a_store_sealed_with_another_master_key_is_refused_at_open(store, store_location):
    check_master_key(store)
    wrong = Store(store_location, Sealer(b"w" * 32))
    try:
        with pytest.raises(SealingError, match="OPCP_MASTER_KEY"):
            check_master_key(wrong)
    finally:
        wrong.close()


def test_the_master_key_file_is_read_and_bad_content_is_named(tmp_path: Path, monkeypatch):
    import base64

    key_file = tmp_path / "key"
    key_file.write_text(base64.b64encode(KEY).decode() + "\n")
    monkeypatch.delenv("OPCP_MASTER_KEY", raising=False)
    monkeypatch.setenv("OPCP_MASTER_KEY_FILE", str(key_file))
    sealed = Sealer(KEY).seal(b"x")
    assert Sealer.for_data_dir(tmp_path / "elsewhere").unseal(sealed) == b"x"
    key_file.write_text("not base64!")
    with pytest.raises(SealingError, match="OPCP_MASTER_KEY_FILE"):
        Sealer.for_data_dir(tmp_path)


def test_write_statements_name_their_table():
    assert written_table(" INSERT INTO settings (key) VALUES (?)") == "settings"
    assert written_table("UPDATE Root_Certs SET x = 1") == "root_certs"
    assert written_table("DELETE FROM prov_certs WHERE pcid = ?") == "prov_certs"
    assert written_table("SELECT * FROM settings") is None


def test_row_locks_are_dropped_for_sqlite_only_where_they_are():
    assert sqlite_sql("SELECT * FROM t d WHERE x LIMIT ? FOR UPDATE OF d SKIP LOCKED") == \
        "SELECT * FROM t d WHERE x LIMIT ?"
    plain = "SELECT 'FOR' FROM t"
    assert sqlite_sql(plain) is plain


def test_placeholders_translate_outside_quoted_text():
    from opcp_reference.store_postgres import ddl, translate

    assert translate("SELECT '?', '50%' FROM t WHERE a = ? AND b LIKE 'x%'") == \
        "SELECT '?', '50%%' FROM t WHERE a = %s AND b LIKE 'x%%'"
    assert translate("SELECT 'it''s ?' WHERE a = ?") == "SELECT 'it''s ?' WHERE a = %s"
    assert translate("WHERE a = :a AND b = :b_2", named=True) == "WHERE a = %(a)s AND b = %(b_2)s"
    schema = ddl(store_module.MIGRATIONS[2])
    assert "BYTEA" in schema and "BLOB" not in schema and "DOUBLE PRECISION" in schema
    assert "GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" in schema
    assert "RAISE(ABORT" not in ddl(store_module.MIGRATIONS[1])


SQLITE_ONLY = re.compile(r"INSERT\s+OR\s+(?:REPLACE|IGNORE)|\bx'[0-9a-f]*'|\bGLOB\b|"
                         r"\bjulianday\(|\bstrftime\(\s*'|\bIFNULL\(|AUTOINCREMENT|last_insert_rowid",
                         re.IGNORECASE)


def test_the_domain_sql_is_portable():
    """Other engineers edit the domain modules: a SQLite-only phrase in their SQL fails here,
    named, rather than as a 500 on PostgreSQL."""
    root = Path(__file__).resolve().parent.parent / "opcp_reference"
    found = []
    for path in [*root.glob("domain/*.py"), root / "audit.py", root / "webhook_delivery.py"]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if SQLITE_ONLY.search(line) and ("execute" in line or '"' in line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert not found, ("SQLite-only SQL in the domain (use ON CONFLICT, ? placeholders, plain"
                       " types; docs/reference.md, store):\n" + "\n".join(found))


def test_wrong_secrets_counted_by_one_instance_throttle_the_other(store, store_location):
    from opcp_reference.domain.auth import SharedThrottle

    other = Store(store_location, Sealer(KEY))
    try:
        mine, theirs = SharedThrottle(store, limit=3, window=10), SharedThrottle(other, limit=3,
                                                                                 window=10)
        for at in (100.0, 101.0):
            mine.failed("guessed", at)
        assert theirs.retry_after("guessed", 102.0) == 0
        theirs.failed("guessed", 102.0)
        assert mine.retry_after("guessed", 103.0) == 7  # the first failure leaves the window at 110
        assert mine.retry_after("someone-else", 103.0) == 0
        assert theirs.retry_after("guessed", 110.5) == 0  # one failure fewer in the window
        theirs.failed("late", 200.0)  # failures out of every window are deleted meanwhile
        assert [r["client_id"] for r in store.query("SELECT client_id FROM auth_failures")] == ["late"]
    finally:
        other.close()
