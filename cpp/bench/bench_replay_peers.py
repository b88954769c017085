#!/usr/bin/env python3
"""hftx's book against nautilus_trader's and hftbacktest's on the recorded Binance data, through Python (issue #5):
correctness first, speed second.

Speaks Google Benchmark's command line and JSON output (hftx.bench.script_main), so `hftx bench` runs it like the
C++ programs. One item is one level update applied (a price level of a depthUpdate after the snapshot), the same
count for every impl; the file is spot BTCUSDT 2024-08-08 (snapshot + 3,449 diffs, 124,073 level updates).
  py_replay_e2e/hftx          hftx.replay_lines(lines): the decompressed lines in memory (bytes) -> parse, Binance
                              spot sync, book, bookTicker check, trades (all 41k lines), in C++ behind one call;
                              given the tick and lot, as nautilus is given the instrument's precisions
  py_replay_e2e/hftx_books_only  the same with books_only=True: bookTicker and trade lines skipped by their stream
                              name, unparsed, as the nautilus path below does (the same work)
  py_replay_e2e/nautilus      the same lines -> nautilus_trader's OrderBook by its fastest Python path: depth lines
                              picked by stream name, orjson, the sync rules, OrderBookDelta.from_raw (Cython; the
                              PyO3 constructors measured slower), OrderBookDeltas, OrderBook.apply_deltas; with the
                              snapshot load. Lines that are not depth (bookTicker, trades) are skipped, not parsed.
  py_book_apply/hftx          hftx.OrderBook.apply_diff per diff on pre-converted int64 arrays (Python loop)
  py_book_apply/nautilus      OrderBook.apply_deltas on pre-built OrderBookDeltas (Python loop)
  py_book_apply/hftbacktest   hftbacktest 2.x's HashMapMarketDepthBacktest running pre-converted event arrays to
                              the end (_goto_end, compiled; its local and exchange processors each keep a depth)
The snapshot load is outside the timed region of the apply cases (as in bench_book's book_apply). hftx's C++
apply alone is bench_book's book_apply/hftx.

Before timing, every peer's book is checked against hftx's: the whole final book (every level of both sides,
prices in ticks and quantities in lots) and the best bid/ask (price and quantity) after each applied diff. A
difference ends the script with a non-zero status naming it. A peer that is not installed is not listed; one line
on stderr says how to install it.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hftx
from hftx.bench import script_main

FILE = "binance/spot_btcusdt_20240808.gz"
INSTALL = "pip install nautilus_trader hftbacktest numba orjson"
Book = tuple[list[tuple[int, int]], list[tuple[int, int]]]  # (bids, asks): (price ticks, qty lots), best first
Top = tuple[int, int, int, int]  # best bid ticks, lots, best ask ticks, lots


def _peers() -> dict[str, bool]:
    def have(*mods: str) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in mods)

    return {"nautilus": have("nautilus_trader", "orjson"), "hftbacktest": have("hftbacktest", "numba", "orjson")}


def _names() -> list[str]:
    peers = _peers()
    names = ["py_replay_e2e/hftx", "py_replay_e2e/hftx_books_only"]
    names += ["py_replay_e2e/nautilus"] if peers["nautilus"] else []
    names += ["py_book_apply/hftx"] + (["py_book_apply/nautilus"] if peers["nautilus"] else [])
    names += ["py_book_apply/hftbacktest"] if peers["hftbacktest"] else []
    return names


def _data_path() -> Path:
    """$HFTX_DATA_DIR, else the first shared/data above this script: the checkout's sibling, whether the script
    runs from cpp/bench/ or from a build tree's copy (build/<dir>/cpp/bench/) as `hftx bench` runs it."""
    if "HFTX_DATA_DIR" in os.environ:
        candidates = [Path(os.environ["HFTX_DATA_DIR"]) / FILE]
    else:
        candidates = [d / "shared" / "data" / FILE for d in Path(__file__).resolve().parents]
    for path in candidates:
        if path.exists():
            return path
    where = os.environ.get("HFTX_DATA_DIR", f"any shared/data above {Path(__file__).resolve().parent}")
    sys.exit(f"bench_replay_peers: {FILE} not found in {where} (set HFTX_DATA_DIR to the recorded data directory)")


def _fail(msg: str) -> None:
    sys.exit(f"bench_replay_peers: CORRECTNESS FAILURE: {msg}")


