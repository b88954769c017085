"""hftx.OrderBook and replay through the bindings: behaviour, a property test against a dict model, the
recorded-data facts, and the `hftx replay` command."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hftx
from hftx.cli import main


def test_snapshot_diff_best_and_depth() -> None:
    b = hftx.OrderBook("0.01", "0.00001")
    b.apply_snapshot([("100.00", "1"), ("99.50", "2"), ("99.00", "3")], [("101.00", "4"), ("102.5", "5")], 7)
    assert b.best_bid() == (100.0, 1.0)
    assert b.best_ask() == (101.0, 4.0)
    assert b.best_bid(raw=True) == (10000, 100000)
    assert (b.bid_count, b.ask_count, len(b), b.update_id) == (3, 2, 5, 7)
    r = b.apply_diff([("100.00", "0"), ("98.00", "0")], [("100.50", "1.5")], 8)
    assert r["removed"] == 1 and r["removed_absent"] == 1 and r["inserted"] == 1 and not r["crossed"]
    bids, asks = b.depth(10)
    assert bids.dtype == np.float64 and bids.shape == (2, 2)
    np.testing.assert_array_equal(bids, [[99.5, 2.0], [99.0, 3.0]])
    np.testing.assert_array_equal(asks[:, 0], [100.5, 101.0, 102.5])
    raw_bids, _ = b.depth(1, raw=True)
    assert raw_bids.dtype == np.int64 and raw_bids.tolist() == [[9950, 200000]]
    top = b.top()
    assert top["bid_price"] == 99.5 and top["ask_price"] == 100.5 and top["update_id"] == 8
    b.clear()
    assert b.best_bid() is None and len(b) == 0


def test_raw_numpy_levels() -> None:
    b = hftx.OrderBook("0.1", "0.001")
    b.apply_snapshot(np.array([[617000, 5], [616990, 7]], dtype=np.int64), np.array([[617010, 1]]))
    assert b.best_bid(raw=True) == (617000, 5)
    b.apply_diff(np.empty((0, 2), dtype=np.int64), np.array([[617010, 0]]))
    assert b.best_ask() is None


def test_crossed_policies() -> None:
    keep = hftx.OrderBook("1", "1")
    keep.apply_snapshot([("100", "1")], [("101", "1"), ("102", "1")])
    assert keep.apply_diff([("101", "5")], [])["crossed"]
    assert keep.crossed and keep.top()["crossed"]
    drop = hftx.OrderBook("1", "1", crossed_policy="drop_stale")
    drop.apply_snapshot([("100", "1")], [("101", "1"), ("102", "1")])
    r = drop.apply_diff([("101", "5")], [])
    assert r["crossed"] and r["dropped_stale"] == 1
    assert not drop.crossed and drop.best_ask() == (102.0, 1.0)
    with pytest.raises(hftx.ConfigError, match="crossed_policy"):
        hftx.OrderBook("1", "1", crossed_policy="ignore")


def test_bad_input_raises_typed_errors() -> None:
    b = hftx.OrderBook("0.01", "0.001")
    with pytest.raises(hftx.ParseError, match="not a multiple"):
        b.apply_diff([("100.001", "1")], [])
    with pytest.raises(hftx.ConfigError):
        b.apply_diff(np.zeros((3, 3), dtype=np.int64), [])
    with pytest.raises(hftx.ParseError, match="bad_number"):
        b.apply_message('{"e":"depthUpdate","U":1,"u":2,"b":[["1.001","1"]],"a":[]}')
    with pytest.raises(hftx.ParseError, match="book_ticker"):
        b.apply_message('{"u":1,"s":"X","b":"1.00","B":"1","a":"1.01","A":"1"}')


def test_apply_binance_messages() -> None:
    b = hftx.OrderBook("0.01", "0.00001")
    snap = '{"lastUpdateId":5,"bids":[["61837.63000000","3.78826000"]],"asks":[["61837.64000000","1.5"]]}'
    assert b.apply_message(snap) == "depth_snapshot"
    kind = b.apply_message('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT",'
                           '"U":6,"u":9,"b":[["61837.63000000","0.00000000"]],"a":[]}}')
    assert kind == "depth_update" and b.best_bid() is None and b.update_id == 9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.booleans(), st.integers(1, 400) | st.sampled_from([3, 99999]),
                                   st.integers(0, 5)), max_size=15), max_size=40))
def test_random_updates_match_a_dict_model(batches: list[list[tuple[bool, int, int]]]) -> None:
    b = hftx.OrderBook("1", "1")
    model: dict[bool, dict[int, int]] = {True: {}, False: {}}
    for batch in batches:
        bids = [(str(p), str(q)) for is_bid, p, q in batch if is_bid]
        asks = [(str(p + 1000), str(q)) for is_bid, p, q in batch if not is_bid]
        b.apply_diff(bids, asks)
        for is_bid, p, q in batch:
            side = model[is_bid]
            price = p if is_bid else p + 1000
            if q == 0:
                side.pop(price, None)
            else:
                side[price] = q
    want_bids = sorted(model[True].items(), reverse=True)
    want_asks = sorted(model[False].items())
    bids_arr, asks_arr = b.depth(10_000, raw=True)
    assert [tuple(x) for x in bids_arr.tolist()] == want_bids
    assert [tuple(x) for x in asks_arr.tolist()] == want_asks


# ---- recorded data ---------------------------------------------------------------------------------------


def _clean(r: dict[str, object], market: str) -> None:
    assert r["market"] == market
    assert r["parse_errors"] == 0, r["first_parse_error"]
    assert r["parser_fallbacks"] == r["snapshots"]  # the fast scanner reads every stream message
    assert r["gaps"] == 0 and r["crossed"] == 0 and not r["crossed_at_end"]
    assert r["ticker_mismatches"] == 0 and isinstance(r["tickers_checked"], int) and r["tickers_checked"] > 100
    assert r["trade_id_gaps"] == 0 and r["trade_id_backwards"] == 0
    assert r["state"] == "synced"


def test_replay_spot_btcusdt_two_files(data_dir: Path) -> None:
    files = [data_dir / "binance/spot_btcusdt_20240808.gz", data_dir / "binance/spot_btcusdt_20240809.gz"]
    r = hftx.replay(files)
    _clean(r, "spot")
    # The data README: the book ends with 1,971 bids and 2,962 asks.
    assert (r["bid_levels"], r["ask_levels"]) == (1971, 2962)


@pytest.mark.parametrize(
    ("name", "market"), [("spot_ethusdt_20240808.gz", "spot"), ("usdm_btcusdt_20240808.gz", "usdm")]
)
def test_replay_other_files(data_dir: Path, name: str, market: str) -> None:
    _clean(hftx.replay([data_dir / "binance" / name]), market)


def test_replay_lines_in_memory_and_a_dropped_line(data_dir: Path) -> None:
    with gzip.open(data_dir / "binance/spot_ethusdt_20240808.gz", "rt") as f:
        lines = f.read().splitlines()
    t0 = time.perf_counter()
    r = hftx.replay_lines(lines)
    elapsed = time.perf_counter() - t0
    _clean(r, "spot")
    assert r["level_updates"] > 100_000
    # End to end from Python (lines in memory -> books), per level update applied.
    assert elapsed / r["level_updates"] < 2e-6
    as_bytes = hftx.replay_lines([line.encode() for line in lines])
    assert (as_bytes["bid_levels"], as_bytes["ask_levels"]) == (r["bid_levels"], r["ask_levels"])
    diffs = [i for i, line in enumerate(lines) if '"depthUpdate"' in line]
    del lines[diffs[200]]
    damaged = hftx.replay_lines(lines)
    assert damaged["gaps"] == 1 and damaged["resync_requests"] >= 1 and damaged["state"] == "awaiting_snapshot"


def test_replay_books_only_skips_other_streams(data_dir: Path) -> None:
    files = [data_dir / "binance/spot_ethusdt_20240808.gz"]
    full, books = hftx.replay(files), hftx.replay(files, books_only=True)
    assert books["skipped_lines"] == full["book_tickers"] + full["trades"] + full["agg_trades"] > 0
    assert books["book_tickers"] == books["tickers_checked"] == books["trades"] == 0
    for key in ("level_updates", "bid_levels", "ask_levels", "best_bid", "best_ask", "gaps", "state"):
        assert books[key] == full[key], key
    assert main(["replay", str(files[0]), "--books-only", "--strict"]) == 0


def test_replay_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        hftx.replay([tmp_path / "missing.gz"])
    with pytest.raises(hftx.ConfigError):
        hftx.replay([])
    with pytest.raises(hftx.ConfigError, match="market"):
        hftx.replay_lines(["1 {}"], market="options")


def test_cli_replay_json_and_table(data_dir: Path, tmp_path: Path) -> None:
    f = str(data_dir / "binance/spot_ethusdt_20240808.gz")
    out = subprocess.run([sys.executable, "-m", "hftx", "replay", f, "--json", "--strict"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["ticker_mismatches"] == 0 and r["market"] == "spot" and r["messages"] == r["lines"]
    assert main(["replay", f, "--market", "spot", "--price-step", "0.01", "--qty-step", "0.0001"]) == 0
    # A recording with one diff line missing: the gap fails --strict (and only --strict).
    with gzip.open(f, "rt") as src:
        lines = src.read().splitlines()
    diffs = [i for i, line in enumerate(lines) if '"depthUpdate"' in line]
    del lines[diffs[100]]
    damaged = tmp_path / "damaged.gz"
    with gzip.open(damaged, "wt") as dst:
        dst.write("\n".join(lines) + "\n")
    assert main(["replay", str(damaged), "--strict", "--json"]) == 1
    assert main(["replay", str(damaged)]) == 0
    assert main(["replay", "/nonexistent.gz"]) == 2
