"""Python strategies: subclass :class:`Strategy`, name it in the config, and the session runs it.

.. code-block:: yaml

    strategies:
      - type: python
        instrument: BTCUSDT
        class: "my_strategies:Momentum"   # or "path/to/file.py:Momentum", "__main__:Momentum"
        params: {size: 0.001}              # keyword arguments of Momentum(...)

How it runs: in the session, a C++ strategy stands in for each Python one. On the session's thread it turns
every book update, trade and order update into a 64-byte record and pushes it into a lock-free ring, and it
executes the commands (place, cancel) that Python queued in a second ring — so the C++ hot path never takes
the GIL and never waits for Python. A Python thread drains the rings in batches and calls your methods.

Costs (measured by ``hftx bench --filter python_strategy``, see BENCHMARKS.md): the C++ side pays one ring
push per event; Python pays a per-batch drain and a per-event method call (or nothing per event when you
override :meth:`Strategy.on_events` and work on the NumPy batch). A Python decision therefore reaches the
venue one batch later than a C++ strategy's: the command runs on the session thread at its next event, or
within ``session.timer_interval_ms`` on a quiet market.

If Python falls behind by more than the ring (``event_capacity`` events), events are dropped and counted
(:attr:`Strategy.events_dropped`); every record carries a sequence number, so nothing is lost silently.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hftx._core import ConfigError

if TYPE_CHECKING:
    from hftx import _core

# One record of the event ring (strategy/external.hpp, ExternalEvent): 64 bytes.
EVENT_DTYPE = np.dtype([
    ("seq", "<u8"), ("time_ns", "<i8"), ("a", "<i8"), ("b", "<i8"), ("c", "<i8"), ("d", "<i8"), ("id", "<u8"),
    ("instrument", "<u4"), ("kind", "u1"), ("flag", "u1"), ("side", "u1"), ("state", "u1"),
])
assert EVENT_DTYPE.itemsize == 64

KIND_BOOK, KIND_TRADE, KIND_ORDER, KIND_PLACED = 1, 2, 3, 4
_CMD_PLACE, _CMD_CANCEL, _CMD_CANCEL_ALL = 1, 2, 3
_SIDES = {"buy": 0, "bid": 0, "sell": 1, "ask": 1}
_TYPES = {"limit": 0, "market": 1}
_TIFS = {"GTC": 0, "IOC": 1, "FOK": 2}
# oms::UpdateKind and oms::OrderState, in their C++ order.
UPDATE_KINDS = ("ack", "fill", "cancelled", "rejected", "expired", "cancel_rejected")
ORDER_STATES = ("new", "sent", "acked", "partially_filled", "filled", "cancelled", "rejected", "expired")
RISK_REASONS = ("ok", "kill_switch", "max_qty", "max_notional", "price_band", "no_reference_price",
                "position_limit", "open_orders", "rate_limit", "self_trade", "lot_size")


@dataclass(frozen=True, slots=True)
class BookEvent:
    """The top of the book after a venue message was applied (prices and quantities in decimal units)."""

    seq: int
    time_ns: int
    bid: float
    bid_qty: float
    ask: float
    ask_qty: float
    update_id: int


@dataclass(frozen=True, slots=True)
class TradeEvent:
    seq: int
    time_ns: int
    price: float
    qty: float
    trade_id: int
    buyer_is_maker: bool


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An update of one of this strategy's orders, after the session's OMS applied it."""

    seq: int
    time_ns: int
    order_id: int  # the session's client order id (what place() eventually answers with)
    kind: str  # ack | fill | cancelled | rejected | expired | cancel_rejected
    state: str  # the order's state after the update: acked, partially_filled, filled, cancelled, ...
    side: str  # buy | sell
    price: float  # the order's limit price
    last_qty: float  # fill: this execution's quantity
    last_price: float  # fill: this execution's price
    filled: float  # the order's filled quantity after the update


@dataclass(frozen=True, slots=True)
class PlacedEvent:
    """The answer to :meth:`Strategy.place`: ``order_id`` 0 when the order was not sent (``reason`` says why)."""

    seq: int
    time_ns: int
    tag: int  # what place() returned
    order_id: int
    reason: str  # "ok", a risk reason (rate_limit, max_qty, ...) or "invalid"


