"""The demo ecosystem a fresh reference starts with.

The reference's own test PKI (`domain.pki`: its roots enter the RCP, its CAs the store;
V2G root 2 enters with a cross-certificate for V2G root 1)
and two parties of each role (so cross-party isolation can be checked), with their
credentials written to `clients.json` for users and the suite. The OEMs' WMIs are the
first three characters of the PCIDs they may publish.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from opcp.access import Role
from opcp_reference.domain import auth, pki, rcp
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g.pki.cross import CertificatePair, cross_certify, encode_pair
from v2g.pki.profiles import Kind

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

def is_initialised(store: Store) -> bool:
    return store.get_setting("initialised") == "1"


def initialise(store: Store, data_dir: Path, public_url: str = pki.DEFAULT_PUBLIC_URL
               ) -> list[dict]:
    """Create the demo ecosystem once; later starts reuse it (and its OCSP URL)."""
    if is_initialised(store):
        return json.loads((data_dir / "clients.json").read_text())
    auth.ensure_signing_key(store)
    built = pki.build(store, public_url)
    for name in built.names(kind=Kind.ROOT):
        root = built[name]
        body = {"caCertificate": base64.b64encode(root.der).decode(),
                "rootType": pki.ROOT_TYPES[root.profile.role.value]}
        if name == pki.CROSS_ISSUER:
            # The second V2G root vouches for the first (docs/ecosystems.md): a vehicle that
            # trusts only root 2 validates what root 1's CPS signs through this certificate.
            pair = CertificatePair(issued_by_this_ca=cross_certify(
                built[pki.CROSS_SUBJECT].cert, root))
            body["crossCertificatePair"] = base64.b64encode(encode_pair(pair)).decode()
        rcp.save_root(store, body, Faults())
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
        db.execute("INSERT INTO settings (key, value) VALUES ('initialised', '1')"
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    return clients

