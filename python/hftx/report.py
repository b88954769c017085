"""The run report: what a session did, how fast, and what the OS granted — as text, JSON, plots and HTML.

A run directory holds:

- ``report.json``: everything below as data, plus each stage's histogram (HdrHistogram V2, base64) so the run can
  be rendered again; ``report.txt``: the same as tables;
- ``<stage>.hgrm``: HdrHistogram percentile distributions (values in microseconds) for HdrHistogram's plotter;
- ``timeline.npz``: the sampled series (tick-to-trade, mids, own orders, fills);
- ``traces.json``: Chrome trace events (chrome://tracing, https://ui.perfetto.dev);
- with plots: ``latency_<stage>.png`` (histogram and percentile curve, log axes), ``tick_to_trade.png`` (over
  time), ``mid_orders_fills.png`` and ``index.html`` showing it all (no external resources).

``write_report(record, dir)`` writes a run; ``render(dir)`` (``hftx report DIR``) writes every derived file again
from ``report.json`` and ``timeline.npz``.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hftx import _core

if TYPE_CHECKING:
    from hftx.session import Session

__all__ = [
    "PERCENTILES",
    "RunRecord",
    "format_text",
    "latency_row",
    "load_record",
    "record_session",
    "render",
    "write_report",
]

#: The latency table's columns: (label, percentile).
PERCENTILES: tuple[tuple[str, float], ...] = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9))

REPORT_JSON = "report.json"
TIMELINE_NPZ = "timeline.npz"
HGRM_VALUE_SCALE = 1000.0  # .hgrm values in microseconds


@dataclass
class RunRecord:
    """What a report is made of; ``record_session`` builds it from a stopped (or running) session."""

    meta: dict[str, Any]  # hftx_version, config_hash, config_source, started_at, duration_s, interrupted, argv
    stats: dict[str, float]  # Session.stats() as the core reports it (flat)
    latency: dict[str, _core.LatencyHistogram]  # stage -> histogram (ns)
    timeline: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    system: dict[str, Any] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)  # orders known at the end (open and recent)
    config: dict[str, Any] = field(default_factory=dict)
    simulator: dict[str, int] | None = None
    notes: list[str] = field(default_factory=list)
    traces_json: str = '{"traceEvents":[]}'


def record_session(session: Session, *, duration_s: float | None = None, interrupted: bool = False,
                   argv: Sequence[str] = ()) -> RunRecord:
    """Everything the report needs, read from the session (call after ``stop()`` for final figures)."""
    from hftx.session import STAGES

    cfg = session.config
    started = session.started_at
    stats = session.stats()
    meta = {
        "hftx_version": _core.__version__,
        "config_hash": cfg.hash(),
        "config_source": cfg.source,
        "started_at": _dt.datetime.fromtimestamp(started, _dt.timezone.utc).isoformat() if started else None,
        "duration_s": stats.elapsed_s if duration_s is None else duration_s,
        "interrupted": interrupted,
        "failure": session.failure,  # why the session stopped on its own ("" when it did not)
        "argv": list(argv),
        "venue": cfg.venue.name,
        "threading_mode": cfg.threading.mode,
    }
    return RunRecord(
        meta=meta,
        stats=stats.as_dict(),
        latency={s: session.latency(s) for s in STAGES},
        timeline=session.timeline(),
        system=session.system_report(),
        positions=session.positions(),
        orders=session.orders(),
        config=session.core_config,
        simulator=session.simulator_stats(),
        notes=session.notes + ([f"the session stopped on its own: {session.failure}"] if session.failure else []),
        traces_json=session.traces_json(),
    )


# ---- the data --------------------------------------------------------------------------------------------


def latency_row(h: _core.LatencyHistogram) -> dict[str, Any]:
    """count, min/mean/max and the table's percentiles (ns) of one histogram; None where it is empty."""
    empty = h.count == 0
    row: dict[str, Any] = {
        "count": int(h.count),
        "overflow": int(h.overflow_count),
        "min_ns": None if empty else int(h.min),
        "mean_ns": None if empty else float(h.mean),
    }
    for label, p in PERCENTILES:
        row[f"{label}_ns"] = None if empty else int(h.value_at_percentile(p))
    row["max_ns"] = None if empty else int(h.max)
    return row


