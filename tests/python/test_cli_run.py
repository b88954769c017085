"""`hftx run` end to end against the in-process simulator, and the hftx.Session API.

Needs the session binding (_core.Session / _core.Simulator): skipped until it exists.
"""

from __future__ import annotations

import json
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

import numpy as np
import pytest
import yaml

import hftx
from hftx import _core

if not (hasattr(_core, "Session") and hasattr(_core, "Simulator")):
    pytest.skip("the session binding (_core.Session, _core.Simulator) is not built yet", allow_module_level=True)

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "conf" / "demo.yaml"
STAGES = tuple(hftx.LatencyTracker.stages)
PCTS = ("min_ns", "p50_ns", "p90_ns", "p99_ns", "p99.9_ns", "max_ns")


def _hftx(*args: str) -> list[str]:
    return [sys.executable, "-m", "hftx", *args]


def _check_run_dir(run: Path, *, interrupted: bool) -> dict[str, object]:
    for name in ("report.json", "report.txt", "index.html", "traces.json", "timeline.npz", "tick_to_trade.png",
                 "mid_orders_fills.png", "tick_to_trade.hgrm", "latency_tick_to_trade.png"):
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    report = json.loads((run / "report.json").read_text())
    assert report["interrupted"] is interrupted
    orders = report["orders"]
    assert orders["fills"] <= orders["orders_sent"]
    assert orders["orders_acked"] <= orders["orders_sent"]
    assert report["market_data"]["md_messages"] > 0
    for stage in STAGES:
        row = report["latency"][stage]
        assert (run / f"{stage}.hgrm").is_file()
        if row["count"]:
            values = [row[k] for k in PCTS]
            assert values == sorted(values), (stage, values)
    assert report["latency"]["tick_to_trade"]["count"] > 0
    json.loads((run / "traces.json").read_text())
    return report


def _read_until(stream: IO[str], pattern: str, timeout: float, seen: list[str]) -> str:
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sel.select(timeout=0.2):
            line = stream.readline()
            if not line:
                break
            seen.append(line)
            if pattern in line:
                return line
    raise AssertionError(f"{pattern!r} not printed within {timeout} s; output so far:\n{''.join(seen)}")


