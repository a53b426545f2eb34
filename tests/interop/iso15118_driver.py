"""Runs inside the throwaway iso15118==0.31.2 venv (not the project's): one JSON request
on stdin, one JSON answer on stdout. It calls that package's own contract key functions,
so the test compares two independent implementations."""

import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from iso15118.shared.security import decrypt_priv_key, encrypt_priv_key


def main() -> None:
    req = json.load(sys.stdin)
    out = []
    for op in req:
        if op["op"] == "encrypt":
            key = serialization.load_pem_private_key(op["contract_key_pem"].encode(), None)
            dh, enc = encrypt_priv_key(bytes.fromhex(op["prov_cert_der"]), key)
            out.append({"dh_public_key": dh.hex(), "encrypted": enc.hex()})
        elif op["op"] == "decrypt":
            prov = serialization.load_pem_private_key(op["prov_key_pem"].encode(), None)
            peer = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), bytes.fromhex(op["dh_public_key"]))
            value = decrypt_priv_key(bytes.fromhex(op["encrypted"]), prov, peer)
            out.append({"private_value": value.hex()})
        else:
            raise SystemExit(f"unknown op {op['op']!r}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
