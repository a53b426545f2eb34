"""A webhook receiver: what a party's backend does with the ecosystem's events.

Each subscription gets its own path, `/hooks/{name}`, and the secret its endpoint was
created with. A delivery is accepted (200) when its `X-Operator-Signature: sha256=<hex>` is
the HMAC-SHA256 of the raw body under that secret, compared in constant time; otherwise it
is refused with 401. Every delivery is recorded, accepted or not, so tests can see what came.
The receiver can be told to answer 503 to the next N deliveries of a path, to make the
sender retry. An actor can `listen` on a path: it is handed each accepted event (never one
whose signature failed), which is how the MO actor learns that a vehicle's contracts are gone.

Standalone:
    python -m simulators.webhook_receiver --port 9000 --hook mine=whsec_...
and create the endpoint with url http://HOST:9000/hooks/mine. From tests: `ReceiverServer`
runs it on a loopback port in a background thread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import threading
import time
from dataclasses import dataclass, field

from aiohttp import web

from opcp.webhook_signature import SIGNATURE_HEADER, verify

log = logging.getLogger("opcp.webhook_receiver")


@dataclass
class Delivery:
    """One POST the receiver got."""

    hook: str
    body: bytes
    headers: dict[str, str]
    answered: int  # the status the receiver sent back
    at: float = field(default_factory=time.time)

    @property
    def accepted(self) -> bool:
        return 200 <= self.answered < 300

    def json(self) -> object:
        return json.loads(self.body)


class Receiver:
    """The receiver's state; thread-safe, so tests may read it while the server runs."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self._fail_next: dict[str, tuple[int, int]] = {}  # hook -> (count, status)
        self._deliveries: list[Delivery] = []
        self._listeners: dict[str, list] = {}  # hook -> callables taking the event (a dict)
        self._changed = threading.Condition()

    def register(self, hook: str, secret: str) -> None:
        with self._changed:
            self._secrets[hook] = secret

    def secret(self, hook: str) -> str | None:
        with self._changed:
            return self._secrets.get(hook)

    def listen(self, hook: str, callback) -> None:
        """Hand every accepted delivery to `hook` to `callback(event)`, in arrival order."""
        with self._changed:
            self._listeners.setdefault(hook, []).append(callback)

    def fail_next(self, hook: str, count: int, status: int = 503) -> None:
        """Answer `status` (5xx) to the next `count` deliveries to `hook`."""
        with self._changed:
            self._fail_next[hook] = (count, status)

    def deliveries(self, hook: str | None = None) -> list[Delivery]:
        with self._changed:
            return [d for d in self._deliveries if hook is None or d.hook == hook]

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until `predicate(deliveries)` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self._deliveries)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def handle(self, hook: str, body: bytes, headers: dict[str, str]) -> int:
        """Decide the answer to one delivery and record it."""
        with self._changed:
            secret = self._secrets.get(hook)
            count, fail_status = self._fail_next.get(hook, (0, 503))
            if count > 0:
                self._fail_next[hook] = (count - 1, fail_status)
                status = fail_status
            elif secret is None or not verify(secret, body, headers.get(SIGNATURE_HEADER)):
                status = 401
            else:
                status = 200
            delivery = Delivery(hook, body, headers, status)
            listeners = list(self._listeners.get(hook, ())) if delivery.accepted else []
            if not listeners:
                self._record(delivery)
                return status
        # Listeners run outside the lock (they may read the receiver), and before the
        # delivery is recorded: whoever waits for it then sees what the listener did.
        event = _event_of(body)
        try:
            for listener in listeners if event is not None else ():
                listener(event)
        except Exception:  # noqa: BLE001 - the backend failed: a 5xx makes the sender retry
            log.exception("listener on /hooks/%s failed", hook)
            delivery.answered = 500
        with self._changed:
            self._record(delivery)
        return delivery.answered

    def _record(self, delivery: Delivery) -> None:
        self._deliveries.append(delivery)
        self._changed.notify_all()


def _event_of(body: bytes) -> dict | None:
    try:
        event = json.loads(body)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def create_app(receiver: Receiver, echo: bool = False) -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        status = receiver.handle(request.match_info["hook"], body, dict(request.headers))
        if echo:
            print(f"{request.path} -> {status}: {body[:300].decode(errors='replace')}", flush=True)
        text = {200: "ok", 401: "invalid signature"}.get(status, "try again later")
        return web.Response(status=status, text=text)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/hooks/{hook}", hook)
    return app


class ReceiverServer:
    """The receiver on a loopback port, served from a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.receiver = Receiver()
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="webhook-receiver")

    def url(self, hook: str) -> str:
        return f"http://{self.host}:{self.port}/hooks/{hook}"

    def start(self) -> ReceiverServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(create_app(self.receiver), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="OPCP webhook receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--hook", action="append", default=[], metavar="NAME=SECRET",
                        help="accept deliveries to /hooks/NAME signed with SECRET; repeatable")
    parser.add_argument("--fail-next", type=int, default=0, metavar="N",
                        help="answer 503 to the first N deliveries of every hook")
    args = parser.parse_args(argv)
    receiver = Receiver()
    for spec in args.hook:
        name, sep, secret = spec.partition("=")
        if not sep or not name or not secret:
            parser.error(f"--hook {spec!r}: expected NAME=SECRET")
        receiver.register(name, secret)
        if args.fail_next:
            receiver.fail_next(name, args.fail_next)

    async def show(app: web.Application) -> None:
        print(f"webhook receiver on http://{args.host}:{args.port}/hooks/NAME", flush=True)

    app = create_app(receiver, echo=True)
    app.on_startup.append(show)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
