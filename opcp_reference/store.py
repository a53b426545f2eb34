"""The reference's only door to persistent state: SQLite with ordered schema migrations.

Durability choices (see docs/reference.md): WAL journal, `synchronous=FULL`, one
transaction per write request (`Store.tx()`), so an acknowledged write survives a crash
and no request leaves half its rows behind. SQLite calls are short and local; handlers call
them directly rather than through a thread pool.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opcp_reference.sealing import Sealer

# Append only: a migration, once released, never changes. Its index + 1 is the schema version.
MIGRATIONS: list[str] = [
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
    # 2: the audit trail (append-only) and signing-key rotation.
    """
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
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    ALTER TABLE signing_keys ADD COLUMN retired_at TEXT
    """,
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
]


class Store:
    def __init__(self, path: Path | str, sealer: Sealer | None = None):
        self.path = Path(path)
        self.sealer = sealer or Sealer.for_data_dir(self.path.parent)
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
                    for statement in _statements(MIGRATIONS[index]):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version={index + 1}")
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: everything inside commits together or not at all."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def get_setting(self, key: str) -> str | None:
        row = self.query_one("SELECT value FROM settings WHERE key = ?", (key,))
        return row["value"] if row else None

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
