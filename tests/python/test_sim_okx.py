"""The simulator's OKX dialect from Python, with the `websockets` library as an independent client: the book
checksum and the seqId chain are checked by a Python model of OKX's rule, logins are signed with `hmac`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import hftx

KEY, SECRET, PASSPHRASE = "okx-test-key", "okx-test-secret", "okx-pass"


def _cfg(**sim: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"venue": "okx", "event_rate": 20000, "depth_levels": 100, "seed": 5,
                            "balances": {"USDT": 1000000, "BTC": 10.5},
                            "api_key": KEY, "api_secret": SECRET, "api_passphrase": PASSPHRASE}
    base.update(sim)
    return {"simulator": base,
            "instruments": [{"symbol": "BTC-USDT", "price_step": "0.01", "qty_step": "0.00000001",
                             "lot_step": "0.00001"}]}


@pytest.fixture()
def sim() -> Iterator[hftx.Simulator]:
    s = hftx.Simulator(_cfg())
    s.start()
    try:
        yield s
    finally:
        s.stop()


def _checksum(bids: dict[float, tuple[str, str]], asks: dict[float, tuple[str, str]]) -> int:
    """OKX's rule: the top 25 of each side interleaved, price:size as sent, CRC32 as a signed 32-bit integer."""
    b = [bids[k] for k in sorted(bids, reverse=True)[:25]]
    a = [asks[k] for k in sorted(asks)[:25]]
    parts: list[str] = []
    for i in range(max(len(b), len(a))):
        if i < len(b):
            parts += list(b[i])
        if i < len(a):
            parts += list(a[i])
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _apply(side: dict[float, tuple[str, str]], levels: list[list[str]]) -> None:
    for px, sz, zero, orders in levels:
        assert zero == "0" and int(orders) >= (1 if float(sz) > 0 else 0)
        if float(sz) == 0:
            side.pop(float(px), None)
        else:
            side[float(px)] = (px, sz)


def _sign(ts: str, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), f"{ts}GET/users/self/verify".encode(),
                                     hashlib.sha256).digest()).decode()


def _login(ws: ClientConnection, key: str = KEY, passphrase: str = PASSPHRASE, secret: str = SECRET) -> dict[str, Any]:
    ts = str(int(time.time()))
    ws.send(json.dumps({"op": "login", "args": [{"apiKey": key, "passphrase": passphrase, "timestamp": ts,
                                                 "sign": _sign(ts, secret)}]}))
    return dict(json.loads(ws.recv(timeout=5)))


def _op(ws: ClientConnection, rid: str, op: str, args: list[dict[str, Any]],
        pushes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    ws.send(json.dumps({"id": rid, "op": op, "args": args}))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        msg = json.loads(ws.recv(timeout=5))
        if msg.get("id") == rid and "op" in msg:
            return dict(msg)
        if pushes is not None and msg.get("arg", {}).get("channel") == "orders":
            pushes += msg["data"]
    raise AssertionError(f"no answer to {rid}")


def _pushes(ws: ClientConnection, n: int, into: list[dict[str, Any]]) -> list[dict[str, Any]]:
    while len(into) < n:
        msg = json.loads(ws.recv(timeout=5))
        assert msg["arg"]["channel"] == "orders", msg
        into += msg["data"]
    return into


def test_books_l2_tbt_checksums_and_seq_chain(sim: hftx.Simulator) -> None:
    assert sim.market_url().endswith("/ws/v5/public") and sim.api_url().endswith("/ws/v5/private")
    bids: dict[float, tuple[str, str]] = {}
    asks: dict[float, tuple[str, str]] = {}
    seq = None
    checked = trades = 0
    with connect(sim.market_url()) as ws:
        ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "books-l2-tbt", "instId": "BTC-USDT"},
                                                        {"channel": "trades", "instId": "BTC-USDT"}]}))
        answers: list[dict[str, Any]] = []
        while checked < 2000:
            msg = json.loads(ws.recv(timeout=5))
            if "event" in msg:  # the books-l2-tbt snapshot may come before the second answer
                answers.append(msg)
                continue
            if msg["arg"]["channel"] == "trades":
                t = msg["data"][0]
                assert t["side"] in ("buy", "sell") and float(t["sz"]) > 0 and t["instId"] == "BTC-USDT"
                trades += 1
                continue
            d = msg["data"][0]
            if msg["action"] == "snapshot":
                assert seq is None and d["prevSeqId"] == -1
                bids.clear()
                asks.clear()
            else:
                assert d["prevSeqId"] == seq, (d["prevSeqId"], seq)
            _apply(bids, d["bids"])
            _apply(asks, d["asks"])
            for px, sz in list(bids.values()) + list(asks.values()):
                assert not (("." in px and px.endswith("0")) or ("." in sz and sz.endswith("0")))  # shortest decimals
            assert _checksum(bids, asks) == d["checksum"]
            assert max(bids) < min(asks)
            assert len(bids) <= 400 and len(asks) <= 400
            seq = d["seqId"]
            checked += 1
        assert [a["event"] for a in answers] == ["subscribe", "subscribe"]
        assert answers[0]["arg"] == {"channel": "books-l2-tbt", "instId": "BTC-USDT"} and answers[0]["connId"]
        ws.send("ping")
        while (m := ws.recv(timeout=5)) != "pong":
            assert isinstance(m, str) and m.startswith("{")
    assert trades > 0
    assert sim.stats()["events_sent"] >= checked


