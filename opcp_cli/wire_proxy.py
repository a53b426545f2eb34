"""The transforming proxy between the suite and any target, and the answers it plays: conformant
variants the suite must pass and faults it must catch.

Guarantees:
- every variant (`VARIANTS`) changes only what the spec leaves open (each names the rule that
  allows it): the meaning of every answer stays the same, so a suite that fails a server behind
  the proxy has a false failure to fix, never a server bug to report;
- every fault (`FAULTS`) breaks one rule the spec or a standard it cites states, names it, and
  names the feature that must catch it;
- a change acts on answers only; requests reach the target unchanged; the proxy counts the
  answers a change altered, so a fault that found nothing to break on a target is reported as
  not applicable there rather than survived;
- the proxy never hangs a run: an upstream that does not answer within its timeout gives 502.

`opcp selftest` runs the suite through each variant (`passed M of M conformant variants`) and
each fault (`killed K of N faulty variants`); `WireProxy` works in front of the embedded
reference and in front of a third party's target alike (`opcp selftest --target FILE`).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from aiohttp import web
from multidict import CIMultiDict

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
              "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate", "host"}
# Bodies whose members are the client's own data: an extra member there would change the data.
FREE_FORM = {"metadata"}
DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z$")


@dataclass
class Answer:
    status: int
    headers: CIMultiDict
    body: bytes
    chunked: bool = False
    delay: float = 0.0
    close: bool = False  # close the connection after this answer

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json(self) -> object | None:
        if not self.content_type.endswith("json") or not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class Variant:
    name: str
    allows: str  # the rule that allows it
    change: Callable[[str, Answer], None] = field(repr=False)  # (request path, answer) -> None


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str  # the rule it breaks
    caught_by: str  # the feature file that must catch it
    change: Callable[[str, Answer], None] = field(repr=False)


# ----------------------------------------------------------------------------- JSON helpers

def _walk(value: object, fn: Callable[[dict], dict], key: str | None = None) -> object:
    if isinstance(value, dict):
        inner = {k: _walk(v, fn, k) for k, v in value.items()}
        return inner if key in FREE_FORM else fn(inner)
    if isinstance(value, list):
        return [_walk(v, fn, key) for v in value]
    return value


def _strings(value: object, fn: Callable[[str], str], key: str | None = None) -> object:
    if isinstance(value, dict):
        return {k: v if k in FREE_FORM else _strings(v, fn, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v, fn, key) for v in value]
    return fn(value) if isinstance(value, str) else value


def _signed(data: object) -> bool:
    """A body that carries a signature over its own members (the CTL, docs/ctl.md): its bytes
    are the signer's, and a member added or rewritten after signing is tampering, which the
    suite must refuse, not a wire form it must accept."""
    return isinstance(data, dict) and isinstance(data.get("CTL"), dict) and "signature" in data["CTL"]


def _json_change(render: Callable[[object], bytes],
                 changes_value: bool = False) -> Callable[[str, Answer], None]:
    """Re-render JSON bodies. A render that keeps the JSON value (order, white space, escapes)
    applies to signed bodies too: their signature is over the canonical form of the value."""
    def change(_path: str, answer: Answer) -> None:
        data = answer.json()
        if data is not None and not (changes_value and _signed(data)):
            answer.body = render(data)
    return change


def _reordered(data: object) -> bytes:
    return json.dumps(_walk(data, lambda d: dict(reversed(list(d.items()))))).encode()


def _spaced(data: object) -> bytes:
    return (json.dumps(data, indent=4, separators=(" , ", " : ")) + "\n").encode()


def _extended(data: object) -> bytes:
    def more(d: dict) -> dict:
        return {**d, "xVendorExtension": {"note": "a member no schema of the spec forbids"},
                "xVendorFlag": True}
    return json.dumps(_walk(data, more)).encode()


def _escaped_slashes(data: object) -> bytes:
    return json.dumps(data).replace("/", "\\/").encode()


def _offset_times(data: object) -> bytes:
    return json.dumps(_strings(data, lambda s: DATE_TIME.sub(r"\1.000+00:00", s))).encode()


def _bearer_lower(_path: str, answer: Answer) -> None:
    data = answer.json()
    if isinstance(data, dict) and isinstance(data.get("token_type"), str):
        answer.body = json.dumps({**data, "token_type": data["token_type"].lower()}).encode()


def _charset(_path: str, answer: Answer) -> None:
    if answer.content_type.endswith("json"):
        answer.headers["Content-Type"] = f"{answer.content_type}; charset=utf-8"


def _media_type_case(_path: str, answer: Answer) -> None:
    if answer.content_type:
        original = answer.headers["Content-Type"]
        kind, _, rest = original.partition(";")
        answer.headers["Content-Type"] = kind.upper() + (";" + rest if rest else "")


def _extra_headers(_path: str, answer: Answer) -> None:
    answer.headers["X-Vendor-Request-Id"] = "3f2a9c"
    answer.headers["Cache-Control"] = "no-store"
    answer.headers["Server"] = "another-implementation/9"
    answer.headers["Vary"] = "Accept, Authorization"


def _is_est(path: str, answer: Answer) -> bool:
    return "/cacerts" in path or "/simpleenroll" in path or answer.content_type == "application/pkcs7-mime"


def _base64_crlf(path: str, answer: Answer) -> None:
    """RFC 2045 base64: lines of 76 characters ending in CRLF (RFC 7030 section 4 points there)."""
    if not _is_est(path, answer) or answer.status != 200:
        return
    try:
        der = base64.b64decode(b"".join(answer.body.split()), validate=True)
    except ValueError:
        return
    text = base64.b64encode(der).decode()
    answer.body = ("\r\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + "\r\n").encode()


def _pkcs7_reversed(path: str, answer: Answer) -> None:
    """The certificates of a certs-only PKCS#7 are a SET OF (RFC 5652): any order is the same set."""
    if not _is_est(path, answer) or answer.status != 200:
        return
    from asn1crypto import cms

    try:
        der = base64.b64decode(b"".join(answer.body.split()), validate=True)
        info = cms.ContentInfo.load(der)
        signed = info["content"]
        certs = list(signed["certificates"])
        if len(certs) < 2:
            return
        signed["certificates"] = cms.CertificateSet(list(reversed(certs)))
        text = base64.b64encode(info.dump(force=True)).decode()
    except Exception:  # noqa: BLE001 - not a PKCS#7 the variant can reorder: leave it
        return
    answer.body = ("\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n").encode()


