"""The run report: files, figures and re-rendering, from a record built with real histograms and arrays."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hftx
from hftx import report as rp

pytest.importorskip("matplotlib")

STAGES = tuple(hftx.LatencyTracker.stages)


def _stats(**over: float) -> dict[str, float]:
    base = {
        "elapsed_s": 5.0, "md_messages": 100_000, "md_errors": 0, "depth_updates": 40_000, "book_tickers": 40_000,
        "trades": 20_000, "events_per_s": 20_000.0, "resyncs": 1, "gaps": 1, "crossed": 0, "orders_sent": 900,
        "orders_acked": 890, "fills": 120, "filled_qty": 0.12, "cancels_sent": 700, "cancelled": 690,
        "venue_rejects": 3, "risk_rejects": 7, "risk_reject_max_position": 5, "risk_reject_rate": 2,
        "risk_reject_price_band": 0, "impossible_updates": 0, "unknown_orders": 0, "queue_drops": 0,
        "reconnects": 0, "kill_switch": 0, "position": 0.004, "realized_pnl": 1.5, "unrealized_pnl": -0.25,
        "open_orders": 2, "ttt_p50_ns": 9000.0, "ttt_p99_ns": 40000.0,
    }
    base.update(over)
    return base


def make_record(seed: int = 1, samples: int = 20_000) -> rp.RunRecord:
    rng = np.random.default_rng(seed)
    latency = {}
    for i, stage in enumerate(STAGES):
        h = hftx.LatencyHistogram()
        if stage != "risk":  # one empty stage: the report must cope
            values = rng.lognormal(mean=6.0 + 0.3 * i, sigma=0.6, size=samples).astype(np.int64) + 1
            h.record_array(values)
        latency[stage] = h
    t0 = 1_000_000_000_000
    ttt_t = np.sort(rng.integers(t0, t0 + 5_000_000_000, size=3000)).astype(np.int64)
    mid_t = np.arange(t0, t0 + 5_000_000_000, 10_000_000, dtype=np.int64)
    mid = 60_000.0 + np.cumsum(rng.normal(0, 0.5, size=mid_t.size))
    order_t = np.sort(rng.integers(t0, t0 + 5_000_000_000, size=900)).astype(np.int64)
    fill_t = np.sort(rng.choice(order_t, size=120, replace=False))
    timeline = {
        "ttt_t_ns": ttt_t, "ttt_ns": rng.lognormal(9.0, 0.5, size=ttt_t.size).astype(np.int64),
        "mid_t_ns": mid_t, "mid": mid,
        "order_t_ns": order_t, "order_price": np.interp(order_t, mid_t, mid) + rng.normal(0, 2, order_t.size),
        "order_side": rng.choice(np.array([1, -1], dtype=np.int8), size=order_t.size),
        "fill_t_ns": fill_t, "fill_price": np.interp(fill_t, mid_t, mid),
        "fill_qty": np.full(fill_t.size, 0.001), "fill_side": rng.choice(np.array([1, -1], dtype=np.int8), 120),
    }
    system = {
        "mode": "inline",
        "threads": [{"name": "hftx-feed", "core": 1, "pinned": True, "policy": "SCHED_OTHER",
                     "warning": "SCHED_FIFO refused (EPERM)"}],
        "memory_lock": {"requested": True, "locked": False, "error": "EPERM"},
        "notes": ["huge pages: THP madvise"],
    }
    meta = {"hftx_version": hftx.__version__, "config_hash": "ab" * 32, "config_source": "conf/demo.yaml",
            "started_at": "2024-08-08T00:00:00+00:00", "duration_s": 5.0, "interrupted": False, "argv": [],
            "venue": "simulator", "threading_mode": "inline"}
    return rp.RunRecord(meta=meta, stats=_stats(), latency=latency, timeline=timeline, system=system,
                        positions=[{"symbol": "BTCUSDT", "position": 0.004, "avg_price": 60000.1,
                                    "realized_pnl": 1.5, "unrealized_pnl": -0.25}],
                        notes=["simulator (generated) started in process on port 40000"],
                        traces_json='{"traceEvents":[{"name":"parse","ph":"X","ts":1,"dur":2,"pid":1,"tid":1}]}')


def test_report_files_and_figures(tmp_path: Path) -> None:
    rec = make_record()
    written = rp.write_report(rec, tmp_path)
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    for name in ("report.json", "report.txt", "index.html", "traces.json", "timeline.npz", "tick_to_trade.png",
                 "mid_orders_fills.png"):
        assert (tmp_path / name).is_file(), name
    report = json.loads((tmp_path / "report.json").read_text())
    for stage in STAGES:
        assert (tmp_path / f"{stage}.hgrm").is_file()
        row = report["latency"][stage]
        if stage == "risk":
            assert row["count"] == 0 and row["p50_ns"] is None
            assert not (tmp_path / "latency_risk.png").exists()
            continue
        assert (tmp_path / f"latency_{stage}.png").stat().st_size > 10_000
        values = [row["min_ns"], row["p50_ns"], row["p90_ns"], row["p99_ns"], row["p99.9_ns"], row["max_ns"]]
        assert values == sorted(values) and values[0] < values[-1], (stage, values)
        h = rec.latency[stage]
        assert row["count"] == h.count
        assert row["p99_ns"] == h.value_at_percentile(99)
        # The encoding round-trips: re-rendering uses it.
        assert hftx.LatencyHistogram.decode(row["encoded"]).value_at_percentile(99.9) == row["p99.9_ns"]
    assert report["risk_rejections"] == {"total": 7, "by_reason": {"max_position": 5, "rate": 2, "price_band": 0},
                                         "kill_switch": False}
    assert report["orders"]["fills"] <= report["orders"]["orders_sent"]
    assert report["throughput"]["orders_per_s"] == pytest.approx(900 / 5.0)
    assert report["config_hash"] == "ab" * 32
    assert report["system"]["threads"][0]["warning"].startswith("SCHED_FIFO refused")

    text = (tmp_path / "report.txt").read_text()
    assert "tick_to_trade" in text and "p99.9" in text and "SCHED_FIFO refused" in text and "max_position" in text
    hgrm = (tmp_path / "tick_to_trade.hgrm").read_text()
    assert hgrm.splitlines()[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    assert f"Total count    = {rec.latency['tick_to_trade'].count:>12}" in hgrm

    page = (tmp_path / "index.html").read_text()
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) == len(STAGES) - 1 + 2
    referenced = set(re.findall(r'<img src="([^"]+)"', page))
    assert referenced == set(pngs)
    assert "http://" not in page and "https://" not in page.replace("https://ui.perfetto.dev", "")
    with np.load(tmp_path / "timeline.npz") as z:
        np.testing.assert_array_equal(z["ttt_ns"], rec.timeline["ttt_ns"])


def test_no_plots_still_writes_tables(tmp_path: Path) -> None:
    rp.write_report(make_record(), tmp_path, plots=False)
    assert not list(tmp_path.glob("*.png"))
    assert "Plots were not made" in (tmp_path / "index.html").read_text()


def test_empty_timeline_is_drawn_with_a_message(tmp_path: Path) -> None:
    rec = make_record()
    rec.timeline = {}
    rp.write_report(rec, tmp_path)
    assert (tmp_path / "tick_to_trade.png").stat().st_size > 1000
    assert (tmp_path / "mid_orders_fills.png").stat().st_size > 1000


def test_hftx_report_re_renders(tmp_path: Path) -> None:
    rp.write_report(make_record(), tmp_path)
    before = (tmp_path / "report.txt").read_text()
    derived = [*tmp_path.glob("*.png"), *tmp_path.glob("*.hgrm"), tmp_path / "report.txt", tmp_path / "index.html"]
    for p in derived:
        p.unlink()
    out = subprocess.run([sys.executable, "-m", "hftx", "report", str(tmp_path)], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    for p in derived:
        assert p.is_file(), p
    assert (tmp_path / "report.txt").read_text() == before
    assert "tick_to_trade" in out.stdout


def test_hftx_report_on_a_directory_without_a_run(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "hftx", "report", str(tmp_path)], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 2
    assert "no report.json" in out.stderr
