"""Limits for endpoints that anyone who may read may also call to write (POST /feedback): a cap
on the body, enforced while it streams, and a request rate per client.

The body cap is a small ASGI middleware rather than a check in the route: FastAPI reads and
parses the whole body before any route code runs, and a body sent without a Content-Length
(chunked) would otherwise be read in full whatever its size."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from api.errors import error_response
from qa.errors import PayloadTooLarge, RateLimited


class BodyLimit:
    """Refuse (413) a POST to one of `limits`' paths whose body is over its byte cap. The body
    is read here, up to the cap, and handed on whole: the caps are small (kilobytes)."""

    def __init__(self, app, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send) -> None:
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "POST" else None
        if limit is None:
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await self._refuse(scope, receive, send, limit)
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                return await self._refuse(scope, receive, send, limit)
            if not message.get("more_body"):
                break
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed():
            return replay.pop() if replay else await receive()

        await self.app(scope, replayed, send)

    @staticmethod
    async def _refuse(scope, receive, send, limit: int) -> None:
        await error_response(PayloadTooLarge(f"the request body is over the {limit}-byte limit"))(scope, receive, send)


class RateLimiter:
    """A token bucket per client: `per_minute` requests a minute, in bursts of up to as many.
    The least recently seen clients are forgotten past `clients`, so memory stays bounded
    (a forgotten client starts again with a full bucket)."""

    def __init__(self, per_minute: int, clients: int = 10_000) -> None:
        self.capacity = float(per_minute)
        self.per_second = per_minute / 60.0
        self.clients = clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        """Spend one request of `client`'s, or raise RateLimited saying when to come back."""
        now = time.monotonic()
        with self._lock:
            tokens, when = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - when) * self.per_second)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.clients:
                self._buckets.popitem(last=False)
        if not allowed:
            wait = math.ceil((1 - tokens) / self.per_second)
            raise RateLimited(f"too many requests from this client; try again in {wait} s", retry_after=wait)