def test_run_demo_for_5_seconds(tmp_path: Path) -> None:
    run = tmp_path / "run"
    out = subprocess.run(_hftx("run", str(DEMO), "--duration", "5", "--report", str(run)), capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = _check_run_dir(run, interrupted=False)
    assert report["config_hash"] == hftx.load_config(DEMO).hash()
    assert 4.5 <= float(report["duration_s"]) <= 15  # type: ignore[arg-type]
    assert "tick_to_trade" in out.stdout and "index.html" in out.stdout
    assert "t=" in out.stdout  # a progress line per second when stdout is not a terminal


def test_run_okx_against_the_simulated_okx(tmp_path: Path) -> None:
    """conf/okx.yaml: the market maker and the latency probe trade a simulated OKX (books-l2-tbt checked by its
    checksum, the private API with login) through the same session as Binance's."""
    run = tmp_path / "run"
    out = subprocess.run(_hftx("run", str(ROOT / "conf" / "okx.yaml"), "--duration", "3", "--report", str(run)),
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = _check_run_dir(run, interrupted=False)
    stats = report["stats"]
    assert isinstance(stats, dict)
    assert stats["logons"] == 1 and stats["orders_acked"] > 0 and stats["cancelled"] > 0
    assert stats["md_errors"] == 0 and stats["checksum_mismatches"] == 0 and stats["gaps"] == 0
    assert stats["queue_drops"] == 0, "orders went out before the login was accepted"
    config = report["config"]
    assert isinstance(config, dict) and config["venue"]["dialect"] == "okx"


def test_sigint_stops_cleanly_and_writes_the_report(tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = subprocess.Popen(_hftx("run", str(DEMO), "--duration", "60", "--report", str(run), "--no-live"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        _read_until(proc.stdout, "running for", 60, seen)
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(seen) + stdout + stderr
    assert "interrupted" in stderr
    report = _check_run_dir(run, interrupted=True)
    assert float(report["duration_s"]) < 30  # type: ignore[arg-type]


def test_metrics_are_scraped_during_a_run(tmp_path: Path) -> None:
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["metrics"] = {"enabled": True, "port": 0}
    path = tmp_path / "metrics.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.Popen(_hftx("run", str(path), "--duration", "30", "--report", str(tmp_path / "run"),
                                  "--no-live"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        line = _read_until(proc.stdout, "metrics on http://", 60, seen)
        url = line.split("metrics on ", 1)[1].strip()
        _read_until(proc.stdout, "running for", 60, seen)
        time.sleep(2.0)
        text = urllib.request.urlopen(url, timeout=10).read().decode()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    ttt = fams["hftx_tick_to_trade_seconds"]
    assert ttt.type == "histogram"
    count = next(s.value for s in ttt.samples if s.name.endswith("_count"))
    assert count > 0
    md = fams["hftx_md_messages"]
    assert md.type == "counter" and md.samples[0].value > 0
    assert {"hftx_position", "hftx_realized_pnl", "hftx_open_orders"} <= set(fams)
    # Per thread: what the session thread has cost so far (it has run for seconds, so CPU time is not zero).
    cpu = {s.labels["thread"]: s.value for s in fams["hftx_thread_cpu_seconds"].samples}
    assert cpu.get("hftx-session", 0) > 0, cpu
    faults = {(s.labels["thread"], s.labels["kind"]) for s in fams["hftx_thread_page_faults"].samples}
    assert {("hftx-session", "minor"), ("hftx-session", "major")} <= faults
    kinds = {s.labels["kind"] for s in fams["hftx_thread_context_switches"].samples}
    assert kinds == {"voluntary", "involuntary"}
    assert proc.returncode == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_exit_3(tmp_path: Path) -> None:
    port = _free_port()
    path = tmp_path / "refused.yaml"
    path.write_text(f"venue: {{market_url: 'ws://127.0.0.1:{port}/stream', api_url: 'ws://127.0.0.1:{port}/ws-api/v3',"
                    " connect_timeout_ms: 500}\n")
    out = subprocess.run(_hftx("run", str(path), "--duration", "2", "--report", str(tmp_path / "r")),
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "cannot connect" in out.stderr
    assert not (tmp_path / "r" / "report.json").exists()


def _external_sim(**over: object) -> hftx.Simulator:
    sim = hftx.Simulator({"simulator": {"event_rate": 2000, "depth_levels": 50, **over},
                          "instruments": [{"symbol": "BTCUSDT"}]})
    sim.start()
    return sim


def test_a_permanent_close_stops_the_run_with_exit_3(tmp_path: Path) -> None:
    """A market URL with a wrong path: the venue closes with 1008. The session gives up at once (no reconnect storm:
    Binance bans that), writes the report, and exits 3 with a line naming the URL and the reason."""
    sim = _external_sim()
    try:
        bad = sim.market_url().replace("/stream", "/wrong")
        path = tmp_path / "wrong.yaml"
        path.write_text(f"venue: {{market_url: '{bad}', api_url: '{sim.api_url()}'}}\n")
        t0 = time.monotonic()
        out = subprocess.run(_hftx("run", str(path), "--duration", "30", "--no-live", "--report", str(tmp_path / "r")),
                             capture_output=True, text=True, timeout=90, check=False)
        took = time.monotonic() - t0
        accepted = sim.stats()["accepted"]
    finally:
        sim.stop()
    assert out.returncode == 3, out.stdout + out.stderr
    assert took < 20, f"the run went on for {took:.1f} s"
    assert "/wrong" in out.stderr and "1008" in out.stderr and "unknown path" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert "1008" in report["failure"]
    assert accepted <= 3, f"{accepted} connections: the session reconnected to a path that will not work"


def test_a_run_without_market_data_is_not_a_success(tmp_path: Path) -> None:
    sim = _external_sim()
    sim.pause_market(True)
    try:
        path = tmp_path / "quiet.yaml"
        path.write_text(f"venue: {{market_url: '{sim.market_url()}', api_url: '{sim.api_url()}'}}\n")
        out = subprocess.run(_hftx("run", str(path), "--duration", "2", "--no-live", "--report", str(tmp_path / "r")),
                             capture_output=True, text=True, timeout=90, check=False)
    finally:
        sim.stop()
    assert out.returncode == 3, out.stdout + out.stderr
    assert "no market data" in out.stderr and sim.market_url() in out.stderr, out.stderr
    assert (tmp_path / "r" / "report.json").exists()


def test_simulator_port_in_use_is_exit_3(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = tmp_path / "busy.yaml"
        path.write_text(f"simulator: {{port: {port}}}\n")
        out = subprocess.run(_hftx("run", str(path), "--duration", "2", "--report", str(tmp_path / "r")),
                             capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 3, out.stdout + out.stderr


def test_session_arena_follows_enable_huge_pages() -> None:
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["hft"]["performance"]["enable_huge_pages"] = False
    with hftx.Session(cfg) as s:
        mem = s.system_report()["memory"]
    assert mem["pages"] == "normal" and mem["huge_backed_bytes"] == 0 and mem["populated"]


def test_python_api(tmp_path: Path) -> None:
    with hftx.Session(DEMO) as s:
        assert s.simulator is not None and s.simulator.port > 0
        assert s.core_config["venue"]["market_url"] == s.simulator.market_url()
        s.run(3)
        stats = s.stats()
        assert isinstance(stats, hftx.SessionStats)
        assert stats.md_messages > 0 and stats.fills <= stats.orders_sent
        # session.top_first (the demo's setting): diffs acted on before they are applied, each top right
        assert 0 < stats.top_first <= stats.depth_updates and stats.top_first_mismatch == 0
        h = s.latency("tick_to_trade")
        assert isinstance(h, hftx.LatencyHistogram) and h.count > 0
        books = s.books()
        assert books["BTCUSDT"]["synced"]
        bids, asks = books["BTCUSDT"]["bids"], books["BTCUSDT"]["asks"]
        assert bids.shape[1] == 2 and asks.shape[1] == 2 and bids[0, 0] < asks[0, 0]
        assert {p["symbol"] for p in s.positions()} == {"BTCUSDT"}
        tl = s.timeline()
        assert tl["ttt_ns"].size == tl["ttt_t_ns"].size > 0
        # The logs live in the session's arena: pre-faulted, carved to the byte count start() sized it for.
        mem = s.system_report()["memory"]
        assert mem["populated"] and 0 < mem["used_bytes"] <= mem["mapped_bytes"]
        assert mem["pages"] in ("normal", "transparent_huge", "hugetlb")
        with pytest.raises(ValueError, match="expected one of"):
            s.latency("nope")
    assert not s.running
    assert s.stats().elapsed_s >= 2.5  # readers still work after stop
    # After stop, each series is an even cover of everything pushed: one sample in `every`, a power of two,
    # from the start of the run to its end (the tick-to-trade samples at ~40,000/s pass 32 Ki within 3 s).
    tl = s.timeline()
    for prefix, ts in (("ttt", "ttt_t_ns"), ("mid", "mid_t_ns"), ("order", "order_t_ns"), ("fill", "fill_t_ns")):
        every, seen, kept = int(tl[f"{prefix}_every"]), int(tl[f"{prefix}_seen"]), tl[ts].size
        assert every & (every - 1) == 0, (prefix, every)
        assert seen // every - 1 <= kept <= (seen + every - 1) // every, (prefix, seen, every, kept)
        assert np.all(np.diff(tl[ts]) >= 0), prefix
    assert int(tl["order_seen"]) == s.stats().orders_sent
    span_s = (int(tl["ttt_t_ns"][-1]) - int(tl["ttt_t_ns"][0])) / 1e9
    assert span_s >= 0.5 * s.stats().elapsed_s, (span_s, int(tl["ttt_every"]))