def _per_s(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else 0.0


def _report_dict(rec: RunRecord) -> dict[str, Any]:
    s = rec.stats
    seconds = float(rec.meta.get("duration_s") or s.get("elapsed_s", 0.0) or 0.0)
    by_reason = {k.removeprefix("risk_reject_"): int(v) for k, v in s.items() if k.startswith("risk_reject_")}
    return {
        **rec.meta,
        "latency": {
            stage: {**latency_row(h), "encoded": h.encode()} for stage, h in rec.latency.items()
        },
        "throughput": {
            "market_messages_per_s": _per_s(s.get("md_messages", 0), seconds),
            "events_per_s": float(s.get("events_per_s", 0.0)),
            "orders_per_s": _per_s(s.get("orders_sent", 0), seconds),
            "fills_per_s": _per_s(s.get("fills", 0), seconds),
        },
        "market_data": {k: s.get(k, 0) for k in ("md_messages", "md_errors", "depth_updates", "book_tickers",
                                                  "trades", "resyncs", "gaps", "crossed", "top_first",
                                                  "top_first_mismatch", "checksum_mismatches", "reconnects",
                                                  "reconnect_failures", "queue_drops")},
        "orders": {k: s.get(k, 0) for k in ("orders_sent", "orders_acked", "fills", "filled_qty", "cancels_sent",
                                             "cancelled", "venue_rejects", "orders_lost", "open_orders",
                                             "impossible_updates", "unknown_orders")},
        "risk_rejections": {"total": int(s.get("risk_rejects", 0)), "by_reason": by_reason,
                            "kill_switch": bool(s.get("kill_switch", 0))},
        "pnl": {k: s.get(k, 0.0) for k in ("position", "realized_pnl", "unrealized_pnl")},
        "positions": rec.positions,
        "orders_at_end": len(rec.orders),
        "system": rec.system,
        "simulator": rec.simulator,
        "notes": rec.notes,
        "stats": s,
        "config": rec.config,
    }


# ---- text ------------------------------------------------------------------------------------------------


def _us(ns: float | None) -> str:
    if ns is None:
        return "-"
    us = ns / 1000.0
    return f"{us:,.2f}" if us < 1000 else f"{us:,.0f}"


def _num(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() and abs(v) >= 1 else f"{v:,.6g}"
    return str(v)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], indent: str = "  ") -> list[str]:
    rows = [list(r) for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return (indent + "  ".join([first, *rest])).rstrip()
    return [line(headers), *(line(r) for r in rows)]


def _records_table(records: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]]]:
    keys: list[str] = []
    for r in records:
        keys += [k for k in r if k not in keys and not isinstance(r[k], (dict, list))]
    return keys, [[_num(r.get(k, "")) for k in keys] for r in records]


