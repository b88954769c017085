"""hftx's WebSocket client and server against real peers on loopback: the `websockets` and `picows` packages.

Every wait is bounded (recv timeouts, asyncio.wait_for, thread joins with timeouts) so a regression fails
instead of hanging CI. Traffic never leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import picows
import pytest
import websockets
from websockets.asyncio.server import ServerConnection, serve

import hftx

SIZES = [0, 1, 125, 126, 65535, 65536, 16 << 20]
Handler = Callable[[ServerConnection], Awaitable[None]]


class _LoopThread:
    """An asyncio loop on a thread, for running peers while the test thread drives hftx."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[Any], timeout: float = 20.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[_LoopThread]:
    lt = _LoopThread()
    yield lt
    lt.close()


@contextlib.contextmanager
def websockets_server(loop: _LoopThread, handler: Handler, port: int = 0,
                      ssl_context: ssl.SSLContext | None = None) -> Iterator[int]:
    async def start() -> Any:
        # close_timeout: when the test stops the server, an idle hftx client is not polling to answer the
        # close frame, so don't wait websockets' default 10 s for it.
        return await serve(handler, "127.0.0.1", port, max_size=None, ssl=ssl_context, compression=None,
                           close_timeout=0.5)

    server = loop.run(start())
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        loop.run(server.wait_closed())


async def echo(ws: ServerConnection) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for msg in ws:
            await ws.send(msg)


def connect(port: int, **kw: Any) -> hftx.WsClient:
    c = hftx.WsClient(f"ws://127.0.0.1:{port}/path?q=1", connect_timeout=5.0, **kw)
    c.connect()
    return c


# ---- hftx client vs websockets server -----------------------------------------------------------------

