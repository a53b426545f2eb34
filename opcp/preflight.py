"""Preflight: is the target usable at all, before any scenario runs?

Guarantees:
- every URL the target file names for a declared service (base URLs, token URL, JWKS URL) is
  asked once; an address that does not answer is one problem, however many services share it;
- each client gets exactly one token request (never a retry: a wrong secret against a real
  deployment must not trip its brute-force lockout), and the answer must be JSON with an
  `access_token`;
- each declared JSON service is asked one harmless request (a GET with a token where the
  operation takes no identifiers, else without a token, which the service must refuse), and
  must answer JSON, not HTML;
- the verdict names the URL, the role and the cause; `Preflight.ok` is false when anything
  failed, and then no scenario should run (`opcp check` exits 2 and records the verdict).

Nothing here creates or changes anything on the target.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import httpx

from opcp import media_types
from opcp.access import OPERATIONS, Operation
from opcp.target import Client, Target

TIMEOUT_SECONDS = 10.0
# Services whose answers are not JSON (EST speaks PKCS#7/PKCS#10).
NOT_JSON = frozenset({"est"})
NAME = "Preflight: the target answers, every client gets a token, JSON where JSON is due"


@dataclass(frozen=True)
class Check:
    what: str  # "token for CPO (cpo-1)", "rcp base URL", ...
    url: str
    ok: bool
    detail: str  # what was seen, or the cause of the failure
    role: str | None = None

    def line(self) -> str:
        role = f" [role {self.role}]" if self.role else ""
        return f"{'ok  ' if self.ok else 'FAIL'} {self.what}{role}: {self.url} -> {self.detail}"


@dataclass
class Preflight:
    target: str
    checks: list[Check] = field(default_factory=list)
    midway: bool = False  # run again during the run, after scenarios failed to reach the target

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def message(self) -> str:
        """One message for the whole preflight: every root cause once, with URL and role."""
        if self.ok:
            return f"preflight passed: {len(self.checks)} checks against {self.target}"
        lines = [f"preflight failed against {self.target}: "
                 + ("it stopped answering during the run; the remaining scenarios were not run"
                    if self.midway else "no scenario was run")]
        lines += [f"  {c.what}{f' (role {c.role})' if c.role else ''}: {c.url}: {c.detail}"
                  for c in self.failures]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"target": self.target, "ok": self.ok, "message": self.message(),
                "checks": [asdict(c) for c in self.checks]}


def run(target: Target, timeout: float = TIMEOUT_SECONDS, *, midway: bool = False) -> Preflight:
    report = Preflight(target.name if target.base_url in target.name
                       else f"{target.name} ({target.base_url})", midway=midway)
    try:
        verify = target.tls.httpx_verify()
    except (OSError, ssl.SSLError) as exc:
        report.checks.append(Check("TLS settings of the target file", target.tls.ca_bundle or "",
                                   False, f"cannot load: {exc}"))
        return report
    with httpx.Client(timeout=timeout, verify=verify, follow_redirects=False) as http:
        _Run(target, http, report).all()
    return report


class _Run:
    def __init__(self, target: Target, http: httpx.Client, report: Preflight):
        self.target, self.http, self.report = target, http, report
        self.down: dict[str, str] = {}  # origin -> cause, so one dead host is one problem
        self.tokens: dict[str, str] = {}  # role -> a token of its first client

    def all(self) -> None:
        self.reachable()
        if self.report.ok:
            self.tokens_per_client()
        if self.report.ok:
            self.json_answers()

    def add(self, what: str, url: str, ok: bool, detail: str, role: str | None = None) -> None:
        self.report.checks.append(Check(what, url, ok, detail, role))

    def get(self, what: str, url: str, **kwargs) -> httpx.Response | None:
        """One request; a transport failure is recorded (once per origin) and gives None."""
        origin = _origin(url)
        if origin in self.down:
            return None
        role = kwargs.pop("role", None)
        try:
            return self.http.request(kwargs.pop("method", "GET"), url, **kwargs)
        except httpx.HTTPError as exc:
            self.down[origin] = cause = _transport_cause(exc)
            self.add(what, url, False, cause, role)
            return None

    # --- 1. every URL the declared services need answers ------------------------------
    def reachable(self) -> None:
        urls = {"token endpoint": self.target.token_url}
        for service in self.target.services:
            urls.setdefault(f"{service} base URL", self.target.url(service, "/"))
        seen: set[str] = set()
        for what, url in urls.items():
            if url in seen:
                continue
            seen.add(url)
            got = self.get(what, url)
            if got is not None:
                self.add(what, url, True, f"answers ({got.status_code})")
        got = self.get("jwks_url", self.target.jwks_url) if self.target.jwks_url else None
        if got is not None:
            keys = _json(got).get("keys") if isinstance(_json(got), dict) else None
            ok = got.status_code == 200 and isinstance(keys, list)
            self.add("jwks_url", self.target.jwks_url, ok,
                     f"{len(keys)} key(s)" if ok else _unexpected(got, "200 with a JSON Web Key Set"))

    # --- 2. one token attempt per client ----------------------------------------------
    def tokens_per_client(self) -> None:
        if not self.target.clients:
            self.add("clients", "(target file)", False, "the target file names no client")
            return
        for client in self.target.clients:
            self.token(client)

    def token(self, client: Client) -> None:
        what = f"token for client {client.client_id}"
        url = self.target.token_url
        body = {"client_id": client.client_id, "client_secret": client.client_secret,
                "audience": self.target.audience, "grant_type": "client_credentials"}
        try:
            got = self.http.post(url, json=body)
        except httpx.HTTPError as exc:
            self.add(what, url, False, _transport_cause(exc), client.role)
            return
        data = _json(got)
        token = data.get("access_token") if isinstance(data, dict) else None
        if got.status_code == 200 and isinstance(token, str) and token:
            self.tokens.setdefault(client.role, token)
            self.add(what, url, True, "200 with an access_token", client.role)
            return
        if got.status_code in (400, 401, 403):
            detail = (f"refused ({got.status_code}{_error_text(got)}): check client_id, client_secret "
                      f"and audience ({self.target.audience}) of this client in the target file")
        elif got.status_code == 429:
            detail = "429 Too Many Requests: the token endpoint is rate limiting; wait before a new run"
        else:
            detail = _unexpected(got, "200 with a JSON body holding access_token")
        self.add(what, url, False, detail, client.role)

    # --- 3. JSON where JSON is due ----------------------------------------------------
    def json_answers(self) -> None:
        for service in self.target.services:
            if service in NOT_JSON:
                continue
            op = _probe_operation(service)
            if op is None:
                continue
            url = self.target.url(service, _fill(op.path))
            role = next((r for r in sorted(op.roles) if r in self.tokens), None)
            if op.method == "GET" and "{" not in op.path and role is not None:
                got = self.get(f"{service}: {op.name}", url, role=role,
                               headers={"Authorization": f"Bearer {self.tokens[role]}"},
                               method=op.method)
                expected = "200 with a JSON body"
                ok = got is not None and got.status_code == 200 and _is_json(got)
            else:
                role = None
                got = self.get(f"{service}: {op.name} without a token", url, method=op.method)
                expected = "a JSON Error body (401)"
                ok = got is not None and got.status_code < 500 and _is_json(got)
            if got is None:
                continue
            self.add(f"{service}: {op.name}" + ("" if role else " without a token"), url, ok,
                     f"{got.status_code} JSON" if ok else _unexpected(got, expected), role)


def _probe_operation(service: str) -> Operation | None:
    ops = [op for op in OPERATIONS if op.service == service and not op.deprecated]
    gets = [op for op in ops if op.method == "GET"]
    return next(iter(sorted(gets, key=lambda op: op.path.count("{"))), None) or next(iter(ops), None)


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "PREFLIGHT", path)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _json(got: httpx.Response):
    try:
        return got.json()
    except ValueError:
        return None


def _is_json(got: httpx.Response) -> bool:
    return media_types.is_json(got.headers.get("content-type")) and _json(got) is not None


def _error_text(got: httpx.Response) -> str:
    data = _json(got)
    if isinstance(data, dict):
        text = data.get("error_description") or data.get("error") or data.get("errorMessages")
        if text:
            return f": {str(text)[:200]}"
    return ""


def _unexpected(got: httpx.Response, expected: str) -> str:
    kind = got.headers.get("content-type", "no content type").split(";")[0]
    snippet = " ".join(got.text[:120].split())
    return f"expected {expected}, got {got.status_code} {kind}" + (f" ({snippet!r})" if snippet else "")


def _transport_cause(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.ReadTimeout):
        return f"no answer within {TIMEOUT_SECONDS:g} s ({type(exc).__name__})"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (f"the TLS certificate is not trusted ({text}); name the CA in the target file "
                "([tls] ca_bundle)")
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({text}): is the deployment running at this address?"
    return f"{type(exc).__name__}: {text}"