def format_text(report: Mapping[str, Any]) -> str:
    """The report as plain-text tables (report.txt and the terminal)."""
    out: list[str] = []
    when = report.get("started_at") or "?"
    out.append(f"hftx {report.get('hftx_version')} run report — started {when}, "
               f"{float(report.get('duration_s') or 0):.2f} s{' (interrupted)' if report.get('interrupted') else ''}")
    out.append(f"config: {report.get('config_source')}  sha256 {report.get('config_hash')}")
    out.append(f"venue: {report.get('venue')}, threading: {report.get('threading_mode')}")
    out.append("")
    out.append("Latency per stage (microseconds)")
    rows = []
    for stage, r in report["latency"].items():
        rows.append([stage, _num(r["count"]), *(_us(r[f"{label}_ns"]) for label, _ in PERCENTILES),
                     _us(r["max_ns"])])
    out += _table(["stage", "count", *(label for label, _ in PERCENTILES), "max"], rows)
    out.append("")
    t = report["throughput"]
    out.append("Throughput")
    out += _table(["", "per second"], [
        ["market messages", _num(round(t["market_messages_per_s"]))],
        ["book/trade events", _num(round(t["events_per_s"]))],
        ["orders", _num(round(t["orders_per_s"]))],
        ["fills", _num(round(t["fills_per_s"]))],
    ])
    out.append("")
    md = report["market_data"]
    out.append("Market data")
    out += _table(["", "count"], [[k.replace("_", " "), _num(v)] for k, v in md.items()])
    out.append("")
    o = report["orders"]
    out.append("Orders")
    out += _table(["", "count"], [[k.replace("_", " "), _num(v)] for k, v in o.items()])
    out.append("")
    rr = report["risk_rejections"]
    out.append(f"Risk rejections: {rr['total']:,}" + ("  — KILL SWITCH TRIPPED" if rr["kill_switch"] else ""))
    nonzero = [[k, _num(v)] for k, v in rr["by_reason"].items() if v]
    if nonzero:
        out += _table(["reason", "count"], nonzero)
    out.append("")
    pnl = report["pnl"]
    out.append(f"Position {_num(pnl['position'])}  realised PnL {pnl['realized_pnl']:,.4f}  "
               f"unrealised PnL {pnl['unrealized_pnl']:,.4f}")
    if report.get("positions"):
        keys, prow = _records_table(report["positions"])
        out += _table(keys, prow)
    out.append("")
    out += _system_text(report.get("system") or {})
    notes = list(report.get("notes") or [])
    if notes:
        out.append("")
        out.append("Notes")
        out += [f"  - {n}" for n in notes]
    if report.get("simulator"):
        out.append("")
        out.append("Simulator: " + ", ".join(f"{k} {_num(v)}" for k, v in report["simulator"].items()))
    return "\n".join(out) + "\n"


def _system_text(system: Mapping[str, Any]) -> list[str]:
    out = ["What the OS granted" + (f" (mode {system['mode']})" if system.get("mode") else "")]
    threads = system.get("threads") or []
    if threads:
        keys, rows = _records_table(threads)
        out += _table(keys, rows)
    for key, value in system.items():
        if key in ("threads", "notes", "mode"):
            continue
        if isinstance(value, Mapping):
            out.append(f"  {key}: " + ", ".join(f"{k} {_num(v)}" for k, v in value.items()
                                                if not isinstance(v, (dict, list))))
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            out.append(f"  {key}:")
            keys, rows = _records_table(value)
            out += _table(keys, rows, indent="    ")
        else:
            out.append(f"  {key}: {_num(value) if not isinstance(value, list) else ', '.join(map(str, value))}")
    out += [f"  - {n}" for n in system.get("notes") or []]
    return out


# ---- plots -----------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plain_log(*axes: Any) -> None:
    """Log axes labelled 0.5, 2, 10, 300 rather than 5x10^-1."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fmt = FuncFormatter(lambda v, _pos: f"{v:g}")
    for axis in axes:
        axis.set_major_formatter(fmt)
        axis.set_minor_formatter(NullFormatter())


def _plot_latency(stage: str, h: _core.LatencyHistogram, path: Path) -> None:
    plt = _pyplot()
    fig, (ax_h, ax_p) = plt.subplots(1, 2, figsize=(11, 4))
    fig.suptitle(f"{stage}: {h.count:,} samples, p50 {_us(h.value_at_percentile(50))} µs, "
                 f"p99 {_us(h.value_at_percentile(99))} µs, max {_us(h.max)} µs")
    lo, hi, counts = h.buckets()
    mid_us = (lo.astype(np.float64) + hi.astype(np.float64)) / 2.0 / 1000.0
    lo_us, hi_us = max(float(mid_us.min()), 1e-3), max(float(mid_us.max()), 2e-3)
    edges = np.geomspace(lo_us / 1.05, hi_us * 1.05, 61)
    binned, _ = np.histogram(mid_us, bins=edges, weights=counts.astype(np.float64))
    ax_h.stairs(binned, edges, fill=True, alpha=0.7, color="tab:blue")
    ax_h.set_xscale("log")
    ax_h.set_yscale("log")
    _plain_log(ax_h.xaxis)
    ax_h.set_xlabel("latency (µs)")
    ax_h.set_ylabel("count")
    ax_h.set_title("histogram")
    ax_h.grid(True, which="both", alpha=0.3)

    p, v, _ = h.percentile_table(5)
    keep = p < 100.0
    x = 1.0 / (1.0 - p[keep] / 100.0)
    ax_p.plot(x, v[keep] / 1000.0, color="tab:red", drawstyle="steps-post")
    ax_p.set_xscale("log")
    ax_p.set_yscale("log")
    _plain_log(ax_p.yaxis)
    ticks = [t for t in (2, 10, 100, 1000, 10000, 100000) if t <= max(float(x.max()), 10.0)]
    labels = {2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 10000: "99.99%", 100000: "99.999%"}
    ax_p.set_xticks(ticks, [labels[t] for t in ticks])
    ax_p.set_xlabel("percentile")
    ax_p.set_ylabel("latency (µs)")
    ax_p.set_title("percentile distribution")
    ax_p.grid(True, which="both", alpha=0.3)
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    """Writes a figure as the report's PNGs are written, and frees it (pyplot keeps every open figure)."""
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)