def _first_diff(what: str, ours: list[Any], theirs: list[Any]) -> str | None:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if a != b:
            return f"{what} #{i}: hftx {a} vs peer {b}"
    if len(ours) != len(theirs):
        return f"{what}: hftx has {len(ours)}, peer {len(theirs)}"
    return None


def _check(peer: str, ref: Data, book: Book, tops: list[Top]) -> None:
    for what, ours, theirs in (("bid level", ref.book[0], book[0]), ("ask level", ref.book[1], book[1]),
                               ("best bid/ask after diff", ref.tops, tops)):
        diff = _first_diff(what, ours, theirs)
        if diff:
            _fail(f"{peer}: {diff} (levels as (price ticks, qty lots))")
    print(f"correctness: {peer} == hftx: all {len(book[0])} bid + {len(book[1])} ask levels of the final book, "
          f"best bid/ask after each of {len(tops)} diffs", file=sys.stderr)


# ---- the recorded data and hftx's reference ----------------------------------------------------------------


class Data:
    """The file's lines, its snapshot and applied diffs (Binance spot sync rules), and hftx's book on them."""

    def __init__(self) -> None:
        import json

        self.lines = [ln for ln in gzip.decompress(_data_path().read_bytes()).split(b"\n") if ln]
        self.report = hftx.replay_lines(self.lines)
        r = self.report
        if r["gaps"] or r["ticker_mismatches"] or r["state"] != "synced":
            _fail(f"hftx replay: gaps {r['gaps']}, ticker mismatches {r['ticker_mismatches']}, state {r['state']}")
        self.updates: int = r["level_updates"]
        self.snapshot: dict[str, Any] = {}
        raw_diffs: list[dict[str, Any]] = []
        for ln in self.lines:
            msg = json.loads(ln[ln.index(b" ") + 1:])
            if "lastUpdateId" in msg:
                self.snapshot = msg
            elif msg.get("data", {}).get("e") == "depthUpdate":
                raw_diffs.append(msg["data"])
        last = self.snapshot["lastUpdateId"]
        self.diffs = [d for d in raw_diffs if d["u"] > last]  # drop u <= lastUpdateId
        if not (self.diffs[0]["U"] <= last + 1 <= self.diffs[0]["u"]):
            _fail("the first diff after the snapshot does not contain lastUpdateId + 1")
        for a, b in zip(self.diffs, self.diffs[1:], strict=False):
            if b["U"] != a["u"] + 1:
                _fail(f"gap in the recorded diffs at U={b['U']}")
        n = sum(len(d["b"]) + len(d["a"]) for d in self.diffs)
        if n != self.updates:
            _fail(f"hftx applied {self.updates} level updates, the sync rules give {n}")
        self.price_step, self.qty_step = r["price_step"], r["qty_step"]
        # hftx's book, driven diff by diff from Python (the same C++ book as the replay): the reference.
        ob = hftx.OrderBook(self.price_step, self.qty_step)
        ob.apply_snapshot(self.snapshot["bids"], self.snapshot["asks"], last)
        self.tops: list[Top] = []
        for d in self.diffs:
            ob.apply_diff(d["b"], d["a"], d["u"])
            (bp, bq), (ap, aq) = ob.best_bid(raw=True), ob.best_ask(raw=True)
            self.tops.append((bp, bq, ap, aq))
        bids, asks = ob.depth(ob.bid_count + ob.ask_count, raw=True)
        self.book: Book = ([(int(p), int(q)) for p, q in bids], [(int(p), int(q)) for p, q in asks])
        if (len(bids), len(asks)) != (r["bid_levels"], r["ask_levels"]):
            _fail(f"hftx.OrderBook has {len(bids)}/{len(asks)} levels, hftx.replay_lines {r['bid_levels']}/"
                  f"{r['ask_levels']}")
        for side, top in (("bid", r["best_bid"]), ("ask", r["best_ask"])):
            lv = bids[0] if side == "bid" else asks[0]
            expect = (round(top[0] / float(self.price_step)), round(top[1] / float(self.qty_step)))
            if (int(lv[0]), int(lv[1])) != expect:
                _fail(f"hftx.OrderBook best {side} {lv} differs from hftx.replay_lines {top}")


# ---- nautilus_trader ----------------------------------------------------------------------------------------