def _chunked(_path: str, answer: Answer) -> None:
    answer.chunked = True


def _every(n: int, seconds: float) -> Callable[[str, Answer], None]:
    counter = {"seen": 0}

    def change(_path: str, answer: Answer) -> None:
        counter["seen"] += 1
        if counter["seen"] % n == 0:
            answer.delay = seconds
    return change


def _gzip(_path: str, answer: Answer) -> None:
    if answer.body:
        answer.body = gzip.compress(answer.body)
        answer.headers["Content-Encoding"] = "gzip"


def _connection_close(_path: str, answer: Answer) -> None:
    answer.close = True


def _lowercase_header_names(_path: str, answer: Answer) -> None:
    answer.headers = CIMultiDict((k.lower(), v) for k, v in answer.headers.items())


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("json-key-order", "RFC 8259 section 4: an object is an unordered collection of members",
            _json_change(_reordered)),
    Variant("json-whitespace", "RFC 8259 section 2: insignificant whitespace is allowed around any"
            " structural character", _json_change(_spaced)),
    Variant("json-charset", "RFC 8259 section 11 / RFC 9110 section 8.3: a charset parameter on"
            " application/json is allowed (and ignored)", _charset),
    Variant("media-type-case", "RFC 9110 section 8.3.1: type and subtype are case-insensitive",
            _media_type_case),
    Variant("extra-properties", "no schema of the spec sets additionalProperties: false; RFC 6749"
            " section 5.1 and RFC 7517 section 4 tell clients to ignore unknown members",
            _json_change(_extended, changes_value=True)),
    Variant("json-escaped-slashes", "RFC 8259 section 7: \\/ is an escape of the solidus",
            _json_change(_escaped_slashes)),
    Variant("date-time-offset", "RFC 3339 section 5.6: fractional seconds and a +00:00 offset are"
            " the same instant as Z", _json_change(_offset_times, changes_value=True)),
    Variant("token-type-case", "RFC 6749 section 7.1 / RFC 6750: the token type is"
            " case-insensitive", _bearer_lower),
    Variant("extra-headers", "RFC 9110 section 5: a recipient ignores header fields it does not"
            " recognise", _extra_headers),
    Variant("est-base64-crlf", "RFC 7030 section 4 and RFC 2045 section 6.8: base64 bodies in"
            " lines of at most 76 characters, CRLF line breaks", _base64_crlf),
    Variant("pkcs7-certificate-order", "RFC 5652 section 5.1: certificates is a SET OF; RFC 7030"
            " section 4.1.3 puts no order on cacerts", _pkcs7_reversed),
    Variant("chunked-transfer", "RFC 9112 section 7.1: a body may be sent chunked, without"
            " Content-Length", _chunked),
    Variant("gzip-content-encoding", "RFC 9110 section 8.4: a server may encode a body its client"
            " accepts (httpx sends Accept-Encoding: gzip)", _gzip),
    Variant("connection-close", "RFC 9112 section 9.6: a server may close the connection after"
            " any answer (Connection: close)", _connection_close),
    Variant("lowercase-header-names", "RFC 9110 section 5.1: field names are case-insensitive",
            _lowercase_header_names),
    Variant("slow-answers", "the spec sets no answer time: one answer in 40 takes two seconds",
            _every(40, 2.0)),
)}


# ----------------------------------------------------------------------------- faults

