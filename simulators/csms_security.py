"""Who may connect to the CSMS: the station registry and the OCPP 2.0.1 security profiles.

`CsmsConfig` is what a caller hands the CSMS (later filled from target/ecosystem files): the
known stations with their credentials and security profile, what happens to unknown stations,
the heartbeat interval, the ecosystem's OCSP responder, and the operator's idTokens (RFID
cards, central tokens...) with the status Authorize answers for each (C01). `admit(...)` is the decision taken
at the websocket upgrade, before any OCPP message (OCPP 2.0.1 Part 2 A00, Part 4 section 3):

- profile 1: `ws://`, HTTP Basic auth, user = the station identity (the last path segment);
- profile 2: `wss://` with the CSMS server certificate, Basic auth as in profile 1;
- profile 3: `wss://` with a station certificate that chains to the CSMS root and whose CN is
  the station identity; no Basic auth.

A station is held to its configured profile: a profile 2 station over plain `ws`, or a
profile 3 station without a certificate, is refused like a wrong password. Refusals are HTTP
401 with `WWW-Authenticate: Basic`; unknown stations get 401 too unless the registry is
configured `pending` (they may connect and boot, and are told `Pending`).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote

from cryptography import x509

from simulators.csms_tls import common_name

IDENTITY_MAX = 48  # OCPP 2.0.1 Part 4 3.1.1: identity up to 48 characters
PASSWORD_MIN, PASSWORD_MAX = 16, 40  # OCPP 2.0.1 BasicAuthPassword: 16..40 characters
T = TypeVar("T")


class ConfigError(ValueError):
    """A CSMS configuration that cannot work; names the field and the rule."""

    def __init__(self, field: str, rule: str, detail: str):
        super().__init__(f"{field}: {detail} [{rule}]")
        self.field, self.rule = field, rule


class UnknownStations(enum.StrEnum):
    REFUSE = "refuse"  # 401 at the upgrade
    PENDING = "pending"  # connects; BootNotification answered Pending until the CPO registers it


def check_identity(station_id: str, field: str = "station_id") -> str:
    if not station_id or len(station_id) > IDENTITY_MAX:
        raise ConfigError(field, "identity.length", f"1..{IDENTITY_MAX} characters")
    if ":" in station_id or "/" in station_id or not station_id.isprintable():
        raise ConfigError(field, "identity.chars", "no ':', '/' or control characters")
    return station_id


@dataclass(frozen=True)
class StationCredential:
    station_id: str
    security_profile: int = 2
    password: str | None = field(default=None, repr=False)  # Basic auth, profiles 1 and 2

    def __post_init__(self) -> None:
        check_identity(self.station_id)
        if self.security_profile not in (1, 2, 3):
            raise ConfigError("security_profile", "profile.value", "1, 2 or 3")
        if self.security_profile in (1, 2):
            if self.password is None:
                raise ConfigError("password", "password.required",
                                  f"security profile {self.security_profile} uses Basic auth")
            if not PASSWORD_MIN <= len(self.password) <= PASSWORD_MAX:
                raise ConfigError("password", "password.length",
                                  f"{PASSWORD_MIN}..{PASSWORD_MAX} characters (BasicAuthPassword)")


AUTHORIZATION_STATUSES = ("Accepted", "Blocked", "ConcurrentTx", "Expired", "Invalid", "NoCredit",
                          "NotAllowedTypeEVSE", "NotAtThisLocation", "NotAtThisTime", "Unknown")
ID_TOKEN_TYPES = ("Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress")


@dataclass(frozen=True)
class IdTokenRecord:
    """An idToken the operator knows (OCPP IdTokenType: value and type) and the status its
    Authorize gets (AuthorizationStatusEnumType), with its group (groupIdToken) if any."""

    id_token: str
    type: str  # noqa: A003 - OCPP's field name
    status: str = "Accepted"
    group_id: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.id_token) <= 36:
            raise ConfigError("id_token", "id_token.length", "1..36 characters (IdTokenType.idToken)")
        if self.type not in ID_TOKEN_TYPES:
            raise ConfigError("type", "id_token.type", f"one of {', '.join(ID_TOKEN_TYPES)}")
        if self.status not in AUTHORIZATION_STATUSES:
            raise ConfigError("status", "id_token.status", f"one of {', '.join(AUTHORIZATION_STATUSES)}")
        if self.group_id is not None and not 1 <= len(self.group_id) <= 36:
            raise ConfigError("group_id", "id_token.length", "1..36 characters (groupIdToken.idToken)")


@dataclass(frozen=True)
class CsmsConfig:
    stations: tuple[StationCredential, ...] = ()
    unknown_stations: UnknownStations = UnknownStations.REFUSE
    heartbeat_interval: int = 300  # seconds, BootNotificationResponse.interval
    pending_interval: int = 60  # seconds before a Pending station boots again
    # The ecosystem's OCSP responder: asked when a request names none or its own cannot be
    # reached (e.g. the reference's `/ocsp` when certificates name a public URL).
    ocsp_responder: str | None = None
    organization: str = "OPCP Simulated CPO"  # O of the CSMS and station certificates
    id_tokens: tuple[IdTokenRecord, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for s in self.stations:
            if s.station_id in seen:
                raise ConfigError("stations", "stations.unique", f"{s.station_id} is listed twice")
            seen.add(s.station_id)
        tokens = {(t.id_token, t.type) for t in self.id_tokens}
        if len(tokens) != len(self.id_tokens):
            raise ConfigError("id_tokens", "id_tokens.unique", "an idToken of one type is listed twice")
        object.__setattr__(self, "unknown_stations", UnknownStations(self.unknown_stations))
        if self.heartbeat_interval <= 0 or self.pending_interval <= 0:
            raise ConfigError("heartbeat_interval", "interval.positive", "intervals are > 0 s")

    def station(self, station_id: str) -> StationCredential | None:
        return next((s for s in self.stations if s.station_id == station_id), None)

    def id_token(self, id_token: dict) -> IdTokenRecord | None:
        """The record of an OCPP IdTokenType ({id_token, type}), if the operator listed it."""
        return next((t for t in self.id_tokens
                     if (t.id_token, t.type) == (id_token.get("id_token"), id_token.get("type"))), None)


LOCAL_STATIONS = (("CS-001", 1), ("CS-002", 2), ("CS-003", 3))


def local_stations(path: Path | str) -> tuple[StationCredential, ...]:
    """The stations of a local ecosystem (`opcp up`, `opcp station`), kept in a JSON file
    (mode 0600) made on first use: one station per security profile, fresh passwords.
    A file edited by hand is read as it is, each entry checked like any configuration."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        entries = [{"station_id": sid, "security_profile": profile,
                    "password": secrets.token_urlsafe(18) if profile < 3 else None}
                   for sid, profile in LOCAL_STATIONS]
        path.write_text(json.dumps(entries, indent=2) + "\n")
        os.chmod(path, 0o600)
    return _entries(path, "stations.json", "{station_id, security_profile, password}",
                    lambda e: StationCredential(str(e["station_id"]), int(e.get("security_profile", 2)),
                                                e.get("password")))


