"""A *target*: the OPCP deployment the conformance suite talks to.

A target file (TOML) names the deployment, its base URL (and optionally one per service),
the token endpoint and audience, the credentials of one or more clients per role, which
services it implements, and how to reach it over TLS. Scenarios for services a target does
not declare are reported *not applicable*, never passed.

    name = "ACME pool (QA)"
    base_url = "https://pool.example.com"
    token_url = "https://auth.example.com/oauth/token"
    audience = "https://pool.example.com"
    jwks_url = "https://auth.example.com/.well-known/jwks.json"   # optional
    services = ["auth", "rcp", "pcp"]
    iso20 = true           # optional: the deployment takes ISO 15118-20 (docs/iso20.md);
                           # without it the @iso20 scenarios are not applicable

    [base_urls]            # optional, per service
    est = "https://est.example.com"

    [tls]                  # optional
    verify = true
    ca_bundle = "ca.pem"
    client_cert = "client.pem"
    client_key = "client.key"

    [[clients]]            # one or more per role; secrets inline or from the environment
    role = "OEM"
    client_id = "abc"
    client_secret_env = "ACME_OEM_SECRET"
    wmis = ["WMA"]

    [probes]               # optional pre-made tokens for negative scenarios
    expired_token = "eyJ..."     # also wrong_audience_token, wrong_issuer_token,
                                 # not_yet_valid_token

    [webhook]              # optional: the deployment's delivery pace (docs/webhooks.md)
    retry_seconds = 2      # without these, retry and expiry scenarios are not applicable
    retries = 3
    expiry_check_seconds = 1
    receiver_host = "127.0.0.1"   # where the suite's webhook receiver listens
    receiver_port = 9000          # default: a free port
    receiver_url = "http://10.0.0.5:{port}"   # how the deployment reaches it

    [peer]                 # optional: the ecosystem this deployment forwards to (pool
    target_file = "peer.toml"   # collaboration, docs/ecosystems.md): its own target file,
                                # or inline: name, base_url, token_url, audience, clients, ...
                                # (the keys above); without it, peer scenarios are not applicable

Instead of `[[clients]]`, `clients_file = "clients.json"` reads a reference-style list.
Relative paths are relative to the target file. A peer's own `[peer]` is not followed (two
ecosystems may name each other).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("auth", "rcp", "pcp", "cps", "ccp", "est", "webhook", "admin")


class TargetError(ValueError):
    """The target file is unusable; the message names the key and the rule."""


# Every key a target file may hold, per table: anything else is an error (a misspelled
# `jwks_url` must not silently turn scenarios not applicable).
KEYS = {
    "": ("name", "base_url", "token_url", "audience", "jwks_url", "services", "base_urls", "tls",
         "clients", "clients_file", "probes", "webhook", "peer", "iso20"),
    "tls": ("verify", "ca_bundle", "client_cert", "client_key"),
    "clients": ("role", "client_id", "client_secret", "client_secret_env", "name", "wmis",
                "emaid_prefixes"),
    "probes": ("expired_token", "wrong_audience_token", "wrong_issuer_token", "not_yet_valid_token"),
    "webhook": ("retry_seconds", "retries", "expiry_check_seconds", "poll_seconds", "settle_seconds",
                "receiver_host", "receiver_port", "receiver_url"),
    "base_urls": (*SERVICES, "ocsp"),
}
# A peer is named by its own target file, or inline by the keys of a target (no [peer] of its own).
KEYS["peer"] = ("target_file", *(k for k in KEYS[""] if k != "peer"))
ROLES = ("ADMIN", "OEM", "MO", "MO_V2G", "CPO", "CPS")


def _known_keys(where: str, table: object, kind: str) -> None:
    if not isinstance(table, dict):
        raise TargetError(f"{where or 'the file'}: must be a table")
    allowed = KEYS[kind]
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise TargetError(f"{where + '.' if where else ''}{key}: unknown key{hint} "
                              f"(known: {', '.join(allowed)})")


@dataclass(frozen=True)
class Client:
    role: str
    client_id: str
    client_secret: str = field(repr=False)
    name: str = ""
    wmis: tuple[str, ...] = ()
    emaid_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tls:
    verify: bool = True
    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None

    def httpx_verify(self):
        """What httpx takes as `verify=`: the process's one TLS context for these settings
        (the trust anchors, no verification when `verify` is false, and the client certificate
        when one is named; `opcp.tls_context`)."""
        from opcp.tls_context import client_context

        return client_context(self.verify, self.ca_bundle, self.client_cert, self.client_key)


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    token_url: str
    audience: str
    services: tuple[str, ...]
    clients: tuple[Client, ...]
    base_urls: dict[str, str] = field(default_factory=dict)
    tls: Tls = field(default_factory=Tls)
    probes: dict[str, str] = field(default_factory=dict, repr=False)
    jwks_url: str | None = None
    webhook: dict[str, object] = field(default_factory=dict)
    iso20: bool = False  # declares ISO 15118-20 support (the @iso20 scenarios apply)
    peer: Target | None = None  # the peer ecosystem ([peer]), whose clients the suite uses there

    def url(self, service: str, path: str) -> str:
        return self.base_urls.get(service, self.base_url).rstrip("/") + path

    def implements(self, service: str) -> bool:
        return service in self.services

    def clients_of(self, role: str) -> list[Client]:
        return [c for c in self.clients if c.role == role]

    def client(self, role: str, party: int = 0) -> Client | None:
        found = self.clients_of(role)
        return found[party] if party < len(found) else None

    def secrets(self) -> list[str]:
        """Every secret value this target holds, so reports can mask them."""
        return [c.client_secret for c in self.clients if c.client_secret] + [
            v for v in self.probes.values() if v] + (self.peer.secrets() if self.peer else [])


def load(path: Path | str, *, follow_peer: bool = True) -> Target:
    """The target file at `path`; with `follow_peer`, its [peer] too (one level deep)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise TargetError(f"{path}: no such target file") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{path}: not valid TOML ({exc})") from None
    # Relative paths inside are the target file's, resolved once here, so they mean the same
    # file whatever directory the suite later runs in.
    return from_dict(data, path.resolve().parent, follow_peer=follow_peer)


