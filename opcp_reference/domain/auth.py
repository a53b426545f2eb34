"""OAuth2 client credentials and the JWTs they buy (docs/04_authentication.md).

Tokens are ES256 JWTs carrying the caller's role and the objects it owns (WMIs, EMAID
prefixes), so every service can authorise a request from the token alone. Client secrets
are kept only as scrypt hashes and compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from opcp.access import Role
from opcp.errors import OAuthError, Unauthorized
from opcp_reference.faults import Faults
from opcp_reference.store import Store

TOKEN_TTL = 24 * 3600  # the spec: a token is valid for 24 h
ALGORITHMS = ["ES256"]  # the only algorithm accepted: no `none`, no HS/ES confusion
SCOPES = {
    Role.ADMIN: "rcpservice",
    Role.OEM: "rcpservice pcpservice ccpservice cpservice pkigateway webhookservice",
    Role.CPO: "rcpservice ccpservice cpservice pkigateway webhookservice",
    Role.MO: "rcpservice pcpservice ccpservice cpservice webhookservice",
    Role.MO_V2G: "rcpservice pcpservice ccpservice cpservice pkigateway webhookservice",
    Role.CPS: "rcpservice pcpservice ccpservice cpservice pkigateway webhookservice",
}
# scrypt cost: about 20 ms a check on this machine; slow enough to make guessing expensive.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class AuthConfig:
    issuer: str
    audience: str
    token_ttl: int = TOKEN_TTL


@dataclass(frozen=True)
class Principal:
    client_id: str
    role: Role
    wmis: tuple[str, ...] = ()
    emaid_prefixes: tuple[str, ...] = ()
    claims: dict = field(default_factory=dict, compare=False)


def hash_secret(secret: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    salt = salt or secrets.token_bytes(16)
    return salt, hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)


def add_client(store: Store, client_id: str, secret: str, role: Role, name: str,
               wmis: list[str] = (), emaid_prefixes: list[str] = ()) -> None:
    salt, digest = hash_secret(secret)
    with store.tx() as db:
        db.execute(
            "INSERT INTO clients (client_id, role, name, secret_hash, secret_salt, wmis,"
            " emaid_prefixes) VALUES (?,?,?,?,?,?,?)",
            (client_id, role.value, name, digest, salt, json.dumps(list(wmis)),
             json.dumps(list(emaid_prefixes))),
        )


def ensure_signing_key(store: Store) -> None:
    if store.query_one("SELECT 1 FROM signing_keys WHERE active = 1"):
        return
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    kid = _thumbprint(key.public_key())
    with store.tx() as db:
        db.execute("INSERT INTO signing_keys (kid, private_pem, created_at, active)"
                   " VALUES (?,?,?,1)", (kid, store.sealer.seal(pem, kid.encode()),
                                         datetime.now(UTC).isoformat()))


def rotate_signing_key(store: Store, now: datetime | None = None,
                       faults: Faults | None = None) -> str:
    """Retire the active key and make a new one. Tokens signed by a retired key stay valid
    until they expire (a retired key is kept for one token lifetime, then refused)."""
    when = (now or datetime.now(UTC)).isoformat()
    with store.tx() as db:
        db.execute("UPDATE signing_keys SET active = 0, retired_at = ? WHERE active = 1", (when,))
        if faults is not None and faults.on("auth-rotation-drops-old-key"):
            db.execute("DELETE FROM signing_keys WHERE active = 0")
    ensure_signing_key(store)
    return _active_key(store)[0]


def _load_key(store: Store, row) -> ec.EllipticCurvePrivateKey:
    pem = store.sealer.unseal(bytes(row["private_pem"]), row["kid"].encode())
    return serialization.load_pem_private_key(pem, None)


def _active_key(store: Store) -> tuple[str, ec.EllipticCurvePrivateKey]:
    row = store.query_one("SELECT kid, private_pem FROM signing_keys WHERE active = 1"
                          " ORDER BY created_at DESC")
    if row is None:
        raise RuntimeError("no token signing key: the store was not initialised")
    return row["kid"], _load_key(store, row)


def _usable(row, ttl: int) -> bool:
    """A key verifies tokens while active, and for one token lifetime after retirement."""
    retired = row["retired_at"]
    return not retired or datetime.fromisoformat(retired) >= datetime.now(UTC) - timedelta(
        seconds=ttl)


def jwks(store: Store, ttl: int = TOKEN_TTL) -> dict:
    keys = []
    rows = store.query("SELECT kid, private_pem, retired_at FROM signing_keys ORDER BY created_at")
    for row in (r for r in rows if _usable(r, ttl)):
        public = _load_key(store, row).public_key()
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
        jwk.update({"kid": row["kid"], "use": "sig", "alg": "ES256"})
        keys.append(jwk)
    return {"keys": keys}


class SecretThrottle:
    """Repeated bad secrets for one client id buy a 429 with Retry-After.

    Counted per client id, known or not (a limit only on known ids would tell an attacker
    which ids exist). While a client id is throttled even its right secret is refused,
    or the throttle would not slow a guesser down.
    """

    def __init__(self, limit: int = 5, window: float = 60.0):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client_id: str, now: float) -> int:
        failures = self._failures.get(client_id)
        if not failures:
            return 0
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window - now))

    def failed(self, client_id: str, now: float) -> None:
        if len(self._failures) > 100_000:  # bounded memory under a spray of random ids
            self._failures.clear()
        self._failures.setdefault(client_id, deque()).append(now)


class SharedThrottle(SecretThrottle):
    """The same rule, counted in the store: with several instances behind a balancer, a
    guesser's tries land on all of them, and every instance must count them all. Old
    failures are deleted as new ones come, so the table holds one window's worth."""

    def __init__(self, store: Store, limit: int = 5, window: float = 60.0):
        super().__init__(limit, window)
        self.store = store

    def retry_after(self, client_id: str, now: float) -> int:
        rows = self.store.query("SELECT at FROM auth_failures WHERE client_id = ? AND at > ?"
                                " ORDER BY at", (client_id, now - self.window))
        if len(rows) < self.limit:
            return 0
        return max(1, math.ceil(rows[0]["at"] + self.window - now))

    def failed(self, client_id: str, now: float) -> None:
        with self.store.tx() as db:
            db.execute("DELETE FROM auth_failures WHERE at <= ?", (now - self.window,))
            db.execute("INSERT INTO auth_failures (client_id, at) VALUES (?, ?)",
                       (client_id, now))