def test_client_echo_all_sizes(loop: _LoopThread) -> None:
    with websockets_server(loop, echo) as port:
        c = connect(port)
        for n in SIZES:
            text = "".join(chr(97 + i % 26) for i in range(min(n, 4096))) * (n // 4096 + 1)
            text = text[:n]
            c.send(text)
            assert c.recv(timeout=10) == text
            data = bytes(range(256)) * (n // 256 + 1)
            c.send(data[:n])
            assert c.recv(timeout=10) == data[:n]
        c.close()
        assert c.close_info == {"code": 1000, "reason": "", "clean": True, "by_peer": False, "error": ""}


def test_client_gets_fragments_and_answers_server_pings(loop: _LoopThread) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send(["frag-1 ", "frag-2 ", "h\u00e9llo"])  # one message in three frames
        await ws.send([b"\x00\x01", b"\x02"])
        pong = await ws.ping(b"server-ping")
        await asyncio.wait_for(pong, 5)  # resolves only on an identical pong
        await ws.send("pong-ok")
        await ws.wait_closed()

    with websockets_server(loop, handler) as port:
        c = connect(port)
        assert c.recv(timeout=5) == "frag-1 frag-2 h\u00e9llo"
        assert c.recv(timeout=5) == b"\x00\x01\x02"
        assert c.recv(timeout=5) == "pong-ok"
        assert c.stats()["pings_received"] == 1
        c.close()


def test_client_pings_and_gets_pong(loop: _LoopThread) -> None:
    with websockets_server(loop, echo) as port:
        c = connect(port)
        c.ping(b"client-ping")
        c.send("after")
        assert c.recv(timeout=5) == "after"
        assert c.stats()["pongs_received"] == 1
        c.close()


def test_close_paths(loop: _LoopThread) -> None:
    seen: list[int | None] = []

    async def closes_1001(ws: ServerConnection) -> None:
        await ws.send("bye soon")
        await ws.close(1001, "going away")

    async def records(ws: ServerConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.recv()
        seen.append(ws.close_code)

    async def drops(ws: ServerConnection) -> None:
        ws.transport.abort()  # no close frame at all

    with websockets_server(loop, closes_1001) as port:
        c = connect(port)
        assert c.recv(timeout=5) == "bye soon"
        with pytest.raises(hftx.ConnectionClosedError) as exc:
            c.recv(timeout=5)
        assert (exc.value.code, exc.value.reason, exc.value.clean) == (1001, "going away", True)
        assert c.close_info is not None and c.close_info["by_peer"]
    with websockets_server(loop, records) as port:
        c = connect(port)
        c.close(4001, "client done")
        assert c.close_info is not None and c.close_info["clean"]
        for _ in range(100):
            if seen:
                break
            threading.Event().wait(0.02)
        assert seen == [4001]
    with websockets_server(loop, drops) as port:
        c = connect(port)
        with pytest.raises(hftx.ConnectionClosedError) as exc:
            c.recv(timeout=5)
        assert exc.value.code == 1006
        assert not exc.value.clean


def test_non_101_answer_carries_status_and_body(loop: _LoopThread) -> None:
    async def start() -> Any:
        async def deny(conn: ServerConnection, request: Any) -> Any:
            return conn.respond(403, "not for you\n")

        return await serve(echo, "127.0.0.1", 0, process_request=deny)

    server = loop.run(start())
    port = server.sockets[0].getsockname()[1]
    try:
        c = hftx.WsClient(f"ws://127.0.0.1:{port}/", connect_timeout=5.0)
        with pytest.raises(hftx.HandshakeError) as exc:
            c.connect()
        assert exc.value.status == 403
        assert exc.value.body == "not for you\n"
        assert "403" in str(exc.value)
    finally:
        server.close()
        loop.run(server.wait_closed())


def test_extra_headers_and_subprotocol(loop: _LoopThread) -> None:
    got: dict[str, Any] = {}

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        got["path"] = ws.request.path
        got["token"] = ws.request.headers.get("X-Token")
        await ws.send(ws.subprotocol or "")
        await ws.wait_closed()

    async def start() -> Any:
        return await serve(handler, "127.0.0.1", 0, subprotocols=["v2"])  # type: ignore[list-item]

    server = loop.run(start())
    port = server.sockets[0].getsockname()[1]
    try:
        c = connect(port, headers=[("X-Token", "abc")], subprotocols=["v1", "v2"])
        assert c.recv(timeout=5) == "v2"
        assert c.subprotocol == "v2"
        assert got == {"path": "/path?q=1", "token": "abc"}
        c.close()
    finally:
        server.close()
        loop.run(server.wait_closed())


def test_reconnects_after_server_restart(loop: _LoopThread) -> None:
    async def greet(ws: ServerConnection) -> None:
        await ws.send("hello")
        await ws.wait_closed()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with websockets_server(loop, greet, port=port):
        c = hftx.WsClient(f"ws://127.0.0.1:{port}/", connect_timeout=2.0, reconnect=True)
        c.connect()
        assert c.recv(timeout=5) == "hello"
    # The server is gone; the client backs off and retries until a new one listens on the port.
    assert c.recv(timeout=0.3) is None
    with websockets_server(loop, greet, port=port):
        assert c.recv(timeout=10) == "hello"
        assert c.reconnects == 1
        c.close()


# ---- TLS ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def test_tls_refused_by_default_then_accepted_with_ca(loop: _LoopThread, self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with websockets_server(loop, echo, ssl_context=ctx) as port:
        c = hftx.WsClient(f"wss://localhost:{port}/", connect_timeout=5.0)
        with pytest.raises(hftx.TlsError, match=r"certificate verification failed.*self.signed"):
            c.connect()
        for host in ("localhost", "127.0.0.1"):
            c = hftx.WsClient(f"wss://{host}:{port}/", connect_timeout=5.0, ca_file=str(cert))
            c.connect()
            c.send("over tls " + "x" * 70000)
            assert c.recv(timeout=5) == "over tls " + "x" * 70000
            c.close()
        # The right CA but the wrong name is refused too.
        ctx2 = hftx.WsClient(f"wss://127.0.0.2:{port}/", connect_timeout=5.0, ca_file=str(cert))
        with pytest.raises(hftx.ConnectionError):
            ctx2.connect()


def test_hftx_tls_server(loop: _LoopThread, self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    with hftx_server(cert_file=str(cert), key_file=str(key)) as server:
        c = hftx.WsClient(f"wss://localhost:{server.port}/", connect_timeout=5.0, ca_file=str(cert))
        c.connect()
        c.send(b"binary over tls")
        assert c.recv(timeout=5) == b"binary over tls"
        c.close()


# ---- hftx server vs websockets and picows clients --------------------------------------------------------

@contextlib.contextmanager
def hftx_server(**kw: Any) -> Iterator[hftx.WsServer]:
    server = hftx.WsServer("127.0.0.1", 0, **kw)
    t = threading.Thread(target=server.run, args=(30.0,), daemon=True)
    t.start()
    try:
        yield server
    finally:
        server.stop()
        t.join(10)
        assert not t.is_alive()


def test_server_with_websockets_client(loop: _LoopThread) -> None:
    async def client(port: int) -> list[Any]:
        out: list[Any] = []
        async with websockets.connect(f"ws://127.0.0.1:{port}/x", max_size=None, compression=None) as ws:
            for n in SIZES:
                await ws.send("t" * n)
                out.append(len(await asyncio.wait_for(ws.recv(), 10)))
                await ws.send(b"\xfe" * n)
                out.append(await asyncio.wait_for(ws.recv(), 10) == b"\xfe" * n)
            await ws.send(["fr", "ag", "mented"])
            out.append(await asyncio.wait_for(ws.recv(), 5))
            pong = await ws.ping(b"are you there")
            out.append(await asyncio.wait_for(pong, 5) is not None)
            await ws.close(1000, "done")
            out.append(ws.close_code)
        return out

    with hftx_server() as server:
        out = loop.run(client(server.port), timeout=60)
        expected: list[Any] = []
        for n in SIZES:
            expected += [n, True]
        assert out == [*expected, "fragmented", True, 1000]
        assert server.messages == 2 * len(SIZES) + 1


def test_server_with_picows_client(loop: _LoopThread) -> None:
    async def client(port: int) -> list[Any]:
        got: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()

        class Listener(picows.WSListener):
            def on_ws_frame(self, transport: Any, frame: Any) -> None:
                got.put_nowait((int(frame.msg_type), frame.get_payload_as_bytes()))

        transport, _ = await picows.ws_connect(Listener, f"ws://127.0.0.1:{port}/", max_frame_size=32 << 20)
        out: list[Any] = []
        for n in SIZES:
            transport.send(picows.WSMsgType.BINARY, b"\x07" * n)
            kind, payload = await asyncio.wait_for(got.get(), 10)
            out.append((kind == int(picows.WSMsgType.BINARY), payload == b"\x07" * n))
        transport.send(picows.WSMsgType.TEXT, "h\u00e9".encode())
        out.append(await asyncio.wait_for(got.get(), 5))
        transport.send_ping(b"pp")
        out.append(await asyncio.wait_for(got.get(), 5))
        transport.send_close(picows.WSCloseCode.OK)
        kind, payload = await asyncio.wait_for(got.get(), 5)
        out.append(kind == int(picows.WSMsgType.CLOSE))
        await asyncio.wait_for(transport.wait_disconnected(), 5)
        return out

    with hftx_server() as server:
        out = loop.run(client(server.port), timeout=60)
        assert out[: len(SIZES)] == [(True, True)] * len(SIZES)
        assert out[len(SIZES)] == (int(picows.WSMsgType.TEXT), "h\u00e9".encode())
        assert out[len(SIZES) + 1] == (int(picows.WSMsgType.PONG), b"pp")
        assert out[-1] is True


def test_server_broadcast_and_close_all(loop: _LoopThread) -> None:
    async def clients(port: int, server: hftx.WsServer) -> list[Any]:
        conns = [await websockets.connect(f"ws://127.0.0.1:{port}/") for _ in range(5)]
        for _ in range(200):
            if server.connections == 5:
                break
            await asyncio.sleep(0.01)
        server.broadcast("tick")
        got = [await asyncio.wait_for(c.recv(), 5) for c in conns]
        server.close_all(1001, "restart")
        for c in conns:
            await asyncio.wait_for(c.wait_closed(), 5)
        return [*got, [c.close_code for c in conns]]

    with hftx_server(echo=False) as server:
        out = loop.run(clients(server.port, server), timeout=30)
        assert out == ["tick"] * 5 + [[1001] * 5]


# ---- CLI --------------------------------------------------------------------------------------------------

def _hftx(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hftx", *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def test_cli_client_send_and_exit_status(loop: _LoopThread) -> None:
    async def closes_4000(ws: ServerConnection) -> None:
        await ws.send(await ws.recv())
        await ws.close(4000, "custom")

    with websockets_server(loop, echo) as port:
        r = _hftx("ws", f"ws://127.0.0.1:{port}/", "--send", "hello", "--send", "world", "--count", "2")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == ["hello", "world"]
    with websockets_server(loop, closes_4000) as port:
        r = _hftx("ws", f"ws://127.0.0.1:{port}/", "--send", "x")
        assert r.returncode == 1
        assert "4000" in r.stderr
    r = _hftx("ws", "ws://127.0.0.1:1/")
    assert r.returncode == 2
    assert "refused" in r.stderr.lower()


def test_cli_listen_echo(loop: _LoopThread) -> None:
    with subprocess.Popen([sys.executable, "-m", "hftx", "ws", "--listen", "127.0.0.1:0", "--echo", "--duration", "20"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("listening on ws://127.0.0.1:")
            port = int(line.rsplit(":", 1)[1])

            async def client() -> Any:
                async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
                    await ws.send("ping me")
                    return await asyncio.wait_for(ws.recv(), 5)

            assert loop.run(client()) == "ping me"
            # The hftx client in --echo mode against the hftx server: both sides echo; --count stops it.
            r = _hftx("ws", f"ws://127.0.0.1:{port}/", "--send", "loop", "--echo", "--count", "3")
            assert r.returncode == 0, r.stderr
            assert r.stdout.splitlines() == ["loop"] * 3
        finally:
            proc.terminate()
            proc.wait(10)


def test_cli_exit_status_on_protocol_violation() -> None:
    """A raw peer answers the handshake, then sends a text frame with invalid UTF-8: exit 3, code 1007."""
    import base64
    import hashlib

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def peer() -> None:
        listener.settimeout(20)
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(20)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + b"\x81\x02\xc0\xaf")
            with contextlib.suppress(OSError):
                while conn.recv(4096):
                    pass

    t = threading.Thread(target=peer, daemon=True)
    t.start()
    try:
        r = _hftx("ws", f"ws://127.0.0.1:{port}/")
        assert r.returncode == 3, r.stderr
        assert "1007" in r.stderr
    finally:
        t.join(10)
        listener.close()
