"""The reference's only door to persistent state: one schema, ordered migrations, two backends.

`Store(location)` opens SQLite for a file path (the embedded default) and PostgreSQL for a
`postgresql://` URL (`opcp_reference/store_postgres.py`: several instances, one ecosystem).
Both give the domain the same things: `tx()`, a write transaction whose connection has
`execute`/`executemany` with `?` placeholders and rows readable by name and by position;
`query`/`query_one` for reads; `changes_of(table)`, a version that moves whenever that table
was written, by this process or (PostgreSQL: LISTEN/NOTIFY; SQLite: `data_version`) by
another, so per-process caches know when to start afresh.

Durability choices (see docs/reference.md): SQLite runs with a WAL journal and
`synchronous=FULL`, PostgreSQL with its defaults (fsync, synchronous commit); one transaction
per write request, so an acknowledged write survives a crash and no request leaves half its
rows behind. Write transactions are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: one
transaction-scoped advisory lock), so the domain's read-then-write checks hold across
instances exactly as they do in one process. Store calls are short; handlers call them
directly rather than through a thread pool.

Migrations: MIGRATIONS is the one schema of both backends, written in SQLite's words; the
PostgreSQL store translates the few type names (see store_postgres.ddl) and a migration that
must differ (a trigger) holds a text per dialect. A migration runs in one transaction with
the version bump, so a failed one leaves the previous version intact.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from opcp.errors import ApiError
from opcp_reference.sealing import Sealer

# Append only: a migration, once released, never changes. Its index + 1 is the schema version.
MIGRATIONS: list[str | dict[str, str]] = [
    # 1: OAuth clients, token signing keys, the Root Certificate Pool.
    """
    CREATE TABLE clients (
        client_id      TEXT PRIMARY KEY,
        role           TEXT NOT NULL,
        name           TEXT NOT NULL,
        secret_hash    BLOB NOT NULL,
        secret_salt    BLOB NOT NULL,
        wmis           TEXT NOT NULL DEFAULT '[]',
        emaid_prefixes TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE signing_keys (
        kid         TEXT PRIMARY KEY,
        private_pem BLOB NOT NULL,
        created_at  TEXT NOT NULL,
        active      INTEGER NOT NULL
    );
    CREATE TABLE root_certs (
        id           TEXT PRIMARY KEY,
        fingerprint  TEXT NOT NULL UNIQUE,
        root_type    TEXT NOT NULL,
        der          BLOB NOT NULL,
        subject_dn   TEXT NOT NULL,
        common_name  TEXT,
        organization TEXT,
        serial_hex   TEXT NOT NULL,
        ski          BLOB,
        not_before   TEXT NOT NULL,
        not_after    TEXT NOT NULL,
        added_at     TEXT NOT NULL
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: the audit trail (append-only) and signing-key rotation. The triggers that keep the
    # trail append-only are the one part each dialect says its own way.
    {
        "common": """
    CREATE TABLE audit (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        at         TEXT NOT NULL,
        client_id  TEXT,
        role       TEXT,
        operation  TEXT NOT NULL,
        object_ids TEXT NOT NULL DEFAULT '[]',
        status     INTEGER NOT NULL,
        trace_id   TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit (at);
    """,
        "sqlite": """
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    """,
        "postgresql": """
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
        $body$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'
            USING ERRCODE = 'integrity_constraint_violation'; END $body$;
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    """,
        "common_after": """
    ALTER TABLE signing_keys ADD COLUMN retired_at TEXT
    """,
    },
    # 3: webhook endpoints, the event outbox (one row per event, one per delivery) and the
    # delivery log; the mark that a root's expiry was announced.
    """
    CREATE TABLE webhook_endpoints (
        id          TEXT PRIMARY KEY,
        owner       TEXT NOT NULL REFERENCES clients(client_id),
        url         TEXT NOT NULL,
        description TEXT,
        events      TEXT NOT NULL,
        metadata    TEXT NOT NULL DEFAULT '{}',
        status      TEXT NOT NULL,
        api_version TEXT NOT NULL,
        secret      TEXT NOT NULL,
        created     INTEGER NOT NULL
    );
    CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner);
    CREATE TABLE webhook_events (
        id         TEXT PRIMARY KEY,
        event_type TEXT NOT NULL,
        body       BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE webhook_deliveries (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id     TEXT NOT NULL REFERENCES webhook_events(id),
        endpoint_id  TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        status       TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL,
        created_at   TEXT NOT NULL,
        finished_at  TEXT,
        UNIQUE (event_id, endpoint_id)
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt);
    CREATE TABLE webhook_attempts (
        delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        attempt     INTEGER NOT NULL,
        at          TEXT NOT NULL,
        http_status INTEGER,
        error       TEXT,
        duration_ms REAL NOT NULL,
        PRIMARY KEY (delivery_id, attempt)
    );
    ALTER TABLE root_certs ADD COLUMN expiry_announced_at TEXT;
    """,
    # 4: the reference's own PKI (CAs with sealed keys, issued leaves, revocations) and the
    # Provisioning Certificate Pool.
    """
    CREATE TABLE ca (
        name        TEXT PRIMARY KEY,
        role        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        profile     TEXT NOT NULL,
        issuer_name TEXT NOT NULL,
        der         BLOB NOT NULL,
        key_sealed  BLOB,
        key_hash_sha1   BLOB NOT NULL,
        key_hash_sha256 BLOB NOT NULL
    );
    CREATE TABLE issued_certs (
        issuer_name TEXT NOT NULL,
        serial_hex  TEXT NOT NULL,
        der         BLOB NOT NULL,
        subject_cn  TEXT,
        issued_at   TEXT NOT NULL,
        client_id   TEXT,
        PRIMARY KEY (issuer_name, serial_hex)
    );
    CREATE TABLE revocations (
        issuer_name TEXT NOT NULL,
        serial_hex  TEXT NOT NULL,
        reason      TEXT NOT NULL,
        revoked_at  TEXT NOT NULL,
        PRIMARY KEY (issuer_name, serial_hex)
    );
    CREATE TABLE prov_certs (
        pcid          TEXT PRIMARY KEY,
        wmi           TEXT NOT NULL,
        owner         TEXT NOT NULL,
        leaf_der      BLOB NOT NULL,
        sub2_der      BLOB,
        sub1_der      BLOB NOT NULL,
        root_der      BLOB NOT NULL,
        key_hash      TEXT NOT NULL,
        xsd_namespace TEXT NOT NULL,
        v2g_root_akis TEXT,
        previous_pcid TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX prov_certs_wmi ON prov_certs (wmi)
    """,
    # 5: the CPS's signing leaves and the Contract Certificate Pool.
    """
    CREATE TABLE cps_signers (
        sub2_name  TEXT PRIMARY KEY,
        der        BLOB NOT NULL,
        key_sealed BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE contracts (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        emaid         TEXT NOT NULL,
        pcid          TEXT NOT NULL,
        root_id       TEXT NOT NULL,
        contract_der  BLOB NOT NULL,
        res_exi       BLOB NOT NULL,
        session_bit   INTEGER,
        issuer_ca     TEXT,
        xsd_namespace TEXT NOT NULL,
        owner         TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        UNIQUE (emaid, root_id)
    );
    CREATE INDEX contracts_pcid ON contracts (pcid);
    CREATE TABLE default_contracts (
        pcid  TEXT PRIMARY KEY,
        emaid TEXT NOT NULL
    )
    """,
    # 6: what the MO was told about an oem.contract.* event's fate at the OEM (sent, queued,
    # rejected); the key makes each follow-up happen at most once per event, across restarts.
    """
    CREATE TABLE webhook_followups (
        event_id TEXT NOT NULL REFERENCES webhook_events(id),
        outcome  TEXT NOT NULL,
        PRIMARY KEY (event_id, outcome)
    )
    """,
    # 7: the optional RootCertV2 fields of a root (crossCertificatePair as DER CertificatePair,
    # the CRL as DER), the certificate trust lists issued (one row per sequence number) and
    # their signers (one per V2G root, key sealed).
    """
    ALTER TABLE root_certs ADD COLUMN cross_pair BLOB;
    ALTER TABLE root_certs ADD COLUMN crl BLOB;
    ALTER TABLE root_certs ADD COLUMN labeled_uri TEXT;
    ALTER TABLE root_certs ADD COLUMN xsd_namespace TEXT;
    CREATE TABLE ctl_issues (
        sequence  INTEGER PRIMARY KEY,
        digest    TEXT NOT NULL,
        body      TEXT NOT NULL,
        issued_at TEXT NOT NULL
    );
    CREATE TABLE ctl_signers (
        root_fingerprint TEXT PRIMARY KEY,
        der              BLOB NOT NULL,
        key_sealed       BLOB NOT NULL,
        created_at       TEXT NOT NULL
    )
    """,
    # 8: wrong client secrets, counted where every instance of a shared store sees them.
    """
    CREATE TABLE auth_failures (
        client_id TEXT NOT NULL,
        at        REAL NOT NULL
    );
    CREATE INDEX auth_failures_client ON auth_failures (client_id, at)
    """,
]


DIALECT_PARTS = ("common", "{dialect}", "common_after")


def migration_text(migration: str | dict[str, str], dialect: str) -> str:
    """The SQL of one migration for `dialect` (sqlite or postgresql)."""
    if isinstance(migration, str):
        return migration
    return "\n".join(migration.get(part.format(dialect=dialect), "") for part in DIALECT_PARTS)


class StoreUnavailable(ApiError):
    """The database cannot be reached right now: 503, with the spec's Error body."""

    status = 503
    default_message = "the store is unavailable"

    def __init__(self, detail: str):
        super().__init__(f"store: unavailable ({detail}); retry shortly",
                         headers={"Retry-After": "1"})


_WRITE = re.compile(r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)",
                    re.IGNORECASE)