def local_id_tokens(path: Path | str) -> tuple[IdTokenRecord, ...]:
    """The operator's idTokens of a local ecosystem, from a JSON list of {id_token, type,
    status, group_id} written by hand (none when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return ()
    return _entries(path, "id_tokens.json", "{id_token, type, status, group_id}",
                    lambda e: IdTokenRecord(str(e["id_token"]), str(e["type"]), str(e.get("status", "Accepted")),
                                            e.get("group_id")))


def _entries(path: Path, rule: str, shape: str, make: Callable[[dict], T]) -> tuple[T, ...]:
    """A hand-editable JSON list of objects, each made into a record by `make`; anything
    unreadable is a ConfigError naming the file (a record's own check keeps its field)."""
    try:
        entries = json.loads(path.read_text())
    except ValueError as exc:
        raise ConfigError(str(path), rule, f"not JSON ({exc})") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(str(path), rule, f"a list of {shape}")
    try:
        return tuple(make(e) for e in entries)
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(str(path), rule, f"unreadable entry ({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True)
class Admission:
    """The upgrade's verdict: `refusal` is None when the station may connect."""

    station_id: str
    known: bool
    profile: int | None
    refusal: str | None = None


def station_identity(path: str) -> str:
    """The identity from the URL `.../<identity>` (percent-decoded)."""
    return unquote(path.split("?", 1)[0].rstrip("/").rpartition("/")[2])


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def admit(config: CsmsConfig, path: str, authorization: str | None, tls: bool,
          client_cert: x509.Certificate | None) -> Admission:
    """May this upgrade request become a station's OCPP connection?"""
    station_id = station_identity(path)
    try:
        check_identity(station_id, "identity")
    except ConfigError as exc:
        return Admission(station_id, False, None, str(exc))
    known = config.station(station_id)
    if known is None:
        if config.unknown_stations is UnknownStations.PENDING:
            return Admission(station_id, False, None)
        return Admission(station_id, False, None, f"unknown station {station_id!r}")
    if known.security_profile >= 2 and not tls:
        return Admission(station_id, True, known.security_profile,
                         f"station {station_id} uses security profile {known.security_profile}: wss only")
    if known.security_profile == 3:
        if client_cert is None:
            return Admission(station_id, True, 3, "security profile 3 needs a station certificate")
        if common_name(client_cert) != station_id:
            return Admission(station_id, True, 3, "the station certificate's CN is not the identity")
        return Admission(station_id, True, 3)
    credentials = _basic(authorization)
    if credentials is None:
        return Admission(station_id, True, known.security_profile, "Basic authorization required")
    user, password = credentials
    assert known.password is not None
    if user != station_id or not hmac.compare_digest(password.encode(), known.password.encode()):
        return Admission(station_id, True, known.security_profile, "wrong user or password")
    return Admission(station_id, True, known.security_profile)
