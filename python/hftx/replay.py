"""Replay recorded market data through hftx's C++ parser -> venue sync -> L2 book, at full speed.

``venue="binance"`` (the default): hftbacktest's ``<local_ns> <json>`` lines (gzip or plain). Several files in
order continue one book (e.g. the spot BTCUSDT 2024-08-08 then 2024-08-09 recordings). The market (``spot``,
``usdm``, ``coinm``) is recognised from the messages unless given; the tick and lot are inferred from the data
unless given (``price_step="0.01"``). The report is a dict: message counts, level updates applied, sync gaps and
resync requests, crossed books, the bookTicker check (``tickers_checked`` / ``ticker_mismatches``: the book's
best bid/ask against every bookTicker with the same update id), trade-id gaps, the final book, and throughput.

``venue="okx"``: OKX v5 public streams in cryptofeed's line format (``<unix_s>: <json>`` received lines, with
its connection and sent lines; the recordings in ``shared/data/venues/`` are cryptofeed's sample data: credit
"cryptofeed, by Bryant Moscon" where their figures are shown) or hftx's ``<ns> <json>``. Several instruments
are interleaved: each gets its own book, checked by OKX's checksum (CRC32 of the top 25 levels) after every
message that carries one and by seqId/prevSeqId where present; a mismatch asks for a resubscription (counted in
``resync_requests``: a replay cannot send it, so the instrument waits for the recording's next snapshot of it).
Tick and lot per instrument: inferred from the finest decimals its prices and sizes use, unless given for all
(``price_step`` / ``qty_step``) or per instrument (``steps={"BTC-USDT": ("0.1", "0.00000001")}``). The report
has the Binance report's counts where they mean the same (``lines``, ``messages``, ``parse_errors``,
``depth_updates``, ``snapshots``, ``trades``, ``gaps``, ``crossed``, ...), the checksum counts
(``checksums_checked`` / ``checksums_matched`` / ``checksum_mismatches``), every line's bucket (``messages``,
``control_lines``, ``skipped_lines`` by reason in ``skipped``, ``parse_errors`` by reason in
``parse_errors_by_reason``), and an ``instruments`` list with the same per instrument.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from hftx import _core
from hftx.venue import venues

#: The venues whose recordings replay (every registered venue: hftx.venues()).
VENUES = tuple(v.name for v in venues())
MARKETS = tuple(m.name for m in next(v for v in venues() if v.name == "binance").markets)  # Binance's replay
CROSSED_POLICIES = ("keep_and_flag", "drop_stale")


def _check_venue(venue: str, market: str | None, steps: Mapping[str, tuple[str, str]] | None) -> None:
    if venue not in VENUES:
        raise _core.ConfigError(f"replay: venue = '{venue}': expected one of {', '.join(VENUES)}")
    if venue == "okx" and market is not None:
        raise _core.ConfigError(f"replay: market = '{market}' is Binance's; OKX instruments are told by their instId")
    if venue == "binance" and steps:
        raise _core.ConfigError("replay: steps per instrument are for venue='okx'; Binance replays one instrument")


def _steps(steps: Mapping[str, tuple[str, str]] | None) -> dict[str, tuple[str, str]]:
    return {inst: (str(p), str(q)) for inst, (p, q) in (steps or {}).items()}


def replay(
    files: Sequence[str | os.PathLike[str]],
    *,
    venue: str = "binance",
    market: str | None = None,
    price_step: str | None = None,
    qty_step: str | None = None,
    steps: Mapping[str, tuple[str, str]] | None = None,
    crossed_policy: str = "keep_and_flag",
    books_only: bool = False,
) -> dict[str, Any]:
    """Replay recorded files in order and return the report.

    ``books_only=True`` skips the lines of other streams (Binance: bookTicker and trades, by their stream name;
    OKX: trades) unparsed (``skipped_lines``): the books only."""
    _check_venue(venue, market, steps)
    paths = [os.fspath(f) for f in files]
    if not paths:
        raise _core.ConfigError("replay: no files given")
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"replay: no such file: {p}")
    if venue == "okx":
        return _core.replay_okx_files(paths, price_step, qty_step, _steps(steps), crossed_policy, books_only)
    return _core.replay_files(paths, market, price_step, qty_step, crossed_policy, books_only)


def replay_lines(
    lines: list[str] | list[bytes],
    *,
    venue: str = "binance",
    market: str | None = None,
    price_step: str | None = None,
    qty_step: str | None = None,
    steps: Mapping[str, tuple[str, str]] | None = None,
    crossed_policy: str = "keep_and_flag",
    books_only: bool = False,
) -> dict[str, Any]:
    """Replay recorded lines already in memory (``str`` or ``bytes``, without the newline); the options as in
    :func:`replay`."""
    _check_venue(venue, market, steps)
    if venue == "okx":
        return _core.replay_okx_lines(lines, price_step, qty_step, _steps(steps), crossed_policy, books_only)
    return _core.replay_lines(lines, market, price_step, qty_step, crossed_policy, books_only)