def _error_without_trace_id(_path: str, answer: Answer) -> None:
    data = answer.json()
    if answer.status >= 400 and isinstance(data, dict) and "traceId" in data:
        answer.body = json.dumps({k: v for k, v in data.items() if k != "traceId"}).encode()


def _not_found_as_200(_path: str, answer: Answer) -> None:
    if answer.status == 404:
        answer.status = 200
        answer.headers["Content-Type"] = "application/json"
        answer.body = b"{}"


def _token_without_expiry(_path: str, answer: Answer) -> None:
    data = answer.json()
    if answer.status == 200 and isinstance(data, dict) and "access_token" in data and "expires_in" in data:
        answer.body = json.dumps({k: v for k, v in data.items() if k != "expires_in"}).encode()


def _local_times(data: object) -> bytes:
    return json.dumps(_strings(data, lambda s: DATE_TIME.sub(r"\1", s))).encode()


def _est_binary(path: str, answer: Answer) -> None:
    """The DER itself instead of its base64 (RFC 7030 section 4 requires base64 bodies)."""
    if not _is_est(path, answer) or answer.status != 200:
        return
    try:
        answer.body = base64.b64decode(b"".join(answer.body.split()), validate=True)
    except ValueError:
        return


def _ctl_resequenced(_path: str, answer: Answer) -> None:
    data = answer.json()
    if _signed(data) and isinstance(data["CTL"].get("sequenceNumber"), int):
        data["CTL"]["sequenceNumber"] += 1  # after signing: the signature no longer covers it
        answer.body = json.dumps(data).encode()


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("wire-error-without-trace-id", "the Error body's required traceId is missing (every"
          " OpenAPI file's Error schema)", "auth.feature", _error_without_trace_id),
    Fault("wire-not-found-as-200", "an unknown id answers 200 with an empty object instead of 404",
          "rcp.feature", _not_found_as_200),
    Fault("wire-token-without-expires-in", "token answers lack expires_in (the token response"
          " schema requires it)", "auth.feature", _token_without_expiry),
    Fault("wire-date-times-without-offset", "date-times lack their offset (RFC 3339 section 5.6"
          " requires Z or a numeric offset)", "rcp.feature", _json_change(_local_times)),
    Fault("wire-est-binary-body", "EST answers carry DER instead of base64 (RFC 7030 section 4)",
          "est.feature", _est_binary),
    Fault("wire-ctl-changed-after-signing", "the trust list's sequenceNumber is changed after it"
          " was signed (docs/ctl.md: the signature covers the whole document)", "ctl.feature",
          _ctl_resequenced),
)}


# ----------------------------------------------------------------------------- the proxy

class WireProxy:
    """Forwards every request to `upstream` (a base URL) and changes each answer by `variant`.
    Served on a free loopback port from a background thread (`start`, `stop`, a context manager)."""

    def __init__(self, upstream: str, variant: Variant | Fault, *, verify: object = True,
                 timeout: float = 60.0, host: str = "127.0.0.1"):
        self.upstream = upstream.rstrip("/")
        self.variant = variant
        self.host = host
        self.port = 0
        self._verify = verify
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=f"wire-proxy-{variant.name}")
        self._runner: web.AppRunner | None = None
        self._http: httpx.AsyncClient | None = None
        self.answers = 0  # answers forwarded
        self.changed = 0  # answers the change altered

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> WireProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> WireProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _start(self) -> None:
        self._http = httpx.AsyncClient(verify=self._verify, timeout=self._timeout)
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.aclose()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        # A transparent front, as nginx with `proxy_set_header Host $host`: the target sees the
        # host its client called.
        headers["Host"] = request.host
        headers["Accept-Encoding"] = "identity"  # the proxy decides the encoding towards the client
        try:
            upstream = await self._http.request(request.method, self.upstream + request.path_qs,
                                                headers=headers, content=await request.read())
        except httpx.HTTPError as exc:
            return web.json_response({"errorMessages": [f"upstream {self.upstream}: {exc}"],
                                      "traceId": "00000000-0000-0000-0000-000000000000"}, status=502)
        answer = Answer(upstream.status_code,
                        CIMultiDict((k, v) for k, v in upstream.headers.multi_items()
                                    if k.lower() not in HOP_BY_HOP),
                        upstream.content)
        before = (answer.status, list(answer.headers.items()), answer.body)
        self.variant.change(request.path, answer)
        self.answers += 1
        if (answer.status, list(answer.headers.items()), answer.body) != before or answer.chunked \
                or answer.delay or answer.close:
            self.changed += 1
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.chunked:
            response = web.StreamResponse(status=answer.status, headers=answer.headers)
            response.enable_chunked_encoding()
            await response.prepare(request)
            for i in range(0, len(answer.body), 1024):
                await response.write(answer.body[i:i + 1024])
            await response.write_eof()
            return response
        whole = web.Response(status=answer.status, headers=answer.headers, body=answer.body)
        if answer.close:
            whole.force_close()
        return whole