def _peer(data: object, base_dir: Path) -> Target:
    """The [peer] table: `target_file` alone, or the keys of a target inline."""
    _known_keys("peer", data, "peer")
    assert isinstance(data, dict)
    if "target_file" in data:
        others = sorted(k for k in data if k != "target_file")
        if others:
            raise TargetError(f"peer: target_file names the peer's own file; {', '.join(others)}"
                              " belong in that file, not beside it")
        if not isinstance(data["target_file"], str) or not data["target_file"]:
            raise TargetError("peer.target_file: must be a non-empty path")
        try:
            return load(base_dir / data["target_file"], follow_peer=False)
        except TargetError as exc:
            raise TargetError(f"peer.target_file: {exc}") from None
    try:
        return from_dict(data, base_dir, follow_peer=False)
    except TargetError as exc:
        raise TargetError(f"peer.{exc}") from None


def from_dict(data: dict, base_dir: Path, *, follow_peer: bool = True) -> Target:
    _known_keys("", data, "")
    for table in ("tls", "probes", "webhook", "base_urls"):
        if table in data:
            _known_keys(table, data[table], table)

    def need(key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise TargetError(f"{key}: is required and must be a non-empty string")
        return value

    services = data.get("services", list(SERVICES))
    if not isinstance(services, list):
        raise TargetError("services: must be a list of service names")
    for name in services:
        if name not in SERVICES:
            near = difflib.get_close_matches(str(name), SERVICES, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise TargetError(f"services: unknown service {name!r}{hint} (known: {', '.join(SERVICES)})")
    iso20 = data.get("iso20", False)
    if not isinstance(iso20, bool):
        raise TargetError("iso20: must be true or false (whether the deployment takes ISO 15118-20)")
    if not isinstance(data.get("clients", []), list):
        raise TargetError("clients: must be an array of tables ([[clients]])")
    clients = [_client(c, i) for i, c in enumerate(data.get("clients", []))]
    if "clients_file" in data:
        clients_path = base_dir / data["clients_file"]
        try:
            listed = json.loads(clients_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise TargetError(f"clients_file: cannot read {clients_path} ({exc})") from None
        if not isinstance(listed, list):
            raise TargetError(f"clients_file: {clients_path} must hold a JSON list of clients")
        clients += [_client(c, i, f"clients_file[{i}]") for i, c in enumerate(listed)]
    tls_data = data.get("tls", {})

    def rel(value: str | None) -> str | None:
        return str(base_dir / value) if value else None

    tls = Tls(verify=bool(tls_data.get("verify", True)), ca_bundle=rel(tls_data.get("ca_bundle")),
              client_cert=rel(tls_data.get("client_cert")),
              client_key=rel(tls_data.get("client_key")))
    return Target(
        name=data.get("name", need("base_url")),
        base_url=need("base_url"),
        token_url=data.get("token_url") or need("base_url").rstrip("/") + "/oauth/token",
        audience=need("audience"),
        services=tuple(services),
        clients=tuple(clients),
        base_urls=dict(data.get("base_urls", {})),
        tls=tls,
        probes={k: str(v) for k, v in data.get("probes", {}).items()},
        jwks_url=data.get("jwks_url"),
        webhook=dict(data.get("webhook", {})),
        iso20=iso20,
        peer=_peer(data["peer"], base_dir) if follow_peer and "peer" in data else None,
    )


def _client(entry: dict, index: int, where: str | None = None) -> Client:
    where = where or f"clients[{index}]"
    if not isinstance(entry, dict):
        raise TargetError(f"{where}: must be a table")
    _known_keys(where, entry, "clients")
    for key in ("role", "client_id"):
        if not entry.get(key):
            raise TargetError(f"{where}.{key}: is required")
    if entry["role"] not in ROLES:
        near = difflib.get_close_matches(str(entry["role"]).upper(), ROLES, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise TargetError(f"{where}.role: unknown role {entry['role']!r}{hint} (known: {', '.join(ROLES)})")
    secret = entry.get("client_secret")
    if secret is None and entry.get("client_secret_env"):
        secret = os.environ.get(entry["client_secret_env"])
        if secret is None:
            raise TargetError(f"{where}.client_secret_env: environment variable "
                              f"{entry['client_secret_env']} is not set")
    if not secret:
        raise TargetError(f"{where}: client_secret or client_secret_env is required")
    return Client(role=entry["role"], client_id=entry["client_id"], client_secret=secret,
                  name=entry.get("name", ""), wmis=tuple(entry.get("wmis", ())),
                  emaid_prefixes=tuple(entry.get("emaid_prefixes", ())))


def redirected_text(target_file: Path, upstream: str, url: str) -> str:
    """The target file's text with every URL of `upstream` pointed at `url` (base URL, token
    URL, per-service base URLs) and its relative paths (clients file, TLS files) made absolute,
    so the text works from another directory; audience, clients and probes stay as they are.
    For whatever stands between a client and the target (a proxy, a switchable link)."""
    text = target_file.read_text().replace(f'"{upstream}', f'"{url}')
    return re.sub(r'(clients_file|ca_bundle|client_cert|client_key) = "(?!/)([^"]+)"',
                  lambda m: f'{m.group(1)} = "{target_file.parent / m.group(2)}"', text)