class Strategy:
    """Base class of a Python strategy. Override the ``on_*`` methods you need; call :meth:`place` and
    :meth:`cancel` from them (or from any method running while the session runs).

    Methods run on the session's Python strategy thread, one at a time, never concurrently with each other.
    """

    # Set by the session before on_start.
    instrument: str = ""
    price_step: float = 0.0
    qty_step: float = 0.0

    def on_start(self) -> None:
        """Before the first event."""

    def on_book(self, event: BookEvent) -> None:
        """The book changed."""

    def on_trade(self, event: TradeEvent) -> None:
        """A market trade."""

    def on_order_update(self, event: OrderEvent) -> None:
        """One of this strategy's orders changed."""

    def on_placed(self, event: PlacedEvent) -> None:
        """A place() was executed by the session: the order id, or why it was not sent."""

    def on_stop(self) -> None:
        """After the session stopped (the last events were delivered)."""

    def on_events(self, batch: npt.NDArray[Any]) -> None:
        """A batch of raw records (:data:`EVENT_DTYPE`, prices and quantities in raw steps). The default
        dispatches each to the ``on_*`` methods above; override it to work on the whole batch with NumPy."""
        ps, qs = self.price_step, self.qty_step
        on_book, on_trade, on_order, on_placed = self.on_book, self.on_trade, self.on_order_update, self.on_placed
        for seq, t, a, b, c, d, ident, _inst, kind, flag, side, state in batch.tolist():
            if kind == KIND_BOOK:
                on_book(BookEvent(seq, t, a * ps, b * qs, c * ps, d * qs, ident))
            elif kind == KIND_TRADE:
                on_trade(TradeEvent(seq, t, a * ps, b * qs, ident, flag == 1))
            elif kind == KIND_ORDER:
                on_order(OrderEvent(seq, t, ident, UPDATE_KINDS[flag], ORDER_STATES[state], "sell" if side else "buy",
                                    a * ps, b * qs, c * ps, d * qs))
            elif kind == KIND_PLACED:
                reason = "invalid" if flag == 0xFF else RISK_REASONS[flag] if flag < len(RISK_REASONS) else str(flag)
                on_placed(PlacedEvent(seq, t, c, ident, reason))

    # ---- actions ----------------------------------------------------------------------------------------

    def place(self, side: str, price: float, qty: float, *, type: str = "limit", tif: str = "GTC",
              post_only: bool = False) -> int:
        """Queues an order; returns a tag that :meth:`on_placed` echoes with the order id. Prices and
        quantities are rounded to the instrument's steps. Raises ValueError on a bad argument and
        RuntimeError when the command ring is full (Python is sending faster than the session executes)."""
        if side not in _SIDES:
            raise ValueError(f"place(side={side!r}): expected one of {sorted(_SIDES)}")
        if type not in _TYPES:
            raise ValueError(f"place(type={type!r}): expected one of {sorted(_TYPES)}")
        if tif not in _TIFS:
            raise ValueError(f"place(tif={tif!r}): expected one of {sorted(_TIFS)}")
        if not qty > 0:
            raise ValueError(f"place(qty={qty!r}): expected a quantity > 0")
        if type == "limit" and not price > 0:
            raise ValueError(f"place(price={price!r}): expected a price > 0 for a limit order")
        tag = next(self._link().tags)
        self._submit("place()", _CMD_PLACE, tag, _SIDES[side], _TYPES[type], _TIFS[tif], post_only,
                     round(price / self.price_step) if type == "limit" else 0, round(qty / self.qty_step))
        return tag

    def cancel(self, order_id: int) -> None:
        """Asks to cancel one of this strategy's orders (by the id from on_placed / on_order_update)."""
        self._submit("cancel()", _CMD_CANCEL, order_id)

    def cancel_all(self) -> None:
        """Asks to cancel every open order of this strategy on its instrument."""
        self._submit("cancel_all()", _CMD_CANCEL_ALL, 0)

    def _submit(self, what: str, kind: int, tag: int, *args: Any) -> None:
        link = self._link()
        if not link.channel.submit(kind, tag, link.instrument_id, *args):
            raise RuntimeError(f"{what}: the command ring is full (the session is not keeping up with Python)")

    @property
    def events_dropped(self) -> int:
        """Events lost because Python fell a whole ring behind (0 in a healthy run)."""
        return int(self._link().channel.stats()["events_dropped"])

    def _link(self) -> _Link:
        link: _Link | None = getattr(self, "_hftx_link", None)
        if link is None:
            raise RuntimeError("this strategy is not attached to a running hftx.Session")
        return link


@dataclass
class _Link:
    channel: _core.ExternalChannel
    instrument_id: int
    tags: itertools.count[int]


def load_strategy_class(spec: str, where: str) -> type[Strategy]:
    """Resolves ``"module:Class"`` or ``"path/file.py:Class"``; errors name ``where`` (the config key)."""
    module_name, _, class_name = spec.rpartition(":")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise ConfigError(f"{where} = {spec!r}: no such file {path}")
            mod_spec = importlib.util.spec_from_file_location(f"hftx_user_{path.stem}", path)
            if mod_spec is None or mod_spec.loader is None:
                raise ConfigError(f"{where} = {spec!r}: cannot load {path} as Python")
            module = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(module)
        else:
            module = sys.modules.get(module_name) or importlib.import_module(module_name)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"{where} = {spec!r}: importing {module_name} failed: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(
            f"{where} = {spec!r}: expected a subclass of hftx.Strategy named {class_name} in {module_name}")
    return cls


class StrategyRunner:
    """Drains every Python strategy's ring on one thread and calls its methods (used by hftx.Session)."""

    BATCH = 4096

    def __init__(self, strategies: list[tuple[Strategy, _core.ExternalChannel]]) -> None:
        self._strategies = strategies
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._buffer = np.empty(self.BATCH, dtype=EVENT_DTYPE)
        self.error: BaseException | None = None
        self.delivered = 0

    def start(self) -> None:
        for strat, _ in self._strategies:
            strat.on_start()
        self._thread = threading.Thread(target=self._loop, name="hftx-py-strategies", daemon=True)
        self._thread.start()

    def _drain_once(self) -> int:
        n_all = 0
        for strat, channel in self._strategies:
            while True:
                n = channel.drain_into(self._buffer)
                if n == 0:
                    break
                n_all += n
                self.delivered += n
                strat.on_events(self._buffer[:n])
                if n < self.BATCH:
                    break
        return n_all

    def _loop(self) -> None:
        only = self._strategies[0][1] if len(self._strategies) == 1 else None
        try:
            while not self._stop.is_set():
                if self._drain_once() != 0:
                    continue
                if only is not None:
                    only.wait(0.002)  # in C++ without the GIL: wakes as soon as an event is queued
                else:
                    self._stop.wait(0.0005)
        except BaseException as exc:  # hftx.Session.run raises it (and stops the session)
            self.error = exc

    def stop(self) -> None:
        """Stops the thread, delivers what is still queued, then calls on_stop. Raises what a method raised."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.error is None:
            self._drain_once()
        for strat, _ in self._strategies:
            strat.on_stop()
        if self.error is not None:
            raise self.error