def test_subscribe_errors(sim: hftx.Simulator) -> None:
    with connect(sim.market_url()) as ws:
        ws.send(json.dumps({"id": "s1", "op": "subscribe", "args": [{"channel": "books", "instId": "DOGE-USDT"}]}))
        err = json.loads(ws.recv(timeout=5))
        assert err["event"] == "error" and err["code"] == "60018" and err["id"] == "s1"
        ws.send("{not json")
        assert json.loads(ws.recv(timeout=5))["code"] == "60012"
    with pytest.raises(ConnectionClosed) as info, \
            connect(sim.market_url().replace("/ws/v5/public", "/ws/v5/nope")) as ws:
        ws.recv(timeout=5)
    assert "unknown path" in str(info.value)


def test_login_orders_and_trade_ops(sim: hftx.Simulator) -> None:
    sim.pause_market(True)
    top = sim.top("BTC-USDT")
    low = f"{(top['bid_price'] - 1000) / 100:.2f}"
    pushes: list[dict[str, Any]] = []
    with connect(sim.api_url()) as ws:
        # Before login, and with a bad signature, a wrong passphrase or an unknown key: refused.
        order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "0.01", "px": low,
                 "clOrdId": "hx1"}
        assert _op(ws, "p0", "order", [order])["code"] == "60011"
        assert _login(ws, secret="wrong")["code"] == "60007"
        assert _login(ws, passphrase="wrong")["code"] == "60024"
        assert _login(ws, key="other")["code"] == "60005"
        ok = _login(ws)
        assert ok["event"] == "login" and ok["code"] == "0"
        ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]}))
        assert json.loads(ws.recv(timeout=5))["event"] == "subscribe"

        placed = _op(ws, "p1", "order", [order])
        assert placed["code"] == "0" and placed["data"][0]["sCode"] == "0" and placed["data"][0]["clOrdId"] == "hx1"
        ord_id = placed["data"][0]["ordId"]
        _pushes(ws, 1, pushes)
        assert pushes[0]["state"] == "live" and pushes[0]["ordId"] == ord_id and pushes[0]["px"] == low.rstrip("0")
        assert [o["client_id"] for o in sim.orders()] == ["hx1"]
        assert sim.balances(total=True)["USDT"] == "1000000.00000000"
        assert float(sim.balances()["USDT"]) == pytest.approx(1000000 - 0.01 * float(low))

        amended = _op(ws, "m1", "amend-order", [{"instId": "BTC-USDT", "ordId": ord_id, "newSz": "0.02",
                                                 "reqId": "r1"}], pushes)
        assert amended["code"] == "0" and amended["data"][0]["reqId"] == "r1"
        _pushes(ws, 2, pushes)
        assert pushes[1]["amendResult"] == "0" and pushes[1]["sz"] == "0.02"

        cancelled = _op(ws, "c1", "cancel-order", [{"instId": "BTC-USDT", "clOrdId": "hx1"}], pushes)
        assert cancelled["code"] == "0"
        _pushes(ws, 3, pushes)
        assert pushes[2]["state"] == "canceled" and pushes[2]["cancelSource"] == "1"
        assert sim.orders() == []
        again = _op(ws, "c2", "cancel-order", [{"instId": "BTC-USDT", "clOrdId": "hx1"}], pushes)
        assert again["code"] == "1" and again["data"][0]["sCode"] == "51401"

        # A sell at the best bid fills at once (taker).
        bid = f"{top['bid_price'] / 100:.2f}"
        sold = _op(ws, "p2", "order", [{"instId": "BTC-USDT", "tdMode": "cash", "side": "sell", "ordType": "limit",
                                        "sz": "0.00001", "px": bid, "clOrdId": "hx2"}], pushes)
        assert sold["code"] == "0"
        _pushes(ws, 5, pushes)
        assert [p["state"] for p in pushes[3:5]] == ["live", "filled"]
        assert pushes[4]["execType"] == "T" and float(pushes[4]["fillPx"]) == float(bid)
        assert pushes[4]["accFillSz"] == "0.00001" and pushes[4]["tradeId"]

        # A batch with one bad element: code 2, each element its sCode.
        batch = _op(ws, "b1", "batch-orders", [
            {**order, "clOrdId": "b1"}, {**order, "clOrdId": "b2", "sz": "0.000001"},
            {**order, "clOrdId": "b3", "instId": "ETH-USDT"}], pushes)
        assert batch["code"] == "2"
        assert [d["sCode"] for d in batch["data"]] == ["0", "51121", "51001"]
        assert _op(ws, "c3", "cancel-order", [{"instId": "BTC-USDT", "ordId": "424242"}])["data"][0]["sCode"] == "51603"
        assert _op(ws, "p3", "order", [{**order, "clOrdId": "b1"}])["data"][0]["sCode"] == "51016"
        assert _op(ws, "p4", "order", [{**order, "clOrdId": "big", "sz": "100"}])["data"][0]["sCode"] == "51008"
    stats = sim.stats()
    assert stats["orders"] == 3 and stats["cancels"] == 1 and stats["amends"] == 1 and stats["logons"] == 1
    assert stats["rejects_51008"] == 1 and stats["rejects_51603"] == 1 and stats["rejects_60007"] == 1


