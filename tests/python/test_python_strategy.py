"""Python strategies (config ``type: python``) against the in-process simulator: every event exactly once,
orders placed from Python reach the venue and come back as updates, errors name the key."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import hftx
from hftx.strategy import BookEvent, OrderEvent, PlacedEvent, Strategy, TradeEvent


class Recorder(Strategy):
    """Records every event; quotes one post-only bid below the market, cancels it once acked, and repeats."""

    def __init__(self, size: float = 0.001, orders: float = 5) -> None:
        self.size = size
        self.orders_left = int(orders)
        self.seqs: list[int] = []
        self.books: list[BookEvent] = []
        self.trades: list[TradeEvent] = []
        self.updates: list[OrderEvent] = []
        self.placed: list[PlacedEvent] = []
        self.tags: list[int] = []
        self.working: int | None = None
        self.started = self.stopped = False

    def on_start(self) -> None:
        self.started = True

    def on_book(self, event: BookEvent) -> None:
        self.seqs.append(event.seq)
        self.books.append(event)
        if self.working is None and self.orders_left > 0 and event.bid > 0:
            self.tags.append(self.place("buy", event.bid * 0.999, self.size, post_only=True))
            self.working = 0  # until on_placed says which order
            self.orders_left -= 1

    def on_trade(self, event: TradeEvent) -> None:
        self.seqs.append(event.seq)
        self.trades.append(event)

    def on_placed(self, event: PlacedEvent) -> None:
        self.seqs.append(event.seq)
        self.placed.append(event)
        self.working = event.order_id or None

    def on_order_update(self, event: OrderEvent) -> None:
        self.seqs.append(event.seq)
        self.updates.append(event)
        if event.kind == "ack":
            self.cancel(event.order_id)
        elif event.state in ("cancelled", "filled", "rejected", "expired"):
            self.working = None

    def on_stop(self) -> None:
        self.stopped = True


def _config(strategies: list[dict[str, Any]], **extra: Any) -> hftx.Config:
    return hftx.load_config({
        "hft": {"performance": {"enable_cpu_affinity": False}},
        "simulator": {"event_rate": 2000, "seed": 3},
        "strategies": strategies,
        **extra,
    })


@pytest.mark.parametrize("mode", ["inline", "pipelined"])
def test_every_event_exactly_once_and_orders_round_trip(mode: str) -> None:
    cfg = _config([{"type": "python", "instrument": "BTCUSDT", "class": f"{__name__}:Recorder",
                    "params": {"orders": 5}}], threading={"mode": mode, "workers": 1})
    with hftx.Session(cfg) as s:
        s.run(3.0)
        (strat,) = s.python_strategies
        assert isinstance(strat, Recorder)
    stats = strat._link().channel.stats()
    assert strat.started and strat.stopped
    # Exactly once: the sequence numbers are 1..N with nothing missing or repeated, N is what the C++
    # side produced, and nothing was dropped.
    assert stats["events_dropped"] == 0
    assert strat.seqs == list(range(1, len(strat.seqs) + 1))
    assert len(strat.seqs) == stats["events"]
    assert len(strat.books) > 100 and strat.trades
    ids = [b.update_id for b in strat.books]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), "book updates repeated or out of order"
    assert all(b.bid < b.ask for b in strat.books)
    assert len({t.trade_id for t in strat.trades}) == len(strat.trades)
    # Orders: every place() answered once with an order id; each order acked, then cancelled.
    assert [p.tag for p in strat.placed] == strat.tags
    assert all(p.order_id != 0 and p.reason == "ok" for p in strat.placed), strat.placed
    placed_ids = {p.order_id for p in strat.placed}
    acked = {u.order_id for u in strat.updates if u.kind == "ack"}
    cancelled = {u.order_id for u in strat.updates if u.kind == "cancelled"}
    assert acked == placed_ids and cancelled == placed_ids
    assert len(placed_ids) == 5
    assert all(u.side == "buy" and u.price < strat.books[-1].bid for u in strat.updates)


def test_strategy_from_a_file_next_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(textwrap.dedent("""
        import hftx

        class Counter(hftx.Strategy):
            def __init__(self, scale: float = 1.0) -> None:
                self.n = 0
                self.scale = scale

            def on_events(self, batch) -> None:  # the raw NumPy batch, no per-event objects
                self.n += len(batch)
    """))
    (tmp_path / "cfg.yaml").write_text(textwrap.dedent("""
        hft: {performance: {enable_cpu_affinity: false}}
        simulator: {event_rate: 2000}
        strategies:
          - {type: python, instrument: BTCUSDT, class: "mine.py:Counter", params: {scale: 2}}
    """))
    with hftx.Session(str(tmp_path / "cfg.yaml")) as s:
        s.run(1.0)
        (strat,) = s.python_strategies
    assert strat.scale == 2.0  # type: ignore[attr-defined]
    assert strat.n == strat._link().channel.stats()["events"] > 0  # type: ignore[attr-defined]


class Boom(Strategy):
    def on_book(self, event: BookEvent) -> None:
        raise ValueError("boom from on_book")


def test_an_exception_in_a_strategy_stops_the_run_and_is_raised(tmp_path: Path) -> None:
    cfg = _config([{"type": "python", "instrument": "BTCUSDT", "class": f"{__name__}:Boom"}])
    s = hftx.Session(cfg)
    with pytest.raises(ValueError, match="boom from on_book"):
        s.run(10.0)
    assert not s.running


@pytest.mark.parametrize(("spec", "message"), [
    ("no_such_module_xyz:Thing",
     "strategies[0].class = 'no_such_module_xyz:Thing': importing no_such_module_xyz failed"),
    ("hftx.strategy:BookEvent", "expected a subclass of hftx.Strategy named BookEvent"),
])
def test_bad_class_names_the_key(tmp_path: Path, spec: str, message: str) -> None:
    cfg = _config([{"type": "python", "instrument": "BTCUSDT", "class": spec}])
    with pytest.raises(hftx.ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        hftx.Session(cfg).start()


def test_bad_params_name_the_key(tmp_path: Path) -> None:
    cfg = _config([{"type": "python", "instrument": "BTCUSDT", "class": f"{__name__}:Recorder",
                              "params": {"nope": 1}}])
    with pytest.raises(hftx.ConfigError, match=r"strategies\[0\]\.params"):
        hftx.Session(cfg).start()


def test_place_checks_its_arguments() -> None:
    s = Recorder()
    with pytest.raises(RuntimeError, match="not attached"):
        s.place("buy", 1.0, 1.0)
    s.price_step = s.qty_step = 0.01
    s._hftx_link = object()  # type: ignore[attr-defined]  # arguments are checked before the link is used
    with pytest.raises(ValueError, match="side='up'"):
        s.place("up", 1.0, 1.0)
    with pytest.raises(ValueError, match="qty=0"):
        s.place("buy", 1.0, 0)
    with pytest.raises(ValueError, match="tif='GTD'"):
        s.place("buy", 1.0, 1.0, tif="GTD")
