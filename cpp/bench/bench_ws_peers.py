#!/usr/bin/env python3
"""The Python WebSocket peers (picows, websockets) in bench_ws's cases, against the same Boost.Beast server.

Speaks Google Benchmark's command line and JSON output (hftx.bench.script_main), so `hftx bench` runs it like the C++
programs and merges its results into the same cases:
  ws_rtt_<64|256|8k>_blocking/<picows|websockets>   one message in flight, p50 round trip (figure_p50)
  ws_stream_200/<picows|websockets>                 200-byte frames pushed by the server, messages/s
The server is `bench_ws --serve` (the program next to this one), so every client talks to one server.
A peer that is not installed is simply not listed. Loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hftx.bench import script_main

SIZES = {"64": 64, "256": 256, "8k": 8192}
STREAM_BATCH = 100_000


def _available() -> list[str]:
    impls = []
    for mod in ("picows", "websockets"):
        try:
            __import__(mod)
            impls.append(mod)
        except ImportError:
            pass
    return impls


def _names() -> list[str]:
    names = []
    impls = _available()
    for label in SIZES:
        names += [f"ws_rtt_{label}_blocking/{impl}" for impl in impls]
    names += [f"ws_stream_200/{impl}" for impl in impls]
    return names


class _Client:
    """One connection with `send(bytes|str)` and `await next()` for either library."""

    async def open(self, impl: str, url: str) -> None:
        self.impl = impl
        if impl == "websockets":
            import websockets

            self.ws = await websockets.connect(url, max_size=None, compression=None)
        else:
            import picows

            queue: asyncio.Queue[bytes] = asyncio.Queue()
            self.queue = queue
            self.picows = picows
            self.count = 0
            self.target = 0
            self.done: asyncio.Future[None] | None = None
            client = self

            class Listener(picows.WSListener):  # type: ignore[misc]
                def on_ws_frame(self, transport: Any, frame: Any) -> None:
                    if client.target:
                        client.count += 1
                        if client.count == client.target and client.done is not None:
                            client.done.set_result(None)
                    else:
                        queue.put_nowait(frame.get_payload_as_bytes())

            self.transport, _ = await picows.ws_connect(Listener, url, max_frame_size=64 << 20)

    def send(self, data: bytes | str) -> None:
        if self.impl == "picows":
            kind = self.picows.WSMsgType.TEXT if isinstance(data, str) else self.picows.WSMsgType.BINARY
            self.transport.send(kind, data.encode() if isinstance(data, str) else data)

    async def roundtrip(self, payload: bytes) -> None:
        if self.impl == "websockets":
            await self.ws.send(payload)
            await self.ws.recv()
        else:
            self.send(payload)
            await self.queue.get()

    async def stream(self, n: int) -> None:
        cmd = f"stream {n}"
        if self.impl == "websockets":
            await self.ws.send(cmd)
            for _ in range(n):
                await self.ws.recv()
        else:
            self.count, self.target = 0, n
            self.done = asyncio.get_running_loop().create_future()
            self.send(cmd)
            await self.done
            self.target = 0

    async def close(self) -> None:
        if self.impl == "websockets":
            await self.ws.close()
        else:
            self.transport.send_close(self.picows.WSCloseCode.OK)
            self.transport.disconnect()


async def _run_one(name: str, url: str, min_time: float) -> dict[str, Any]:
    case, impl = name.split("/")
    client = _Client()
    await client.open(impl, url)
    try:
        if case.startswith("ws_rtt_"):
            payload = b"p" * SIZES[case.split("_")[2]]
            for _ in range(100):
                await client.roundtrip(payload)
            samples: list[int] = []
            start = time.perf_counter_ns()
            while time.perf_counter_ns() - start < min_time * 1e9 or len(samples) < 100:
                t0 = time.perf_counter_ns()
                await client.roundtrip(payload)
                samples.append(time.perf_counter_ns() - t0)
            elapsed = time.perf_counter_ns() - start
            samples.sort()
            at = lambda q: float(samples[int(q * (len(samples) - 1))])  # noqa: E731
            return {"iterations": len(samples), "real_time": elapsed / len(samples),
                    "items_per_second": len(samples) * 1e9 / elapsed, "p50_ns": at(0.5), "p95_ns": at(0.95),
                    "p99_ns": at(0.99), "figure_p50": 1}
        iterations = 0
        start = time.perf_counter_ns()
        while time.perf_counter_ns() - start < min_time * 1e9 or iterations < 1:
            await client.stream(STREAM_BATCH)
            iterations += 1
        elapsed = time.perf_counter_ns() - start
        return {"iterations": iterations, "real_time": elapsed / iterations,
                "items_per_second": iterations * STREAM_BATCH * 1e9 / elapsed}
    finally:
        await client.close()


@contextlib.contextmanager
def _server() -> Iterator[str]:
    """`bench_ws --serve` (the program next to this one): one server for every client; yields its URL."""
    # Same placement as bench_ws's C++ clients: client on CPU 0, the server pins itself to the last CPU.
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {0})
    server_bin = Path(__file__).resolve().parent / "bench_ws"
    server = subprocess.Popen([str(server_bin), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        yield f"ws://127.0.0.1:{int(server.stdout.readline())}/"
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)


def main(argv: list[str]) -> int:
    return script_main(argv, _names(),
                       lambda name, min_time, url: asyncio.run(asyncio.wait_for(_run_one(name, url, min_time), 600)),
                       context=_server)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