class Nautilus:
    """nautilus_trader's L2 book fed the way its Binance adapter does, with raw fixed-point constructors."""

    def __init__(self, data: Data) -> None:
        import orjson
        from nautilus_trader.model.book import OrderBook
        from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas
        from nautilus_trader.model.enums import BookAction, BookType, OrderSide
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.objects import FIXED_PRECISION

        self.loads = orjson.loads
        self.iid = InstrumentId.from_str("BTCUSDT.BINANCE")
        self.new_book: Callable[[], Any] = lambda: OrderBook(self.iid, BookType.L2_MBP)
        self.delta, self.deltas, self.clear = OrderBookDelta.from_raw, OrderBookDeltas, OrderBookDelta.clear
        self.add, self.update, self.delete = BookAction.ADD, BookAction.UPDATE, BookAction.DELETE
        self.buy, self.sell = OrderSide.BUY, OrderSide.SELL
        # Binance sends fixed decimals ("61837.63000000"): the raw value is the digits times a power of ten.
        decimals = len(data.snapshot["bids"][0][0].partition(".")[2])
        self.mul = 10 ** (FIXED_PRECISION - decimals)
        self.pprec = len(data.price_step.partition(".")[2].rstrip("0")) if "." in data.price_step else 0
        self.qprec = len(data.qty_step.partition(".")[2].rstrip("0")) if "." in data.qty_step else 0
        self.price_div = 10 ** (FIXED_PRECISION - self.pprec)
        self.qty_div = 10 ** (FIXED_PRECISION - self.qprec)

    def diff_deltas(self, d: dict[str, Any]) -> Any:
        fr, iid, mul, pp, qp = self.delta, self.iid, self.mul, self.pprec, self.qprec
        upd, dele = self.update, self.delete
        u, ts = d["u"], d["E"] * 1_000_000
        out = []
        for side, levels in ((self.buy, d["b"]), (self.sell, d["a"])):
            for p, q in levels:
                qr = int(q.replace(".", "")) * mul
                out.append(fr(iid, upd if qr else dele, side, int(p.replace(".", "")) * mul, pp, qr, qp, 0, 0, u,
                              ts, ts))
        return self.deltas(iid, out)

    def snapshot_deltas(self, s: dict[str, Any]) -> Any:
        fr, iid, mul, pp, qp, add = self.delta, self.iid, self.mul, self.pprec, self.qprec, self.add
        last = s["lastUpdateId"]
        out = [self.clear(iid, last, 0, 0)]
        for side, levels in ((self.buy, s["bids"]), (self.sell, s["asks"])):
            out += [fr(iid, add, side, int(p.replace(".", "")) * mul, pp, int(q.replace(".", "")) * mul, qp, 0, 0,
                       last, 0, 0) for p, q in levels]
        return self.deltas(iid, out)

    def replay(self, lines: list[bytes], tops: list[Top] | None = None) -> tuple[Any, int]:
        """Lines -> book, with Binance's spot sync: diffs before the snapshot are buffered, u <= lastUpdateId
        dropped, the first applied one contains lastUpdateId + 1, then U == previous u + 1."""
        loads, book = self.loads, self.new_book()
        buffered: list[dict[str, Any]] = []
        last = prev_u = -1
        applied = 0

        def apply(d: dict[str, Any]) -> int:
            nonlocal prev_u
            u = d["u"]
            if u <= last:
                return 0
            if (prev_u < 0 and not d["U"] <= last + 1 <= u) or (prev_u >= 0 and d["U"] != prev_u + 1):
                raise RuntimeError(f"nautilus replay: sync lost at U={d['U']}")
            book.apply_deltas(self.diff_deltas(d))
            prev_u = u
            if tops is not None:
                tops.append(self.top(book))
            return len(d["b"]) + len(d["a"])

        for line in lines:
            if line.find(b"@depth", 0, 64) < 0:
                if line.find(b'"lastUpdateId"', 0, 64) < 0:
                    continue  # not a depth update nor the snapshot
                snap = loads(line[line.index(b" ") + 1:])
                last = snap["lastUpdateId"]
                book.apply_deltas(self.snapshot_deltas(snap))
                for d in buffered:
                    applied += apply(d)
                buffered.clear()
                continue
            d = loads(line[line.index(b" ") + 1:])["data"]
            if last < 0:
                buffered.append(d)
            else:
                applied += apply(d)
        return book, applied

    def top(self, book: Any) -> Top:
        return (book.best_bid_price().raw // self.price_div, book.best_bid_size().raw // self.qty_div,
                book.best_ask_price().raw // self.price_div, book.best_ask_size().raw // self.qty_div)

    def levels(self, book: Any) -> Book:
        def side(levels: list[Any]) -> list[tuple[int, int]]:
            return [(lv.price.raw // self.price_div, sum(o.size.raw for o in lv.orders()) // self.qty_div)
                    for lv in levels]

        return side(book.bids()), side(book.asks())


# ---- hftbacktest --------------------------------------------------------------------------------------------


class HftBacktest:
    """hftbacktest 2.x: its depth lives in the Rust backtester, driven from Numba. The events are the applied
    diffs' levels (DEPTH_EVENT, bid/ask, local and exchange), diff k stamped (k + 1) * 1000 ns."""

    def __init__(self, data: Data) -> None:
        import numpy as np
        from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
        from hftbacktest.types import (
            BUY_EVENT,
            DEPTH_EVENT,
            DEPTH_SNAPSHOT_EVENT,
            EXCH_EVENT,
            LOCAL_EVENT,
            SELL_EVENT,
            event_dtype,
        )
        from numba import njit

        both = EXCH_EVENT | LOCAL_EVENT
        rows = []
        for k, d in enumerate(data.diffs):
            ts = (k + 1) * 1000
            for flag, levels in ((BUY_EVENT, d["b"]), (SELL_EVENT, d["a"])):
                rows += [(DEPTH_EVENT | flag | both, ts, ts, float(p), float(q), 0, 0, 0.0) for p, q in levels]
        self.events = np.array(rows, dtype=event_dtype)
        snap = [(DEPTH_SNAPSHOT_EVENT | flag | both, 0, 0, float(p), float(q), 0, 0, 0.0)
                for flag, levels in ((BUY_EVENT, data.snapshot["bids"]), (SELL_EVENT, data.snapshot["asks"]))
                for p, q in levels]
        self.snapshot = np.array(snap, dtype=event_dtype)
        self.n_diffs = len(data.diffs)
        self.tick, self.lot = float(data.price_step), float(data.qty_step)
        self.np = np

        def build() -> Any:
            asset = (BacktestAsset().data(self.events).initial_snapshot(self.snapshot).linear_asset(1.0)
                     .constant_order_latency(0, 0).risk_adverse_queue_model().no_partial_fill_exchange()
                     .trading_value_fee_model(0.0, 0.0).tick_size(self.tick).lot_size(self.lot)
                     .last_trades_capacity(0))
            return HashMapMarketDepthBacktest([asset])

        self.build = build
        inv_lot = 1.0 / self.lot

        @njit(cache=False)  # type: ignore[misc]
        def walk(hbt: Any, n: int, out: Any) -> None:
            hbt.elapse(0)  # starts the clock at the first event (it begins at i64::MAX)
            for k in range(n):  # to just after diff k: the depth's top after each diff
                hbt.elapse((k + 1) * 1000 + 500 - hbt.current_timestamp)
                d = hbt.depth(0)
                out[k, 0], out[k, 1] = d.best_bid_tick, round(d.best_bid_qty * inv_lot)
                out[k, 2], out[k, 3] = d.best_ask_tick, round(d.best_ask_qty * inv_lot)
                out[k, 4] = hbt.current_timestamp

        self.walk = walk

    def replay_checked(self) -> tuple[Book, list[Top]]:
        hbt = self.build()
        out = self.np.zeros((self.n_diffs, 5), dtype=self.np.int64)
        self.walk(hbt, self.n_diffs, out)
        # (the clock stops at the end of the data, just before the last diff's 500 ns)
        if out[-2, 4] != (self.n_diffs - 1) * 1000 + 500:
            _fail(f"hftbacktest: the walk's clock is at {out[-2, 4]} ns after the last diff but one")
        snap = hbt.depth(0).snapshot().copy()
        hbt.close()
        from hftbacktest.types import BUY_EVENT

        bids = sorted(((round(e["px"] / self.tick), round(e["qty"] / self.lot)) for e in snap
                       if e["ev"] & BUY_EVENT), reverse=True)
        asks = sorted((round(e["px"] / self.tick), round(e["qty"] / self.lot)) for e in snap
                      if not e["ev"] & BUY_EVENT)
        return (bids, asks), [tuple(int(x) for x in row[:4]) for row in out]  # type: ignore[misc]


# ---- the benchmarks -----------------------------------------------------------------------------------------


class Context:
    def __init__(self, selected: list[str]) -> None:
        self.data = Data()
        self.nautilus: Nautilus | None = None
        self.hbt: HftBacktest | None = None
        if any(n.endswith("/nautilus") for n in selected):
            self.nautilus = Nautilus(self.data)
            tops: list[Top] = []
            book, applied = self.nautilus.replay(self.data.lines, tops)
            if applied != self.data.updates:
                _fail(f"nautilus applied {applied} level updates, hftx {self.data.updates}")
            _check("nautilus", self.data, self.nautilus.levels(book), tops)
            self.nautilus_pre = [self.nautilus.diff_deltas(d) for d in self.data.diffs]
            self.nautilus_snap = self.nautilus.snapshot_deltas(self.data.snapshot)
        if any(n.endswith("/hftbacktest") for n in selected):
            self.hbt = HftBacktest(self.data)
            book, tops = self.hbt.replay_checked()
            _check("hftbacktest", self.data, book, tops)
            warm = self.hbt.build()  # compiles _goto_end
            warm._goto_end()
            warm.close()
        if any(n == "py_book_apply/hftx" for n in selected):
            import numpy as np

            ps, qs = float(self.data.price_step), float(self.data.qty_step)

            def arr(levels: list[list[str]]) -> Any:
                a = np.array(levels, dtype=np.float64).reshape(-1, 2)
                return np.column_stack((np.rint(a[:, 0] / ps), np.rint(a[:, 1] / qs))).astype(np.int64)

            self.hftx_snap = (arr(self.data.snapshot["bids"]), arr(self.data.snapshot["asks"]))
            self.hftx_pre = [(arr(d["b"]), arr(d["a"]), d["u"]) for d in self.data.diffs]


def _repeat(min_time: float, once: Callable[[], tuple[int, int]]) -> dict[str, Any]:
    """Calls ``once`` (returns timed ns, items) until ``min_time`` of timed work; ns per item."""
    elapsed = items = 0
    while elapsed < min_time * 1e9:
        ns, n = once()
        elapsed += ns
        items += n
    return {"iterations": items, "real_time": elapsed / items, "items_per_second": items * 1e9 / elapsed}


def _run_one(name: str, min_time: float, ctx: Context) -> dict[str, Any]:
    data, clock = ctx.data, time.perf_counter_ns
    if name in ("py_replay_e2e/hftx", "py_replay_e2e/hftx_books_only"):
        books_only = name.endswith("books_only")

        # Given the tick and lot, as nautilus is given its instrument's precisions (both outside the timing).
        def once() -> tuple[int, int]:
            t0 = clock()
            r = hftx.replay_lines(data.lines, books_only=books_only, price_step=data.price_step,
                                  qty_step=data.qty_step)
            return clock() - t0, r["level_updates"]
    elif name == "py_replay_e2e/nautilus":
        assert ctx.nautilus is not None
        replay = ctx.nautilus.replay

        def once() -> tuple[int, int]:
            t0 = clock()
            _, n = replay(data.lines)
            return clock() - t0, n
    elif name == "py_book_apply/hftx":
        def once() -> tuple[int, int]:
            ob = hftx.OrderBook(data.price_step, data.qty_step)
            ob.apply_snapshot(*ctx.hftx_snap)
            apply = ob.apply_diff
            t0 = clock()
            for b, a, u in ctx.hftx_pre:
                apply(b, a, u)
            return clock() - t0, data.updates
    elif name == "py_book_apply/nautilus":
        assert ctx.nautilus is not None
        new_book, pre, snap = ctx.nautilus.new_book, ctx.nautilus_pre, ctx.nautilus_snap

        def once() -> tuple[int, int]:
            book = new_book()
            book.apply_deltas(snap)
            apply = book.apply_deltas
            t0 = clock()
            for d in pre:
                apply(d)
            return clock() - t0, data.updates
    elif name == "py_book_apply/hftbacktest":
        assert ctx.hbt is not None
        build = ctx.hbt.build

        def once() -> tuple[int, int]:
            hbt = build()
            t0 = clock()
            hbt._goto_end()
            ns = clock() - t0
            hbt.close()
            return ns, data.updates
    else:
        raise ValueError(name)
    once()  # warm up
    return _repeat(min_time, once)


def main(argv: list[str]) -> int:
    names = _names()
    missing = [p for p, ok in _peers().items() if not ok]
    if missing:
        print(f"bench_replay_peers: peers not installed, not run: {', '.join(missing)} ({INSTALL})", file=sys.stderr)
    regex = next((a.split("=", 1)[1] for a in argv if a.startswith("--benchmark_filter=")), ".")
    selected = [n for n in names if re.search(regex, n)]

    @contextlib.contextmanager
    def context() -> Iterator[Context]:
        yield Context(selected)

    return script_main(argv, names, _run_one, context)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
