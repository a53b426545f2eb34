"""The demo ecosystem a fresh reference starts with.

Test roots in the RCP and two parties of each role (so cross-party isolation can be
checked), with their credentials written to `clients.json` for users and the suite.
The roots are made with `cryptography` directly until the PKI toolkit (v2g.pki) lands.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opcp.access import Role
from opcp_reference.domain import auth, rcp
from opcp_reference.faults import Faults
from opcp_reference.store import Store

# (client_id, role, name, wmis, emaid_prefixes)
DEMO_CLIENTS = [
    ("admin", Role.ADMIN, "RCP operator", [], []),
    ("oem-1", Role.OEM, "Demo OEM One", ["WMA", "WMB"], []),
    ("oem-2", Role.OEM, "Demo OEM Two", ["WVW"], []),
    ("mo-1", Role.MO, "Demo MO One (own PKI)", [], ["DEABC"]),
    ("mo-2", Role.MO, "Demo MO Two (own PKI)", [], ["NLXYZ"]),
    ("mo-v2g-1", Role.MO_V2G, "Demo MO Three (V2G PKI)", [], ["DEV2G"]),
    ("mo-v2g-2", Role.MO_V2G, "Demo MO Four (V2G PKI)", [], ["FRV2G"]),
    ("cpo-1", Role.CPO, "Demo CPO One", [], []),
    ("cpo-2", Role.CPO, "Demo CPO Two", [], []),
    ("cps-1", Role.CPS, "Demo CPS One", [], []),
    ("cps-2", Role.CPS, "Demo CPS Two", [], []),
]

# (common name, DC, rootType)
DEMO_ROOTS = [
    ("OPCP Demo V2G Root CA 1", "V2G", "V2G"),
    ("OPCP Demo V2G Root CA 2", "V2G", "V2G"),
    ("OPCP Demo MO Root CA", "MO", "MO"),
    ("OPCP Demo OEM Root CA 1", "OEM", "OEM"),
    ("OPCP Demo OEM Root CA 2", "OEM", "OEM"),
]


def is_initialised(store: Store) -> bool:
    return store.get_setting("initialised") == "1"


def initialise(store: Store, data_dir: Path) -> list[dict]:
    """Create the demo ecosystem once; later starts reuse it."""
    if is_initialised(store):
        return json.loads((data_dir / "clients.json").read_text())
    auth.ensure_signing_key(store)
    for cn, dc, root_type in DEMO_ROOTS:
        der = make_root(cn, dc)
        rcp.save_root(store, {"caCertificate": base64.b64encode(der).decode(),
                              "rootType": root_type}, Faults())
    clients = []
    for client_id, role, name, wmis, prefixes in DEMO_CLIENTS:
        secret = secrets.token_urlsafe(24)
        auth.add_client(store, client_id, secret, role, name, wmis, prefixes)
        entry = {"role": role.value, "client_id": client_id, "client_secret": secret,
                 "name": name}
        if role is Role.OEM:
            entry["wmis"] = wmis
        if role in (Role.MO, Role.MO_V2G):
            entry["emaid_prefixes"] = prefixes
        clients.append(entry)
    path = data_dir / "clients.json"
    # The file holds secrets: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(clients, fh, indent=2)
    with store.tx() as db:
        db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('initialised', '1')")
    return clients


def make_root(common_name: str, dc: str, *, days: int = 3650,
              not_before: datetime | None = None) -> bytes:
    """A self-signed P-256 root in the ISO 15118 root profile: CA, keyCertSign + cRLSign."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    name = x509.Name([
        # Encoded root-most first, as the operator's real certificates are.
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Harness"),
        x509.NameAttribute(NameOID.DOMAIN_COMPONENT, dc),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)