def issue_token(store: Store, config: AuthConfig, form: dict, faults: Faults,
                throttle: SecretThrottle | None = None, now: float | None = None) -> dict:
    """The client credentials grant. `form` holds the request's fields, whatever the encoding."""
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError(400, "invalid_request", "grant_type: is required")
    if grant != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type",
                         "grant_type: only client_credentials is supported")
    for name in ("client_id", "client_secret", "audience"):
        if not isinstance(form.get(name), str) or not form[name]:
            raise OAuthError(400, "invalid_request", f"{name}: is required")
    if form["audience"] != config.audience:
        raise OAuthError(400, "invalid_target",
                         f"audience: {form['audience']!r} is not served here")
    clock = now if now is not None else time.time()
    if faults.on("auth-no-throttle"):
        throttle = None
    wait = throttle.retry_after(form["client_id"], clock) if throttle else 0
    if wait:
        raise OAuthError(429, "slow_down", f"client_id: too many wrong secrets; retry in {wait} s",
                         headers={"Retry-After": str(wait)})
    row = store.query_one("SELECT * FROM clients WHERE client_id = ?", (form["client_id"],))
    # Hash even for unknown clients, so timing does not reveal which client ids exist.
    salt = bytes(row["secret_salt"]) if row else b"\0" * 16
    _, digest = hash_secret(form["client_secret"], salt)
    good = row is not None and hmac.compare_digest(digest, bytes(row["secret_hash"]))
    if row is None or not (good or faults.on("auth-accept-bad-secret")):
        if throttle:
            throttle.failed(form["client_id"], clock)
        raise OAuthError(401, "invalid_client", "client_id/client_secret: unknown client or "
                                                "wrong secret")
    role = Role(row["role"])
    issued = int(clock)
    claims = {
        "iss": config.issuer,
        "sub": row["client_id"],
        "aud": config.audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + config.token_ttl,
        "jti": str(uuid.uuid4()),
        "role": role.value,
        "wmis": json.loads(row["wmis"]),
        "emaid_prefixes": json.loads(row["emaid_prefixes"]),
        "client_name": row["name"],
        "scope": SCOPES[role],
    }
    if faults.on("auth-token-omits-scope-claims"):  # kept server-side, looked up on use
        del claims["wmis"], claims["emaid_prefixes"]
    kid, key = _active_key(store)
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})
    return {"access_token": token, "token_type": "Bearer", "expires_in": config.token_ttl,
            "scope": SCOPES[role]}


def mint(store: Store, claims: dict) -> str:
    """Sign arbitrary claims with the active key: for operator tooling and test probes only."""
    kid, key = _active_key(store)
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    kid: str
    not_before: int  # the later of iat and nbf
    expires: int
    keys_version: tuple = ()  # store.changes_of("signing_keys") when the key was read
    key_retired_at: str | None = None


# Tokens that passed every check of verify_token, by (raw token, config). A client sends the
# same token with every request for a day; checking its ES256 signature and claims again
# costs more than a tenth of a vehicle request (docs/ccp-performance.md). The bytes were
# verified under the key named by kid, and a kid is the thumbprint of its key, so what can
# change is the time and the key's state: `_still_valid` checks both as the full path does,
# and on any doubt the full path runs and gives its own answer. Only strict verifications
# are kept: what a fault switch let through is checked again every time. The key's state is
# read again only when the signing_keys table changed since (`Store.changes_of`, which hears
# the other instances of a shared store), so a rotation anywhere shows at the next request.
_VERIFIED: dict[tuple[str, AuthConfig], _Verified] = {}
VERIFIED_MAX = 4096  # a token per client and day
_RELAXING = ("auth-ignore-audience", "auth-accept-expired", "auth-ignore-issuer",
             "auth-accept-not-yet-valid")
