"""Replay recorded Binance streams (``<local_ns> <json>`` lines, gzip or plain) through hftx's C++
parser -> venue sync -> L2 book, at full speed.

Several files in order continue one book (e.g. the spot BTCUSDT 2024-08-08 then 2024-08-09 recordings).
The market (``spot``, ``usdm``, ``coinm``) is recognised from the messages unless given; the tick and lot
are inferred from the data unless given (``price_step="0.01"``).

The report is a dict: message counts, level updates applied, sync gaps and resync requests, crossed books,
the bookTicker check (``tickers_checked`` / ``ticker_mismatches``: the book's best bid/ask against every
bookTicker with the same update id), trade-id gaps, the final book, and throughput.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from hftx import _core

MARKETS = ("spot", "usdm", "coinm")
CROSSED_POLICIES = ("keep_and_flag", "drop_stale")


def replay(
    files: Sequence[str | os.PathLike[str]],
    *,
    market: str | None = None,
    price_step: str | None = None,
    qty_step: str | None = None,
    crossed_policy: str = "keep_and_flag",
    books_only: bool = False,
) -> dict[str, Any]:
    """Replay recorded files in order into one book and return the report.

    ``books_only=True`` skips the lines of other streams (bookTicker, trades) by their stream name, unparsed
    (``skipped_lines``): the book only, without the bookTicker and trade-id checks."""
    paths = [os.fspath(f) for f in files]
    if not paths:
        raise _core.ConfigError("replay: no files given")
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"replay: no such file: {p}")
    return _core.replay_files(paths, market, price_step, qty_step, crossed_policy, books_only)


def replay_lines(
    lines: list[str] | list[bytes],
    *,
    market: str | None = None,
    price_step: str | None = None,
    qty_step: str | None = None,
    crossed_policy: str = "keep_and_flag",
    books_only: bool = False,
) -> dict[str, Any]:
    """Replay recorded lines already in memory (``str`` or ``bytes``, without the newline); ``books_only`` as
    in :func:`replay`."""
    return _core.replay_lines(lines, market, price_step, qty_step, crossed_policy, books_only)