@lru_cache(maxsize=1024)
def written_table(sql: str) -> str | None:
    """The table a write statement changes (None for a read)."""
    match = _WRITE.match(sql)
    return match.group(1).lower() if match else None


class Changes:
    """Per-process versions of tables: bumped when a commit wrote them, here or elsewhere.

    A version is (store token, epoch, counter): a new store object, or a gap in what this
    process heard from others (`everything()`), moves every table's version at once."""

    def __init__(self) -> None:
        self._token = uuid.uuid4().hex
        self._epoch = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def bump(self, tables) -> None:
        with self._lock:
            for table in tables:
                self._counts[table] = self._counts.get(table, 0) + 1

    def everything(self) -> None:
        with self._lock:
            self._epoch += 1

    def version(self, table: str) -> tuple[str, int, int]:
        return self._token, self._epoch, self._counts.get(table, 0)


class Store:
    """The store's interface; `Store(path)` is SQLite, `Store("postgresql://...")` PostgreSQL."""

    dialect = "sqlite"

    def __new__(cls, location: Path | str, sealer: Sealer | None = None, **options):
        if cls is Store:
            if is_postgres_url(location):
                from opcp_reference.store_postgres import PostgresStore

                cls = PostgresStore
            else:
                cls = SqliteStore
        return super().__new__(cls)

    changes: Changes
    sealer: Sealer

    def tx(self):  # pragma: no cover - each backend defines it
        raise NotImplementedError

    def query(self, sql: str, params: tuple | dict = ()) -> list:  # pragma: no cover
        raise NotImplementedError

    def query_one(self, sql: str, params: tuple | dict = ()):  # pragma: no cover
        raise NotImplementedError

    def changes_of(self, table: str) -> tuple[str, int, int]:
        """A version of `table` that moves whenever a commit (of any instance) wrote it."""
        self._hear_others()
        return self.changes.version(table)

    def _hear_others(self) -> None:  # pragma: no cover
        raise NotImplementedError

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock named `name` against every other user of this store (first start)."""
        yield

    def get_setting(self, key: str) -> str | None:
        row = self.query_one("SELECT value FROM settings WHERE key = ?", (key,))
        return row["value"] if row else None

    def size_bytes(self) -> int:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover
        raise NotImplementedError


def is_postgres_url(location: Path | str) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


_FOR_UPDATE = re.compile(r"\s+FOR\s+UPDATE(?:\s+OF\s+\w+)?(?:\s+SKIP\s+LOCKED)?", re.IGNORECASE)


@lru_cache(maxsize=1024)
def sqlite_sql(sql: str) -> str:
    """Row locks are PostgreSQL's; in SQLite a write transaction already excludes the others."""
    return _FOR_UPDATE.sub("", sql) if "FOR UPDATE" in sql.upper() else sql