LEEWAY = 5  # seconds of clock skew allowed on exp, nbf and iat


def _still_valid(store: Store, known: _Verified, config: AuthConfig) -> bool:
    now = time.time()
    if known.not_before > now + LEEWAY or known.expires <= now - LEEWAY:
        return False  # PyJWT's rules for nbf/iat and exp
    if known.keys_version == store.changes_of("signing_keys"):
        return _usable({"retired_at": known.key_retired_at}, config.token_ttl)
    row = store.query_one("SELECT retired_at FROM signing_keys WHERE kid = ?", (known.kid,))
    return row is not None and _usable(row, config.token_ttl)


def verify_token(store: Store, config: AuthConfig, header: str | None, faults: Faults) -> Principal:
    challenge = {"WWW-Authenticate": 'Bearer realm="opcp"'}
    if not header:
        raise Unauthorized("Authorization: a Bearer token is required", headers=challenge)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization: must be 'Bearer <token>'", headers=challenge)
    token = token.strip()
    known = _VERIFIED.get((token, config))
    if known is not None and _still_valid(store, known, config):
        return known.principal
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("Authorization: the token is not a JWT", headers=challenge) from None
    kid = header.get("kid")
    faulty = _faulty_principal(store, token, header, faults)
    if faulty is not None:
        return faulty
    keys_version = store.changes_of("signing_keys")
    row = store.query_one("SELECT kid, private_pem, retired_at FROM signing_keys WHERE kid = ?",
                          (kid,))
    if row is None:
        raise Unauthorized("Authorization: the token's key id is unknown", headers=challenge)
    if not _usable(row, config.token_ttl):
        raise Unauthorized("Authorization: the token's signing key was retired",
                           headers=challenge)
    public = _load_key(store, row).public_key()
    options = {"require": ["exp", "iat", "nbf", "aud", "iss", "sub"]}
    if faults.on("auth-ignore-audience"):
        options["verify_aud"] = False
    if faults.on("auth-accept-expired"):
        options["verify_exp"] = False
    if faults.on("auth-ignore-issuer"):
        options["verify_iss"] = False
    if faults.on("auth-accept-not-yet-valid"):
        options["verify_nbf"] = False
    try:
        claims = jwt.decode(token, public, algorithms=ALGORITHMS, audience=config.audience,
                            issuer=config.issuer, options=options, leeway=LEEWAY)
        role = Role(claims["role"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Authorization: the token has expired", headers=challenge) from None
    except jwt.InvalidAudienceError:
        raise Unauthorized("Authorization: the token is for another audience",
                           headers=challenge) from None
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise Unauthorized(f"Authorization: the token is invalid ({type(exc).__name__})",
                           headers=challenge) from None
    if faults.on("auth-token-omits-scope-claims") and "wmis" not in claims:
        client = store.query_one("SELECT wmis, emaid_prefixes FROM clients WHERE client_id = ?",
                                 (claims["sub"],))
        if client is not None:
            claims = {**claims, "wmis": json.loads(client["wmis"]),
                      "emaid_prefixes": json.loads(client["emaid_prefixes"])}
    principal = Principal(claims["sub"], role, tuple(claims.get("wmis", ())),
                          tuple(claims.get("emaid_prefixes", ())), claims)
    if not any(faults.on(f) for f in _RELAXING):
        if len(_VERIFIED) >= VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[(token, config)] = _Verified(
            principal, kid, max(int(claims["iat"]), int(claims["nbf"])), int(claims["exp"]),
            keys_version, row["retired_at"])
    return principal


def _faulty_principal(store: Store, token: str, header: dict, faults: Faults) -> Principal | None:
    """The deliberately broken verifications of the fault switches (never on by default)."""
    alg = str(header.get("alg", "")).upper()
    claims = None
    if alg == "NONE" and faults.on("auth-accept-alg-none"):
        claims = jwt.decode(token, options={"verify_signature": False})
    elif alg == "HS256" and faults.on("auth-accept-hs256"):
        row = store.query_one("SELECT kid, private_pem FROM signing_keys WHERE kid = ?",
                              (header.get("kid"),))
        if row is not None:
            pem = _load_key(store, row).public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            signing_input, _, signature = token.rpartition(".")
            expected = base64.urlsafe_b64encode(
                hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=")
            if hmac.compare_digest(expected, signature.encode()):
                claims = jwt.decode(token, options={"verify_signature": False})
    if claims is None:
        return None
    return Principal(claims["sub"], Role(claims["role"]), tuple(claims.get("wmis", ())),
                     tuple(claims.get("emaid_prefixes", ())), claims)


def _thumbprint(public: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 JWK thumbprint, used as the key id."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"),
                           sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
