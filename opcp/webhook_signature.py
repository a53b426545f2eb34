"""The signature of a webhook delivery: one sign/verify pair beside the header names it uses.

Guarantees: the sender (the reference's delivery worker) and every receiver (the actors' and
the suite's) compute the signature with the same function, so the two cannot drift apart.

The signature is the HMAC-SHA256 of the raw request body keyed with the endpoint's secret, in
lower-case hex. Erratum E-WH-2: the component doc's prose and code name the header
`X-Operator-Signature`, its example `X-Hubject-Signature` (both as `sha256=<hex>`), and
webhook.payload.v1.json declares `payload-signature` (bare hex) as required. A sender sends all
three; a receiver reads `X-Operator-Signature`.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Operator-Signature"
LEGACY_SIGNATURE_HEADER = "X-Hubject-Signature"
PAYLOAD_SIGNATURE_HEADER = "payload-signature"
PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """HMAC-SHA256 of the raw body keyed with the endpoint's secret, lower-case hex."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes) -> dict[str, str]:
    """Every header a delivery carries its signature in (erratum E-WH-2)."""
    digest = sign(secret, body)
    return {SIGNATURE_HEADER: PREFIX + digest, LEGACY_SIGNATURE_HEADER: PREFIX + digest,
            PAYLOAD_SIGNATURE_HEADER: digest}


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`
    (compared in constant time; hex case does not matter)."""
    if not header or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(),
                               header[len(PREFIX):].strip().lower().encode())