def test_config_errors_name_the_key() -> None:
    with pytest.raises(hftx.ConfigError, match=r"simulator\.venue"):
        hftx.Simulator(_cfg(venue="kraken"))
    bad = _cfg()
    bad["instruments"][0]["symbol"] = "BTCUSDT"
    with pytest.raises(hftx.ConfigError, match=r"instruments\[0\]\.symbol"):
        hftx.Simulator(bad)
    with pytest.raises(hftx.ConfigError, match=r"simulator\.api_secret"):
        hftx.Simulator(_cfg(api_secret=""))


def test_cli_sim_okx_serves_and_exits_0_on_sigint() -> None:
    cmd = [sys.executable, "-m", "hftx", "sim", "--venue", "okx", "--rate", "1000"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            market = proc.stdout.readline()
            assert market.startswith("market  ws://127.0.0.1:") and market.rstrip().endswith("/ws/v5/public")
            api = proc.stdout.readline()
            assert api.startswith("api     ws://127.0.0.1:") and api.rstrip().endswith("/ws/v5/private")
            with connect(market.split()[1]) as ws:
                ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "books5", "instId": "BTC-USDT"}]}))
                assert json.loads(ws.recv(timeout=5))["event"] == "subscribe"
                top = json.loads(ws.recv(timeout=5))
                assert top["arg"]["channel"] == "books5" and len(top["data"][0]["bids"]) == 5
            with connect(api.split()[1]) as ws:  # no API key configured: any login is accepted
                ws.send(json.dumps({"op": "login", "args": [{"apiKey": "a", "passphrase": "b", "timestamp": "1",
                                                             "sign": "c"}]}))
                assert json.loads(ws.recv(timeout=5))["code"] == "0"
            assert proc.stdout.readline().startswith("events/s")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
