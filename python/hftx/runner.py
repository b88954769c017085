"""``hftx run``: a session with a live terminal view, Prometheus metrics and a report at the end.

Ctrl-C (SIGINT) or SIGTERM stops the session cleanly — open orders cancelled (``session.cancel_on_stop``),
threads joined — and the report is still written; the exit status is then 0. Exit statuses otherwise: 2 for a
missing file or a bad configuration, 3 when a connection is refused or a port is in use, and 3 after the report
when the session stopped on its own (a connection the venue will not take back: a permanent close code, a refused
upgrade) or received no market data at all (:class:`SessionFailed`; see ``hftx.cli``). A connection that drops for
any other reason is reconnected with exponential backoff and jitter up to ``backoff_max`` (2 s), counted in the
live view and the report (reconnects, failed attempts).
"""

from __future__ import annotations

import datetime as _dt
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from hftx import _core
from hftx.config import Config
from hftx.report import format_text, record_session, write_report
from hftx.session import Session, SessionStats

if TYPE_CHECKING:
    from hftx.metrics import MetricsServer

__all__ = ["LIVE_REFRESH_S", "RunOutcome", "SessionFailed", "SessionSource", "check_run_dir", "default_run_dir", "run"]

LIVE_REFRESH_S = 0.25  # live view: 4 Hz
PLAIN_LINE_S = 1.0  # --no-live / not a terminal: one line per second

_COUNTERS = ("md_messages", "md_errors", "depth_updates", "book_tickers", "trades", "resyncs", "gaps", "crossed",
             "top_first", "top_first_mismatch", "orders_sent", "orders_acked", "fills", "cancels_sent", "cancelled",
             "venue_rejects", "orders_lost", "risk_rejects", "impossible_updates", "unknown_orders", "queue_drops",
             "reconnects", "reconnect_failures", "logons", "checksum_mismatches")
_THREAD_USAGE = ("cpu_s", "runqueue_wait_s", "minor_faults", "major_faults", "voluntary_switches",
                 "involuntary_switches")
_GAUGES = ("position", "realized_pnl", "unrealized_pnl", "open_orders", "kill_switch", "events_per_s", "elapsed_s",
           "filled_qty")


class SessionSource:
    """A ``hftx.metrics.MetricsSource`` over a running :class:`hftx.Session` (empty before it starts)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _stats(self) -> dict[str, float] | None:
        try:
            return self._session.stats().as_dict()
        except RuntimeError:  # not started yet
            return None

    def stage_histograms(self) -> Mapping[str, _core.LatencyHistogram]:
        try:
            return self._session.latencies()
        except RuntimeError:
            return {}

    def counters(self) -> Mapping[str, int]:
        s = self._stats()
        if s is None:
            return {}
        out = {k: int(s[k]) for k in _COUNTERS}
        out.update({k: int(v) for k, v in s.items() if k.startswith("risk_reject_")})
        return out

    def gauges(self) -> Mapping[str, float]:
        s = self._stats()
        return {} if s is None else {k: float(s[k]) for k in _GAUGES}

    def thread_usage(self) -> Mapping[str, Mapping[str, float | None]]:
        try:
            threads = self._session.system_report()["threads"]
        except RuntimeError:
            return {}
        return {t["name"]: {k: t[k] for k in _THREAD_USAGE} for t in threads}

    def pool_stats(self) -> Mapping[str, Mapping[str, float]]:
        return {}


def default_run_dir(now: _dt.datetime | None = None) -> Path:
    """runs/<UTC timestamp> under the working directory."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return Path("runs") / now.strftime("%Y%m%d-%H%M%S")


def _us(ns: float) -> str:
    return f"{ns / 1000:,.1f} µs" if ns else "-"


def _live_table(s: SessionStats, duration: float | None) -> Table:
    t = Table(title="hftx run" + (f" — {s.elapsed_s:,.1f} / {duration:g} s" if duration else
                                  f" — {s.elapsed_s:,.1f} s (Ctrl-C stops)"), show_header=False, min_width=60)
    t.add_column("", style="bold cyan")
    t.add_column("", justify="right")
    t.add_column("", style="bold cyan")
    t.add_column("", justify="right")
    drops = s.queue_drops + s.md_errors
    t.add_row("events / s", f"{s.events_per_s:,.0f}", "market msgs", f"{s.md_messages:,}")
    t.add_row("orders sent", f"{s.orders_sent:,}", "fills", f"{s.fills:,}")
    t.add_row("open orders", f"{s.open_orders:,}", "risk rejects", f"{s.risk_rejects:,}")
    t.add_row("position", f"{s.position:,.6g}", "PnL", f"{s.pnl:,.4f}")
    t.add_row("tick-to-trade p50", _us(s.ttt_p50_ns), "p99", _us(s.ttt_p99_ns))
    t.add_row("resyncs", f"{s.resyncs:,}", "drops", f"{drops:,}")
    reconnects = f"{s.reconnects:,}" + (f" ({s.reconnect_failures:,} failed)" if s.reconnect_failures else "")
    t.add_row("reconnects", reconnects, "kill switch", "[red]TRIPPED[/]" if s.kill_switch else "off")
    return t


def _plain_line(s: SessionStats) -> str:
    return (f"t={s.elapsed_s:6.1f}s events/s {s.events_per_s:,.0f} orders {s.orders_sent:,} fills {s.fills:,} "
            f"pos {s.position:.6g} pnl {s.pnl:,.4f} ttt p50 {_us(s.ttt_p50_ns)} p99 {_us(s.ttt_p99_ns)} "
            f"resyncs {s.resyncs:,} drops {s.queue_drops + s.md_errors:,} reconnects {s.reconnects:,}"
            + (f" ({s.reconnect_failures:,} failed)" if s.reconnect_failures else ""))


