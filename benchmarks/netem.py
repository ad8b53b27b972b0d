"""A loopback proxy that makes websocket connections look remote: delay and bandwidth.

Chrome's network emulation (CDP ``Network.emulateNetworkConditions``) does not delay websocket
frames: with ``latency`` 100 ms a seed edit took as long as without (measured with
bench_browser.py's timeline, 2026-11). So the remote case puts this proxy between Chromium and
Jupyter Server instead. Connections whose first request is a websocket upgrade (the kernel
channels) get ``latency_ms`` in each direction and a link of ``mbit`` Mbit/s each way (a chunk
waits for the link, is sent at that rate, then travels ``latency_ms``); other connections (the
page and its assets) are passed through untouched. Loopback only; stopped with the benchmark.

With ``log`` (a list), every websocket frame of those connections is recorded as it passes:
``(first byte, last byte, direction, size, kind)``, times from ``time.time()`` (the page's
``performance.timeOrigin + performance.now()`` is on the same clock), direction "up" (page to
server) or "down", kind as :func:`wire.describe` names a kernel message. With ``latency_ms=0``
and ``mbit=None`` nothing is delayed: a tap that sees when bytes really cross, independent of
the browser's main thread (CDP stamps websocket frames when the renderer handles them).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from wire import describe


class DelayProxy:
    """``DelayProxy(target_port, latency_ms=25, mbit=10)``; ``.port`` to connect to."""

    def __init__(self, target_port: int, latency_ms: float = 25.0, mbit: float | None = 10.0,
                 log: list | None = None):
        self.target_port = target_port
        self.latency = latency_ms / 1000
        self.rate = mbit * 1e6 / 8 if mbit else float("inf")  # bytes per second
        self.log = log
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the delay proxy did not start")

    def _run(self):
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, client_r, client_w):
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        try:
            for w in (client_w, server_w):
                w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            first = await client_r.read(65536)
            shaped = b"upgrade: websocket" in first.lower()
            tap = shaped and self.log is not None
            await asyncio.gather(
                self._pipe(client_r, server_w, shaped, first,
                           _Frames("up", self.log) if tap else None),
                self._pipe(server_r, client_w, shaped, b"",
                           _Frames("down", self.log) if tap else None))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for w in (client_w, server_w):
                w.close()

    async def _pipe(self, reader, writer, shaped, first, frames=None):
        queue: asyncio.Queue = asyncio.Queue()
        link_free = 0.0

        async def deliver():
            while (item := await queue.get())[1] is not None:
                at, chunk = item
                if (delay := at - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        try:
            chunk = first or await reader.read(65536)
            while chunk:
                if frames is not None:
                    frames.feed(chunk, time.time())
                at = 0.0
                if shaped:
                    start = max(time.monotonic(), link_free)
                    link_free = start + len(chunk) / self.rate
                    at = link_free + self.latency
                queue.put_nowait((at, chunk))
                chunk = await reader.read(65536)
            queue.put_nowait((0.0, None))
            await sender
            if writer.can_write_eof():  # pass the end of this direction on
                writer.write_eof()
        finally:
            sender.cancel()

    def close(self):
        async def stop():
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), self._loop)
        self._thread.join(5)


class _Frames:
    """Splits one direction of a websocket connection into frames and logs each one."""

    def __init__(self, direction: str, log: list):
        self.direction = direction
        self.log = log
        self.buf = bytearray()
        self.headers_done = False  # the HTTP upgrade request or response comes first
        self.first: float | None = None

    def feed(self, data: bytes, t: float) -> None:
        if self.first is None:
            self.first = t
        self.buf += data
        if not self.headers_done:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            del self.buf[:end + 4]
            self.headers_done = True
        while (frame := self._take()) is not None:
            opcode, payload = frame
            kind = describe(payload) if opcode in (1, 2) else f"opcode {opcode}"
            self.log.append((self.first, t, self.direction, len(payload), kind))
            self.first = t if self.buf else None

    def _take(self):
        b = self.buf
        if len(b) < 2:
            return None
        opcode, masked, n, i = b[0] & 0x0F, b[1] & 0x80, b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, i = int.from_bytes(b[2:4], "big"), 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, i = int.from_bytes(b[2:10], "big"), 10
        key = bytes(b[i:i + 4]) if masked else b""
        i += len(key)
        if len(b) < i + n:
            return None
        payload = bytes(b[i:i + n])
        del b[:i + n]
        if key:  # page-to-server frames are masked; only small ones need reading
            head = payload[:4096]
            payload = bytes(c ^ key[j % 4] for j, c in enumerate(head)) + payload[4096:]
        return opcode, payload
