"""Plaza's event stream (GET /api/v1/events) held open by many people at once, cheaply.

`Receivers` opens one raw asyncio socket per stream (HTTP/1.1, chunked transfer), so a single
process can hold a thousand of them; a real browser's EventSource would cost far more than the
server it measures. It records when each message of the benchmark (`message_body(seq)`)
arrives on each stream. Used by chat_fanout.py.
"""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import urlsplit

SEQ = re.compile(r'"body":"fan-out (\d+)"')


def message_body(seq: int) -> str:
    """The text of benchmark message number `seq`, as Receivers recognises it."""
    return f"fan-out {seq}"


class Receivers:
    """Event streams on raw asyncio sockets (HTTP/1.1, chunked), recording message receipts."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.arrivals: dict[int, list[float]] = {}  # seq -> monotonic arrival time per stream
        self.opened = 0
        self.tasks: list[asyncio.Task] = []

    async def open(self, tokens: list[str]) -> None:
        """One more stream per bearer token; returns once all of them answered 200."""
        ready = [asyncio.get_running_loop().create_future() for _ in tokens]
        self.tasks += [
            asyncio.create_task(self._stream(t, r)) for t, r in zip(tokens, ready, strict=True)
        ]
        await asyncio.gather(*ready)

    async def _stream(self, token: str, ready: asyncio.Future) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(
            f"GET /api/v1/events HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Accept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        status = await reader.readline()
        assert b" 200 " in status, status
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        self.opened += 1
        ready.set_result(None)
        pending = b""
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            pending += await reader.readexactly(size)
            await reader.readexactly(2)  # the chunk's CRLF
            *blocks, pending = pending.split(b"\n\n")
            now = time.monotonic()
            for block in blocks:
                found = SEQ.search(block.decode())
                if found and block.startswith(b"id: ") and b"\nevent: message.new\n" in block:
                    self.arrivals.setdefault(int(found.group(1)), []).append(now)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