class SessionFailed(_core.ConnectionError):
    """The run ended without what a run is for: the venue will not take a connection back (a permanent close code,
    a refused upgrade, a certificate that does not verify), or no market data came at all. The report is written
    first; ``hftx run`` then exits 3."""


@dataclass
class RunOutcome:
    run_dir: Path
    interrupted: bool
    stats: SessionStats
    metrics_port: int | None


class _Stopper:
    """SIGTERM behaves like Ctrl-C; while the report is being written a first Ctrl-C only says so."""

    def __init__(self, err: Console) -> None:
        self._err = err
        self._old_term: Any = None
        self._old_int: Any = None

    def __enter__(self) -> _Stopper:
        self._old_term = signal.signal(signal.SIGTERM, self._raise)
        return self

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    def finishing(self) -> None:
        if self._old_int is not None:
            return

        def once(signum: int, frame: FrameType | None) -> None:
            self._err.print("hftx run: stopping and writing the report; Ctrl-C again aborts")
            signal.signal(signal.SIGINT, signal.default_int_handler)
        self._old_int = signal.signal(signal.SIGINT, once)
        signal.signal(signal.SIGTERM, once)

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGTERM, self._old_term)
        if self._old_int is not None:
            signal.signal(signal.SIGINT, self._old_int)


def check_run_dir(run_dir: Path) -> None:
    """Raises ``hftx.ConfigError`` when the report could not be written to ``run_dir``: checked before the
    session starts, so that a run is never lost at its end. Creates nothing."""
    if run_dir.exists():
        if not run_dir.is_dir():
            raise _core.ConfigError(f"report directory {run_dir}: exists and is not a directory; expected a "
                                    "directory, or a path where one can be created")
        target = run_dir
    else:
        target = next(p for p in run_dir.parents if p.exists())  # ends at '/' or '.'
        if not target.is_dir():
            raise _core.ConfigError(f"report directory {run_dir}: {target} is not a directory")
    if not os.access(target, os.W_OK | os.X_OK):
        raise _core.ConfigError(f"report directory {run_dir}: {target} is not writable")


def run(cfg: Config, *, duration: float | None, run_dir: Path | None, live: bool | None, out: Console,
        err: Console, argv: list[str] | None = None) -> RunOutcome:
    """Runs a session as ``hftx run`` does; exceptions (config, connection, port) propagate to the caller."""
    from hftx.metrics import serve_metrics

    run_dir = run_dir or (Path(cfg.report.dir) if cfg.report.dir else default_run_dir())
    check_run_dir(run_dir)
    use_live = (out.is_terminal if live is None else live) and out.is_terminal
    session = Session(cfg)
    server: MetricsServer | None = None
    interrupted = False
    with _Stopper(err) as stopper:
        try:
            if cfg.metrics.enabled:
                try:
                    server = serve_metrics(cfg.metrics.port, SessionSource(session))
                except OSError as exc:
                    raise OSError(exc.errno, f"metrics.port {cfg.metrics.port} is in use or not allowed ({exc.strerror}"
                                  "); choose another port, or 0 for any free one") from None
                out.print(f"metrics on http://127.0.0.1:{server.port}/metrics", highlight=False)
            try:
                session.start()
                for note in session.notes:
                    out.print(f"hftx run: {note}", highlight=False)
                how = f"for {duration:g} s" if duration is not None else "until Ctrl-C"
                out.print(f"hftx run: running {how} — {cfg.source} (sha256 {cfg.hash()[:12]}); Ctrl-C stops and "
                          f"writes the report to {run_dir}", highlight=False)
                sys.stdout.flush()
                if use_live:
                    with Live(console=out, auto_refresh=False, transient=False) as view:
                        def tick(s: Session) -> None:
                            view.update(_live_table(s.stats(), duration), refresh=True)
                        session.run(duration, on_tick=tick, tick_interval=LIVE_REFRESH_S)
                else:
                    last = [time.monotonic()]

                    def line(s: Session) -> None:
                        now = time.monotonic()
                        if now - last[0] >= PLAIN_LINE_S:
                            last[0] = now
                            out.print(_plain_line(s.stats()), highlight=False)
                            sys.stdout.flush()
                    session.run(duration, on_tick=line, tick_interval=LIVE_REFRESH_S)
            except KeyboardInterrupt:
                interrupted = True
                if session.started_at is None:
                    raise
                err.print("hftx run: interrupted — stopping the session")
        finally:
            stopper.finishing()
            try:
                session.stop()
            finally:
                if server is not None:
                    server.close()
        record = record_session(session, interrupted=interrupted, argv=argv or [])
        write_report(record, run_dir, plots=cfg.report.plots)
    stats = session.stats()
    out.print(format_text(_load_report(run_dir)), highlight=False, markup=False)
    out.print(f"report: {run_dir}/index.html (and report.txt, report.json, traces.json, *.hgrm)", highlight=False)
    if session.failure:
        raise SessionFailed(f"the session stopped: {session.failure} (report in {run_dir})")
    if stats.md_messages == 0:
        url = session.core_config["venue"]["market_url"]
        raise SessionFailed(f"no market data in {stats.elapsed_s:.1f} s from {url} (report in {run_dir})")
    return RunOutcome(run_dir, interrupted, stats, None if server is None else server.port)


def _load_report(run_dir: Path) -> dict[str, Any]:
    from hftx.report import load_record

    return load_record(run_dir)[0]

