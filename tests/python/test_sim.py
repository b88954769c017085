"""The exchange simulator from Python, with the `websockets` library as an independent client."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import hftx


def _cfg(**sim: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"event_rate": 50000, "depth_levels": 100, "seed": 5,
                            "balances": {"USDT": 1000000, "BTC": 10.5}}
    base.update(sim)
    return {"simulator": base,
            "instruments": [{"symbol": "BTCUSDT", "price_step": "0.01", "qty_step": "0.00000001",
                             "lot_step": "0.00001"}]}


@pytest.fixture()
def sim() -> Iterator[hftx.Simulator]:
    s = hftx.Simulator(_cfg())
    s.start()
    try:
        yield s
    finally:
        s.stop()


def _call(ws: ClientConnection, rid: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    ws.send(json.dumps({"id": rid, "method": method, "params": params}))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        msg = json.loads(ws.recv(timeout=5))
        if msg.get("id") == rid:
            return dict(msg)
    raise AssertionError(f"no answer to {rid}")


def test_streams_are_binance_combined_messages(sim: hftx.Simulator) -> None:
    assert sim.port > 0
    url = sim.market_url() + "?streams=btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade"
    seen: dict[str, int] = {}
    last_u = 0
    with connect(url) as ws:
        for _ in range(2000):
            msg = json.loads(ws.recv(timeout=5))
            stream, data = msg["stream"], msg["data"]
            seen[stream] = seen.get(stream, 0) + 1
            if stream.endswith("@depth@100ms"):
                assert data["e"] == "depthUpdate" and data["s"] == "BTCUSDT"
                if last_u:
                    assert data["U"] == last_u + 1
                last_u = data["u"]
                for price, qty in data["b"] + data["a"]:
                    assert len(price.split(".")[1]) == 2 and len(qty.split(".")[1]) == 8
            elif stream.endswith("@bookTicker"):
                assert data["u"] == last_u and float(data["b"]) < float(data["a"])
            else:
                assert data["e"] == "trade" and isinstance(data["m"], bool)
    assert set(seen) == {"btcusdt@depth@100ms", "btcusdt@bookTicker", "btcusdt@trade"}
    assert sim.stats()["events_sent"] >= 2000


def test_unknown_stream_closes_with_reason(sim: hftx.Simulator) -> None:
    with connect(sim.market_url() + "?streams=dogeusdt@trade") as ws, pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=5)
    assert "unknown stream" in str(info.value)


def test_ws_api_depth_place_cancel_and_errors(sim: hftx.Simulator) -> None:
    sim.pause_market(True)
    with connect(sim.api_url()) as ws:
        depth = _call(ws, "d1", "depth", {"symbol": "BTCUSDT", "limit": 10})
        assert depth["status"] == 200
        result = depth["result"]
        assert len(result["bids"]) == 10 and len(result["asks"]) == 10
        assert result["lastUpdateId"] == sim.top("BTCUSDT")["update_id"]
        best_bid = float(result["bids"][0][0])

        sub = _call(ws, "s1", "userDataStream.subscribe.signature", {"apiKey": "k", "timestamp": 1, "signature": "x"})
        assert sub["result"] == {"subscriptionId": 0}

        price = f"{best_bid - 10:.2f}"
        placed = _call(ws, "p1", "order.place", {
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01000",
            "price": price, "newClientOrderId": "hx1", "newOrderRespType": "ACK", "apiKey": "k",
            "timestamp": 1, "recvWindow": 5000, "signature": "x"})
        assert placed["status"] == 200 and placed["result"]["clientOrderId"] == "hx1"
        report = json.loads(ws.recv(timeout=5))
        assert report["subscriptionId"] == 0 and report["event"]["x"] == "NEW" and report["event"]["c"] == "hx1"
        assert [o["client_id"] for o in sim.orders()] == ["hx1"]
        assert sim.balances(total=True)["USDT"] == "1000000.00000000"
        assert float(sim.balances()["USDT"]) == pytest.approx(1000000 - 0.01 * float(price))

        cancelled = _call(ws, "c1", "order.cancel", {"symbol": "BTCUSDT", "origClientOrderId": "hx1"})
        assert cancelled["result"]["status"] == "CANCELED"
        assert sim.orders() == []

        def err(rid: str, method: str, params: dict[str, Any]) -> int:
            r = _call(ws, rid, method, params)
            assert r["status"] == 400
            return int(r["error"]["code"])

        limit = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": price}
        assert err("e1", "order.place", {**limit, "symbol": "NOPE", "quantity": "1"}) == -1121
        assert err("e2", "order.place", {**limit, "quantity": "0.000001"}) == -1013
        assert err("e3", "order.place", {**limit, "quantity": "100.00000"}) == -2010
        assert err("e4", "order.place", {**limit}) == -1102
        assert err("e5", "order.cancel", {"symbol": "BTCUSDT", "origClientOrderId": "hx1"}) == -2011
        ws.send("{not json")
        bad = json.loads(ws.recv(timeout=5))
        assert bad["status"] == 400 and bad["error"]["code"] == -1000
    stats = sim.stats()
    assert stats["orders"] == 1 and stats["cancels"] == 1
    assert stats["rejects"] == 6 and stats["rejects_2011"] == 1


def test_config_errors_name_the_key() -> None:
    with pytest.raises(hftx.ConfigError, match=r"simulator\.port"):
        hftx.Simulator(_cfg(port=70000))
    with pytest.raises(hftx.ConfigError, match=r"simulator\.mode"):
        hftx.Simulator(_cfg(mode="dreamed"))
    with pytest.raises(hftx.ConfigError, match=r"simulator\.event_rate"):
        hftx.Simulator(_cfg(event_rate="fast"))


def test_drop_connections_and_skip_sequence(sim: hftx.Simulator) -> None:
    with connect(sim.market_url() + "?streams=btcusdt@depth") as ws:
        last_u = json.loads(ws.recv(timeout=5))["data"]["u"]
        sim.skip_sequence("BTCUSDT")
        gaps = 0
        for _ in range(200):
            d = json.loads(ws.recv(timeout=5))["data"]
            gaps += d["U"] != last_u + 1
            last_u = d["u"]
        assert gaps == 1
        sim.drop_connections()
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=5)


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "started_with_sigint_ignored"])
def test_cli_sim_prints_urls_and_exits_0_on_sigint(sigint_ignored: bool) -> None:
    """With sigint_ignored, hftx sim starts the way a script's background job does (``hftx sim &``): ``trap ''
    INT`` ignores SIGINT and exec keeps it ignored. ``kill -INT`` must stop it all the same."""
    cmd = [sys.executable, "-m", "hftx", "sim", "--rate", "1000"]
    if sigint_ignored:
        cmd = ["sh", "-c", "trap '' INT; exec " + shlex.join(cmd)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert first.startswith("market  ws://127.0.0.1:") and "/stream?streams=btcusdt@depth@100ms" in first
            api = proc.stdout.readline()
            assert api.startswith("api     ws://127.0.0.1:") and api.rstrip().endswith("/ws-api/v3")
            with connect(first.split()[1]) as ws:
                assert json.loads(ws.recv(timeout=5))["stream"].startswith("btcusdt@")
            stats_line = proc.stdout.readline()
            assert stats_line.startswith("events/s")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_cli_sim_port_in_use_fails_clearly(sim: hftx.Simulator) -> None:
    out = subprocess.run([sys.executable, "-m", "hftx", "sim", "--port", str(sim.port), "--duration", "1"],
                         capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 3
    assert "port in use" in out.stderr