def _times(tl: Mapping[str, npt.NDArray[Any]]) -> float:
    starts = [float(tl[k].min()) for k in ("ttt_t_ns", "mid_t_ns", "order_t_ns", "fill_t_ns")
              if k in tl and tl[k].size]
    return min(starts) if starts else 0.0


def _shown(tl: Mapping[str, npt.NDArray[Any]], prefix: str) -> str:
    """How many samples of a series a plot shows: all, or one in `every` of the run's, evenly spread."""
    kept = tl.get(f"{prefix}_t_ns", np.empty(0)).size
    every = int(tl.get(f"{prefix}_every", 1))
    return f"{kept:,}" if every == 1 else f"{kept:,} of {int(tl.get(f'{prefix}_seen', 0)):,}: 1 in {every:,}"


def _plot_ttt(tl: Mapping[str, npt.NDArray[Any]], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 4))
    t = tl.get("ttt_t_ns", np.empty(0))
    y = tl.get("ttt_ns", np.empty(0))
    if t.size:
        secs = (t.astype(np.float64) - _times(tl)) / 1e9
        us = y.astype(np.float64) / 1000.0
        ax.scatter(secs, us, s=3, alpha=0.35, color="tab:blue", label="sample", rasterized=True)
        width = max(float(secs.max() - secs.min()) / 50.0, 1e-3)
        # The last sample belongs to the last window, not to a 51st window of its own (a one-sample "p99").
        bins = np.minimum(np.floor((secs - secs.min()) / width).astype(np.int64), 49)
        centers, p50, p99 = [], [], []
        for b in np.unique(bins):
            sel = us[bins == b]
            centers.append(float(secs.min()) + (float(b) + 0.5) * width)
            p50.append(float(np.percentile(sel, 50)))
            p99.append(float(np.percentile(sel, 99)))
        ax.plot(centers, p50, color="tab:green", label="p50 per window")
        ax.plot(centers, p99, color="tab:red", label="p99 per window")
        ax.set_yscale("log")
        _plain_log(ax.yaxis)
        ax.legend(loc="upper right")
        ax.set_title(f"tick-to-trade over time ({_shown(tl, 'ttt')} samples)")
    else:
        ax.text(0.5, 0.5, "no tick-to-trade samples", ha="center", va="center", transform=ax.transAxes)
        ax.set_title("tick-to-trade over time")
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("tick-to-trade (µs)")
    ax.grid(True, which="both", alpha=0.3)
    _save(fig, path)


