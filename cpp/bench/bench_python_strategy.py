#!/usr/bin/env python3
"""What a Python strategy costs per event, on the Python side (hftx.Strategy.on_events).

Speaks Google Benchmark's command line and JSON output (hftx.bench.script_main), so `hftx bench` runs it like
the C++ programs:
  python_strategy_event/hftx_objects   the default on_events: one event object and one method call each
  python_strategy_event/hftx_batch     on_events overridden to work on the NumPy batch (a vectorised mid)
The batches are real session records (EVENT_DTYPE, 4,096 per batch as the runner drains them) with the mix
of a recorded BTCUSDT run: 80% book updates, 20% trades. The C++ side's cost per event (one ring push)
is bench_trading's external_strategy_event.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from hftx.bench import script_main
from hftx.strategy import EVENT_DTYPE, KIND_BOOK, KIND_TRADE, BookEvent, Strategy, TradeEvent

BATCH = 4096


class _Objects(Strategy):
    def __init__(self) -> None:
        self.n = 0

    def on_book(self, event: BookEvent) -> None:
        self.n += 1

    def on_trade(self, event: TradeEvent) -> None:
        self.n += 1


class _Batch(Strategy):
    def __init__(self) -> None:
        self.last_mid = 0.0

    def on_events(self, batch: Any) -> None:
        books = batch[batch["kind"] == KIND_BOOK]
        if len(books):
            self.last_mid = float(((books["a"] + books["c"]) * (0.5 * self.price_step)).mean())


def _batch() -> Any:
    rng = np.random.default_rng(1)
    b = np.zeros(BATCH, dtype=EVENT_DTYPE)
    b["seq"] = np.arange(1, BATCH + 1)
    b["kind"] = np.where(rng.random(BATCH) < 0.8, KIND_BOOK, KIND_TRADE)
    b["a"] = 6_000_000 + rng.integers(-500, 500, BATCH)
    b["b"] = rng.integers(1, 10**8, BATCH)
    b["c"] = b["a"] + 1
    b["d"] = rng.integers(1, 10**8, BATCH)
    b["id"] = np.arange(BATCH)
    return b


def _run_one(name: str, min_time: float) -> dict[str, Any]:
    strat: Strategy = _Objects() if name.endswith("hftx_objects") else _Batch()
    strat.price_step, strat.qty_step = 0.01, 1e-8
    batch = _batch()
    strat.on_events(batch)  # warm up
    iterations = 0
    start = time.perf_counter_ns()
    while True:
        strat.on_events(batch)
        iterations += 1
        elapsed = time.perf_counter_ns() - start
        if elapsed >= min_time * 1e9:
            break
    events = iterations * BATCH
    return {"iterations": events, "real_time": elapsed / events, "items_per_second": events * 1e9 / elapsed}


NAMES = ["python_strategy_event/hftx_objects", "python_strategy_event/hftx_batch"]


def main(argv: list[str]) -> int:
    return script_main(argv, NAMES, lambda name, min_time, _ctx: _run_one(name, min_time))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
