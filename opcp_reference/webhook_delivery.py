"""Delivers the outbox's webhook events: an asyncio worker living with the aiohttp app.

The worker runs on the app's event loop beside the request handlers and never inside one:
a request that raises an event only writes the outbox (in its own transaction) and returns.
Each attempt is an aiohttp client request with its own timeout; the worker's SQLite work
is a few short indexed statements per poll. A second periodic job announces expired roots.

Pace: up to `concurrency` attempts are in flight at once (bounded, so a burst of events never
opens thousands of connections), and a slot freed by a finished attempt is refilled at once,
not at the next poll: the outbox drains as fast as the receivers answer. The poll only finds
new events. Due deliveries go out oldest first.

Several instances on one PostgreSQL store share the outbox: each worker claims what it sends
(`events.claim_due`: row locks and a lease), so no two instances send the same delivery.

Durability: everything the worker knows lives in the outbox (`opcp_reference.domain.events`).
An attempt's result and the delivery's new state commit together (answers that arrive
together are recorded in one transaction), so after a restart every pending delivery is sent
again and none whose 2xx was recorded is. An attempt that was in flight, or answered but not
yet recorded, when the process stopped has no result and is sent again: a receiver that answered 2xx in
that instant sees the event twice, with the same eventId (docs/webhooks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import aiohttp
from aiohttp import web

from opcp.webhook_signature import signature_headers
from opcp_reference.context import Reference
from opcp_reference.domain import events, rcp, webhooks

log = logging.getLogger("opcp.reference.webhooks")

USER_AGENT = "opcp-reference-webhooks/1"
STOP_GRACE_SECONDS = 2.0  # how long a stopping worker lets attempts in flight finish


class DeliveryWorker:
    # Refill a freed slot at once (True), or only at the next poll (the pace before; kept so
    # bench/webhook_load.py can measure the difference in the same run).
    refill_at_once: bool = True

    def __init__(self, ref: Reference):
        self.ref = ref
        self.settings = ref.webhooks
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task] = []
        self._in_flight: dict[int, asyncio.Task] = {}
        self._wake: asyncio.Event | None = None
        # Attempts answered but not yet recorded: the loop records them in one transaction.
        self._answered: list[tuple[events.Due, int | None, str | None, float]] = []

    # --- lifecycle: bound to the app's startup and cleanup signals ----------------------
    async def start(self, app: web.Application | None = None) -> None:
        self._wake = asyncio.Event()
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            headers={"User-Agent": USER_AGENT},
            connector=aiohttp.TCPConnector(limit=max(1, self.settings.concurrency)))
        self._tasks = [asyncio.create_task(self._deliver_loop(), name="webhook-delivery"),
                       asyncio.create_task(self._expiry_loop(), name="root-expiry")]

    async def stop(self, app: web.Application | None = None) -> None:
        for task in self._tasks:
            task.cancel()
        # Attempts in flight may finish for a moment, so their answers get recorded: an
        # attempt cut off here has no result and is sent again after the restart.
        in_flight = list(self._in_flight.values())
        if in_flight:
            await asyncio.wait(in_flight, timeout=STOP_GRACE_SECONDS)
        try:
            self._record_answered()
        except Exception:  # noqa: BLE001 - unrecorded attempts are sent again after a restart
            log.exception("webhook delivery: recording the last answers failed")
        pending = self._tasks + in_flight
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()

    # --- the loops --------------------------------------------------------------------
    async def _deliver_loop(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                self._record_answered()
                self.dispatch_due()
            except Exception:  # noqa: BLE001 - the worker must outlive any single bad row
                log.exception("webhook delivery: dispatch failed")
            # Until the next poll, or until a finished attempt frees a slot.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)

    def _finished(self, delivery_id: int) -> None:
        self._in_flight.pop(delivery_id, None)
        if self.refill_at_once and self._wake is not None:
            self._wake.set()

    async def _expiry_loop(self) -> None:
        while True:
            try:
                removed = rcp.cleanse_expired(self.ref.store, self.ref.faults)
                if removed:
                    log.info("%d expired root(s) left the RCP (root.cert.expired)", removed)
            except Exception:  # noqa: BLE001
                log.exception("root expiry check failed")
            await asyncio.sleep(self.settings.expiry_check_seconds)

    def dispatch_due(self) -> None:
        self._record_answered()  # an answered delivery is no longer in flight: record it first
        room = self.settings.concurrency - len(self._in_flight)
        if room <= 0:
            return
        now = time.time()
        if not events.anything_due(self.ref.store, now):
            return  # the common case: a read, no write transaction
        with self.ref.store.tx() as db:
            due = events.claim_due(db, now, room, self.lease_seconds(), set(self._in_flight),
                                   self.ref.faults)
        for item in due:
            task = asyncio.create_task(self._attempt(item), name=f"webhook-{item.delivery_id}")
            self._in_flight[item.delivery_id] = task
            task.add_done_callback(lambda _t, i=item.delivery_id: self._finished(i))

    def lease_seconds(self) -> float:
        """How long a claimed delivery stays this worker's (events.claim_due): one attempt's
        timeout twice over, plus the stop grace, so only a dead worker loses its claims."""
        return 2 * self.settings.timeout_seconds + STOP_GRACE_SECONDS

    async def _attempt(self, item: events.Due) -> None:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if not self.ref.faults.on("webhook-unsigned"):
            secret = webhooks.open_secret(self.ref.store.sealer, item.endpoint_id, item.secret)
            headers.update(signature_headers(secret, item.body))
        started = time.perf_counter()
        status, error = await self._post(item.url, item.body, headers)
        if self.ref.faults.on("webhook-duplicate-delivery") and status is not None:
            await self._post(item.url, item.body, headers)
        elapsed = (time.perf_counter() - started) * 1000
        if self.refill_at_once:
            self._answered.append((item, status, error, elapsed))  # the loop records it
        else:
            self._record([(item, status, error, elapsed)])

    def _record_answered(self) -> None:
        answered, self._answered = self._answered, []
        if answered:
            self._record(answered)

    def _record(self, answered: list[tuple[events.Due, int | None, str | None, float]]) -> None:
        """Each attempt's result with its delivery's new state, all in one transaction (one
        commit for a batch of answers rather than one per answer)."""
        policy = self.settings.retry
        if self.ref.faults.on("webhook-no-retry"):
            policy = events.RetryPolicy(retries=0, interval_seconds=policy.interval_seconds)
        with self.ref.store.tx() as db:
            outcomes = [events.record_attempt(db, item.delivery_id, status, error, elapsed, policy,
                                              faults=self.ref.faults)
                        for item, status, error, elapsed in answered]
        for (item, status, error, _), outcome in zip(answered, outcomes):
            log.info("webhook event %s -> endpoint %s attempt %d: %s (%s)", item.event_id,
                     item.endpoint_id, item.attempts + 1, status or error, outcome)

    async def _post(self, url: str, body: bytes, headers: dict) -> tuple[int | None, str | None]:
        assert self._session is not None
        try:
            async with self._session.post(url, data=body, headers=headers,
                                          allow_redirects=False) as response:
                await response.content.read(64 * 1024)  # the answer's body does not matter
                return response.status, None
        except TimeoutError:
            return None, f"no answer within {self.settings.timeout_seconds:g} s"
        except (aiohttp.ClientError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]


def install(app: web.Application, ref: Reference) -> DeliveryWorker:
    """Run a delivery worker for as long as the app runs."""
    worker = DeliveryWorker(ref)
    app.on_startup.append(worker.start)
    app.on_cleanup.append(worker.stop)
    return worker
