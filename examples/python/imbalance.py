"""A Python strategy for hftx: joins the best bid when the top of the book leans to the bid side, and leaves
when it stops leaning. Run it with ``hftx run conf/python.yaml``.

Events arrive in batches drained from a lock-free ring on a Python thread (see hftx.strategy): the session's
C++ thread never waits for this code.
"""

from __future__ import annotations

import hftx
from hftx.strategy import BookEvent, OrderEvent, PlacedEvent


class Imbalance(hftx.Strategy):
    def __init__(self, size: float = 0.001, threshold: float = 0.7) -> None:
        self.size = size
        self.threshold = threshold
        self.pending = False  # a place() not yet answered
        self.order_id = 0  # our working bid (0: none)
        self.position = 0.0

    def on_book(self, event: BookEvent) -> None:
        imbalance = event.bid_qty / (event.bid_qty + event.ask_qty)
        if self.order_id == 0 and not self.pending and imbalance > self.threshold and self.position < 10 * self.size:
            self.place("buy", event.bid, self.size, post_only=True)
            self.pending = True
        elif self.order_id != 0 and imbalance < 0.5:
            self.cancel(self.order_id)

    def on_placed(self, event: PlacedEvent) -> None:
        self.pending = False
        self.order_id = event.order_id  # 0 when risk refused it (event.reason says why)

    def on_order_update(self, event: OrderEvent) -> None:
        if event.kind == "fill":
            self.position += event.last_qty
        if event.state in ("filled", "cancelled", "rejected", "expired") and event.order_id == self.order_id:
            self.order_id = 0
