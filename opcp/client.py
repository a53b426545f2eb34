"""An OPCP HTTP client that remembers what it exchanged.

The conformance steps, the simulators and the CLI talk to a target through this client.
Every request/response pair is kept as an `Exchange` so a report can show exactly what
was sent and what came back, with credentials masked, and a curl command to replay it.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from opcp import media_types
from opcp.access import ACCESS, Operation
from opcp.target import Client, Target

MASK = "***"
TOKEN_PLACEHOLDER = "$OPCP_TOKEN"


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_headers: dict[str, str]
    response_body: str
    elapsed_ms: float
    response: httpx.Response = field(repr=False)
    role: str | None = None  # the role whose token was sent, when the client chose it

    def json(self):
        return self.response.json()

    def text(self) -> str:
        req = "\n".join(f"{k}: {v}" for k, v in self.request_headers.items())
        res = "\n".join(f"{k}: {v}" for k, v in self.response_headers.items())
        return (f"{self.method} {self.url}\n{req}\n\n{self.request_body}\n\n"
                f"--> {self.status} ({self.elapsed_ms:.1f} ms)\n{res}\n\n{self.response_body}\n")

    def curl(self) -> str:
        """A copy-pasteable command that replays this request (token as a placeholder)."""
        parts = ["curl", "-sS", "-i", "-X", self.method, shlex.quote(self.url)]
        for key, value in self.request_headers.items():
            if key.lower() in ("content-length", "host", "accept-encoding", "connection",
                               "user-agent"):
                continue
            shown = f"{key}: {value}"
            # Leave the placeholder unquoted-expandable so the shell fills in the token.
            parts += ["-H", f'"{shown}"' if TOKEN_PLACEHOLDER in value else shlex.quote(shown)]
        if self.request_body:
            parts += ["--data-binary", shlex.quote(self.request_body)]
        return " ".join(parts)


class OpcpClient:
    def __init__(self, target: Target, timeout: float = 30.0):
        self.target = target
        self.exchanges: list[Exchange] = []
        self._tokens: dict[tuple[str, int], str] = {}
        self._secrets: set[str] = set(target.secrets())
        self._http = httpx.Client(timeout=timeout, verify=target.tls.httpx_verify(),
                                  follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    # --- tokens -----------------------------------------------------------------------
    def token_request(self, body: dict | None = None, *, form: bool = False,
                      content: bytes | None = None, headers: dict | None = None) -> Exchange:
        if content is not None:
            return self.send("POST", self.target.token_url, content=content, headers=headers)
        if form:
            return self.send("POST", self.target.token_url, data=body, headers=headers)
        return self.send("POST", self.target.token_url, json=body, headers=headers)

    def credentials_body(self, client: Client, **overrides) -> dict:
        body = {"client_id": client.client_id, "client_secret": client.client_secret,
                "audience": self.target.audience, "grant_type": "client_credentials"}
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    def token(self, role: str, party: int = 0) -> str:
        key = (role, party)
        if key not in self._tokens:
            client = self.target.client(role, party)
            if client is None:
                raise LookupError(f"the target file has no client number {party + 1} "
                                  f"for role {role}")
            exchange = self.token_request(self.credentials_body(client))
            if exchange.status != 200:
                raise RuntimeError(f"token request for {role} failed with {exchange.status}: "
                                   f"{exchange.response_body[:300]}")
            self._tokens[key] = exchange.json()["access_token"]
            self._secrets.add(self._tokens[key])
        return self._tokens[key]

    def remember_secret(self, value: str) -> None:
        self._secrets.add(value)

    # --- requests ---------------------------------------------------------------------
    def op(self, name: str, path_params: dict[str, str] | None = None, **kwargs) -> Exchange:
        """Call the operation the role table names `name` (e.g. "getSignedContractData"): its
        method, service and path come from the same table the reference routes by. Path
        parameters are filled from `path_params`; everything else is passed to `call`."""
        operation = ACCESS[name]
        return self.call(operation.method, operation.service, path_of(operation, path_params),
                         **kwargs)

    def call(self, method: str, service: str, path: str, *, role: str | None = None,
             party: int = 0, token: str | None = None, headers: dict | None = None,
             **kwargs) -> Exchange:
        headers = dict(headers or {})
        as_role = None
        if token is None and role is not None:
            token, as_role = self.token(role, party), role
        if token is not None:
            self._secrets.add(token)
            headers["Authorization"] = f"Bearer {token}"
        exchange = self.send(method, self.target.url(service, path), headers=headers, **kwargs)
        exchange.role = as_role if token is not None else "anonymous"
        return exchange

    def send(self, method: str, url: str, **kwargs) -> Exchange:
        started = time.perf_counter()
        response = self._http.request(method, url, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
        request = response.request
        self._learn_tokens(response)
        exchange = Exchange(
            method=method, url=str(request.url),
            request_headers=self._mask_headers(request.headers),
            request_body=self._mask(request.content.decode("utf-8", "replace")),
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=self._mask(response.text),
            elapsed_ms=elapsed, response=response,
        )
        self.exchanges.append(exchange)
        return exchange

    def _learn_tokens(self, response: httpx.Response) -> None:
        """Tokens (and webhook signing secrets) the target hands out are secrets from the
        moment they arrive."""
        if media_types.is_json(response.headers.get("content-type")):
            try:
                body = response.json()
            except ValueError:
                return
            for key in ("access_token", "secret"):
                if isinstance(body, dict) and isinstance(body.get(key), str):
                    self._secrets.add(body[key])

    def _mask_headers(self, headers: httpx.Headers) -> dict[str, str]:
        out = {}
        for key, value in headers.items():
            if key.lower() == "authorization":
                scheme = value.split(" ", 1)[0]
                value = f"{scheme} {TOKEN_PLACEHOLDER}" if scheme.lower() == "bearer" else \
                    f"{scheme} {MASK}"
            out[key] = self._mask(value)
        return out

    def _mask(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret and secret in text:
                text = text.replace(secret, MASK)
        return text


def path_of(operation: Operation | str, path_params: dict[str, str] | None = None) -> str:
    """The path of an operation with its parameters filled in (each quoted as one segment).
    A parameter left out is an error naming it, never a literal `{name}` sent to a target."""
    op = ACCESS[operation] if isinstance(operation, str) else operation
    values = {k: quote(str(v), safe="") for k, v in (path_params or {}).items()}
    try:
        return op.path.format(**values)
    except KeyError as exc:
        raise ValueError(f"{op.name}: path parameter {exc.args[0]} is missing") from None


def pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2)
    except (ValueError, TypeError):
        return body