def _plot_mid(tl: Mapping[str, npt.NDArray[Any]], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 5))
    t0 = _times(tl)

    def secs(key: str) -> npt.NDArray[np.float64]:
        return (tl[key].astype(np.float64) - t0) / 1e9

    drawn = False
    if tl.get("mid_t_ns", np.empty(0)).size:
        ax.plot(secs("mid_t_ns"), tl["mid"], color="0.3", lw=0.8, label="mid")
        drawn = True
    for key, side_key, price_key, size, alpha, edge, what in (
        ("order_t_ns", "order_side", "order_price", 10, 0.35, "none", "order"),
        ("fill_t_ns", "fill_side", "fill_price", 40, 0.9, "black", "fill"),
    ):
        if not tl.get(key, np.empty(0)).size:
            continue
        side = tl[side_key]
        for sign, marker, colour, name in ((1, "^", "tab:green", "buy"), (-1, "v", "tab:red", "sell")):
            sel = side == sign
            if np.any(sel):
                ax.scatter(secs(key)[sel], tl[price_key][sel], s=size, marker=marker, color=colour, alpha=alpha,
                           edgecolors=edge, linewidths=0.5, label=f"{name} {what}", rasterized=True)
                drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "no market or order samples", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(loc="upper right", fontsize="small")
    ax.set_title(f"mid price, own orders ({_shown(tl, 'order')}) and fills ({_shown(tl, 'fill')})")
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("price")
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax.grid(True, alpha=0.3)
    _save(fig, path)


