"""A lean HTTP/1.1 load client on asyncio streams, for the benches that drive gunicorn.

Why not `http.client` in threads: on this two-core machine the client shares the cores
with gunicorn and PostgreSQL, and sixteen Python threads taking turns on the GIL are
sixteen more runnable threads competing with the server's (bench/RESULTS.md, social
webhooks, blamed them for the gap to the target). One event loop writing prepared
request bytes costs less: 0.17-0.24 ms of CPU per webhook request against 0.30 ms for
the threads, measured on 2026-12-05. wrk or similar would cost less still, but the
benches need requests only Python can build (bodies signed with the app secret, CSRF
tokens, session cookies).

What it speaks: keep-alive HTTP/1.1 over plain TCP, one request at a time per
connection; the answer's body by Content-Length, chunked, or up to the close. Nothing
else (no TLS, no pipelining, no redirects, no compression). No dependencies.

    async with await Connection.open("127.0.0.1", 8000) as conn:
        status, headers, body = await conn.request("GET", "/healthz")

`send_all` posts a prepared list of requests over N connections as fast as the server
answers; `run_mix` runs a weighted mix of jobs for a duration. Both time every request
and count failures (an exception, or a status the caller does not accept) instead of
raising, and return a `Stats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

#: Headers larger than this are refused (the servers we test send a few hundred bytes).
MAX_HEADER_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.x as this client reads it."""


class Response(NamedTuple):
    """A status, the headers (names lower-cased; repeated ones joined by ", ", but
    Set-Cookie headers by newlines), the body."""

    status: int
    headers: dict[str, str]
    body: bytes


class Request(NamedTuple):
    """One request as `send_all` sends it."""

    method: str
    path: str
    headers: Mapping[str, str] | None = None
    body: bytes = b""


class Connection:
    """One keep-alive connection to `host:port`. Not for concurrent use: one request at a
    time, as HTTP/1.1 without pipelining allows. Reconnects when the server closed it."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._host_header = f"{host}:{port}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @classmethod
    async def open(cls, host: str, port: int, *, timeout: float = 30.0) -> Connection:
        conn = cls(host, port, timeout=timeout)
        await conn.connect()
        return conn

    async def connect(self) -> None:
        await self.close()
        async with asyncio.timeout(self.timeout):
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):  # the peer reset it: nothing left to do
                await writer.wait_closed()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        """Send one request and read its whole answer.

        A connection the server closed while idle (its keep-alive timeout) is opened
        again and the request sent once more, as browsers do: the server cannot have
        read it. Raises OSError, TimeoutError or ProtocolError otherwise.
        """
        data = self._encode(method, path, headers, body)
        for attempt in (1, 2):
            fresh = self._writer is None
            if fresh:
                await self.connect()
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._exchange(data, method)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                await self.close()
                if fresh or attempt == 2 or not _nothing_read(error):
                    raise
            except BaseException:
                await self.close()
                raise
        raise AssertionError("unreachable")

    def _encode(self, method: str, path: str, headers: Mapping[str, str] | None, body: bytes):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host_header}"]
        if headers:
            lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def _exchange(self, data: bytes, method: str) -> Response:
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        writer.write(data)
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as error:
            raise ProtocolError("the answer's headers are too long") from error
        status, headers = _parse_head(head)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:  # the body ends where the server closes the connection
            body = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close" or head.startswith(b"HTTP/1.0"):
            await self.close()
        return Response(status, headers, body)


def _nothing_read(error: BaseException) -> bool:
    """Whether the server closed before it sent a byte of the answer."""
    if isinstance(error, asyncio.IncompleteReadError):
        return not error.partial
    return isinstance(error, ConnectionResetError | BrokenPipeError)


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    if len(head) > MAX_HEADER_BYTES:
        raise ProtocolError("the answer's headers are too long")
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:100]!r}")
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise ProtocolError(f"not a header line: {line[:100]!r}")
        name, value = name.strip().lower(), value.strip()
        if name in headers:  # cookies may hold commas (Expires): one per line instead
            value = headers[name] + ("\n" if name == "set-cookie" else ", ") + value
        headers[name] = value
    return int(parts[1]), headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as error:
            raise ProtocolError(f"bad chunk size {size_line[:40]!r}") from error
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, ignored
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("a chunk does not end with CRLF")


# --- running many requests ------------------------------------------------------------


@dataclass
class Stats:
    """What a run measured: per kind of request, the latencies (s) of those that
    succeeded and failed alike, and the failures' descriptions; the run's wall time."""

    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        if error is not None:
            self.errors.setdefault(kind, []).append(error)

    @property
    def requests(self) -> int:
        return sum(map(len, self.latencies.values()))

    @property
    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]

    @property
    def all_errors(self) -> list[str]:
        return [value for values in self.errors.values() for value in values]


def accept_2xx(status: int) -> bool:
    return 200 <= status < 300


async def send_all(
    host: str,
    port: int,
    requests: Sequence[Request],
    *,
    connections: int,
    ok: Callable[[int], bool] = accept_2xx,
    kind: Callable[[Request], str] = lambda request: request.path,
    timeout: float = 30.0,
) -> Stats:
    """Send `requests` in order over `connections` keep-alive connections, each taking
    the next one as soon as its last is answered; every request is sent once."""
    stats = Stats()
    position = iter(range(len(requests)))

    async def worker() -> None:
        conn = Connection(host, port, timeout=timeout)
        clock = time.perf_counter
        try:
            for index in position:
                request = requests[index]
                started = clock()
                error = None
                try:
                    response = await conn.request(*request)
                    if not ok(response.status):
                        error = f"{response.status}: {response.body[:200]!r}"
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError) as exc:
                    error = repr(exc)
                stats.record(kind(request), clock() - started, error)
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    stats.seconds = time.perf_counter() - started
    return stats


#: A job does one request on the connection it is given and returns the answer's status
#: (several requests, such as a log-in, belong in the connection's setup instead).
Job = Callable[[Connection, random.Random], Awaitable[int]]


async def run_mix(
    host: str,
    port: int,
    mix: Mapping[str, tuple[float, Job]],
    *,
    connections: int,
    seconds: float,
    setup: Callable[[Connection, int], Awaitable[None]] | None = None,
    ok: Callable[[int], bool] = lambda status: status < 400,
    seed: int = 42,
    timeout: float = 30.0,
) -> Stats:
    """Run jobs picked from `mix` ({kind: (weight, job)}) on `connections` connections
    for `seconds`, timing each under its kind. `setup(conn, n)` runs first on each
    connection n (e.g. to log an agent in) and is not timed."""
    kinds = list(mix)
    weights = [mix[kind][0] for kind in kinds]
    stats = Stats()
    conns = [Connection(host, port, timeout=timeout) for _ in range(connections)]
    if setup is not None:
        await asyncio.gather(*(setup(conn, n) for n, conn in enumerate(conns)))

    async def worker(conn: Connection, rng: random.Random, deadline: float) -> None:
        clock = time.perf_counter
        try:
            while clock() < deadline:
                kind = rng.choices(kinds, weights)[0]
                started = clock()
                error = None
                try:
                    status = await mix[kind][1](conn, rng)
                    if not ok(status):
                        error = f"status {status}"
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError) as exc:
                    error = repr(exc)
                stats.record(kind, clock() - started, error)
        finally:
            await conn.close()

    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(worker(conn, random.Random(seed + n), deadline) for n, conn in enumerate(conns))
    )
    stats.seconds = time.perf_counter() - started
    return stats