class _SqliteTx:
    """The connection a SQLite write transaction hands out: notes the tables it writes."""

    __slots__ = ("_conn", "written")

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn
        self.written: set[str] = set()

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        table = written_table(sql)
        if table:
            self.written.add(table)
        return self._conn.execute(sqlite_sql(sql), params)

    def executemany(self, sql: str, seq) -> sqlite3.Cursor:
        table = written_table(sql)
        if table:
            self.written.add(table)
        return self._conn.executemany(sqlite_sql(sql), seq)


class SqliteStore(Store):
    def __init__(self, path: Path | str, sealer: Sealer | None = None):
        self.path = Path(path)
        self.location = str(self.path)
        self.sealer = sealer or Sealer.for_data_dir(self.path.parent)
        self.changes = Changes()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the event loop thread; the lock guards the rare use from
        # other threads (the CLI, tests) and keeps transactions from interleaving.
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self._data_version = self._read_data_version()

    @property
    def version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._lock:
            for index in range(self.version, len(MIGRATIONS)):
                # executescript would commit on its own; run the statements in one transaction
                # so a failed migration leaves the previous version intact.
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(migration_text(MIGRATIONS[index], "sqlite")):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version={index + 1}")
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise

    def _read_data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _hear_others(self) -> None:
        # data_version moves when another connection (the admin CLI, say) committed.
        with self._lock:
            seen = self._read_data_version()
            if seen != self._data_version:
                self._data_version = seen
                self.changes.everything()

    @contextmanager
    def tx(self) -> Iterator[_SqliteTx]:
        """A write transaction: everything inside commits together or not at all."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            db = _SqliteTx(self._conn)
            try:
                yield db
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self.changes.bump(db.written)

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _statements(script: str) -> list[str]:
    """Split a script into statements; a trigger body's inner `;` does not end one."""
    statements, buffer = [], ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement in a migration: {buffer.strip()[:80]}")
    return statements