# ---- HTML ------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .7rem;border-bottom:1px solid #eee}
th{text-align:left;background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #eee;margin:.5rem 0}code{background:#f3f3f3;padding:0 .2rem}
.warn{color:#b00}.meta{color:#555}
"""


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="n">{html.escape(c)}</td>' if i >= numeric_from else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(r)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html(report: Mapping[str, Any], images: Sequence[str], files: Sequence[str]) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>hftx run report — {e(str(report.get('started_at')))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>hftx {e(str(report.get('hftx_version')))} run report</h1>",
        f'<p class="meta">started {e(str(report.get("started_at")))}, '
        f"{float(report.get('duration_s') or 0):.2f} s"
        f"{' (interrupted)' if report.get('interrupted') else ''}; venue {e(str(report.get('venue')))}, "
        f"threading {e(str(report.get('threading_mode')))}<br>config <code>{e(str(report.get('config_source')))}"
        f"</code> sha256 <code>{e(str(report.get('config_hash')))}</code></p>",
        "<h2>Latency per stage (µs)</h2>",
        _html_table(
            ["stage", "count", *(label for label, _ in PERCENTILES), "max"],
            ([stage, _num(r["count"]), *(_us(r[f"{label}_ns"]) for label, _ in PERCENTILES), _us(r["max_ns"])]
             for stage, r in report["latency"].items()),
        ),
    ]
    t = report["throughput"]
    parts += ["<h2>Throughput and counts</h2>", _html_table(["", "value"], [
        ["market messages / s", _num(round(t["market_messages_per_s"]))],
        ["book/trade events / s", _num(round(t["events_per_s"]))],
        ["orders / s", _num(round(t["orders_per_s"]))],
        ["fills / s", _num(round(t["fills_per_s"]))],
        *([k.replace("_", " "), _num(v)] for k, v in report["market_data"].items()),
        *([k.replace("_", " "), _num(v)] for k, v in report["orders"].items()),
    ])]
    rr = report["risk_rejections"]
    parts.append(f"<h2>Risk rejections: {rr['total']:,}</h2>")
    if rr["kill_switch"]:
        parts.append('<p class="warn">The kill switch tripped.</p>')
    nonzero = [[k, _num(v)] for k, v in rr["by_reason"].items() if v]
    if nonzero:
        parts.append(_html_table(["reason", "count"], nonzero))
    pnl = report["pnl"]
    parts.append(f"<h2>Position and PnL</h2><p>position {e(_num(pnl['position']))}, realised "
                 f"{pnl['realized_pnl']:,.4f}, unrealised {pnl['unrealized_pnl']:,.4f}</p>")
    if report.get("positions"):
        keys, rows = _records_table(report["positions"])
        parts.append(_html_table(keys, rows))
    parts.append("<h2>Plots</h2>")
    parts += [f'<figure><img src="{e(name)}" alt="{e(name)}"></figure>' for name in images]
    if not images:
        parts.append("<p>Plots were not made (report.plots: false).</p>")
    parts.append("<h2>What the OS granted</h2><pre>" + e("\n".join(_system_text(report.get("system") or {})))
                 + "</pre>")
    notes = list(report.get("notes") or [])
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    parts.append("<h2>Files</h2><ul>" + "".join(f'<li><a href="{e(f)}">{e(f)}</a></li>' for f in files) + "</ul>")
    parts.append("<p class=\"meta\">traces.json opens in https://ui.perfetto.dev or chrome://tracing; "
                 ".hgrm files (µs) in HdrHistogram's plotter.</p></body></html>")
    return "\n".join(parts) + "\n"


# ---- writing and re-rendering ----------------------------------------------------------------------------


def _derived(report: Mapping[str, Any], latency: Mapping[str, _core.LatencyHistogram],
             timeline: Mapping[str, npt.NDArray[Any]], run_dir: Path, plots: bool) -> list[Path]:
    written: list[Path] = []
    for stage, h in latency.items():
        p = run_dir / f"{stage}.hgrm"
        p.write_text(h.percentile_distribution(HGRM_VALUE_SCALE))
        written.append(p)
    images: list[str] = []
    if plots:
        for stage, h in latency.items():
            if h.count:
                name = f"latency_{stage}.png"
                _plot_latency(stage, h, run_dir / name)
                images.append(name)
        _plot_ttt(timeline, run_dir / "tick_to_trade.png")
        _plot_mid(timeline, run_dir / "mid_orders_fills.png")
        images = ["tick_to_trade.png", "mid_orders_fills.png", *images]
        written += [run_dir / n for n in images]
    text = run_dir / "report.txt"
    text.write_text(format_text(report))
    written.append(text)
    files = [REPORT_JSON, "report.txt", TIMELINE_NPZ, "traces.json", *(f"{s}.hgrm" for s in latency)]
    index = run_dir / "index.html"
    index.write_text(_html(report, images, files))
    written.append(index)
    return written


def write_report(rec: RunRecord, run_dir: str | os.PathLike[str], *, plots: bool = True) -> list[Path]:
    """Writes the run directory (created if needed); returns the files written."""
    d = Path(run_dir)
    d.mkdir(parents=True, exist_ok=True)
    report = _report_dict(rec)
    (d / REPORT_JSON).write_text(json.dumps(report, indent=2, default=_json_default, allow_nan=False) + "\n")
    arrays: dict[str, Any] = {k: np.asarray(v) for k, v in rec.timeline.items()}
    np.savez_compressed(d / TIMELINE_NPZ, **arrays)
    (d / "traces.json").write_text(rec.traces_json)
    return [d / REPORT_JSON, d / TIMELINE_NPZ, d / "traces.json",
            *_derived(report, rec.latency, rec.timeline, d, plots)]


def _json_default(v: object) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def load_record(run_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, _core.LatencyHistogram],
                                                           dict[str, npt.NDArray[Any]]]:
    """(report dict, stage histograms, timeline arrays) of a written run."""
    d = Path(run_dir)
    path = d / REPORT_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{d}: not a run directory (no {REPORT_JSON})")
    report = json.loads(path.read_text())
    latency = {stage: _core.LatencyHistogram.decode(r["encoded"]) for stage, r in report["latency"].items()}
    tl_path = d / TIMELINE_NPZ
    timeline: dict[str, npt.NDArray[Any]] = {}
    if tl_path.is_file():
        with np.load(tl_path) as z:
            timeline = {k: z[k] for k in z.files}
    return report, latency, timeline


def render(run_dir: str | os.PathLike[str], *, plots: bool = True) -> list[Path]:
    """Writes report.txt, the .hgrm files, the plots and index.html again from report.json and timeline.npz."""
    report, latency, timeline = load_record(run_dir)
    return _derived(report, latency, timeline, Path(run_dir), plots)
