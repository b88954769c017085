"""`hftx run` failures the user can fix: clear messages and exit statuses (no session needed to reach them),
and the pieces of the live view."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

import hftx
from hftx.runner import _live_table, _plain_line, check_run_dir, default_run_dir
from hftx.session import SessionStats, default_config_path


def _hftx(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hftx", *args], capture_output=True, text=True, timeout=60,
                          check=False, cwd=cwd)


def test_missing_config_file(tmp_path: Path) -> None:
    out = _hftx("run", str(tmp_path / "nope.yaml"))
    assert out.returncode == 2
    assert "nope.yaml: no such config file" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_config_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("risk: {max_order_qty: -1}\nthreading: {mode: sideways}\n")
    out = _hftx("run", str(bad), "--report", str(tmp_path / "r"))
    assert out.returncode == 2
    assert "2 problems in the configuration" in out.stderr
    assert "line 1: risk.max_order_qty = -1: expected a value > 0" in out.stderr
    assert "line 2: threading.mode = \"sideways\"" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "r").exists()


def test_bad_duration(tmp_path: Path) -> None:
    out = _hftx("run", "--duration", "-3")
    assert out.returncode == 2 and "--duration -3.0: expected seconds > 0" in out.stderr


def test_metrics_port_in_use_is_exit_3(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = tmp_path / "m.yaml"
        cfg.write_text(f"metrics: {{enabled: true, port: {port}}}\n")
        out = _hftx("run", str(cfg), "--duration", "1", "--report", str(tmp_path / "r"))
    assert out.returncode == 3, out.stderr
    assert f"metrics.port {port} is in use" in out.stderr
    assert "Traceback" not in out.stderr


def test_report_of_a_missing_directory(tmp_path: Path) -> None:
    # A long path with brackets: the message is one line (not wrapped at 80 columns) and printed as written.
    missing = tmp_path / ("[x]" + "d" * 90) / "none"
    out = _hftx("report", str(missing))
    assert out.returncode == 2 and f"{missing}: not a run directory" in out.stderr


def test_default_config_is_packaged() -> None:
    path = default_config_path()
    assert path.is_file() and path.parent.name == "conf" and path.parent.parent.name == "hftx"


def test_default_run_dir_is_timestamped() -> None:
    d = default_run_dir()
    assert d.parent == Path("runs") and len(d.name) == len("20240808-000000")


def _stats() -> SessionStats:
    return SessionStats.from_core({
        "elapsed_s": 3.5, "md_messages": 70_000, "md_errors": 1, "depth_updates": 1, "book_tickers": 2, "trades": 3,
        "events_per_s": 20_000.0, "resyncs": 2, "gaps": 2, "crossed": 0, "top_first": 1, "top_first_mismatch": 0,
        "orders_sent": 300, "orders_acked": 299, "fills": 40, "filled_qty": 0.04, "cancels_sent": 250, "cancelled": 249,
        "venue_rejects": 0, "orders_lost": 0,
        "risk_rejects": 3, "risk_reject_max_position": 3, "impossible_updates": 0, "unknown_orders": 0,
        "queue_drops": 4, "reconnects": 0, "reconnect_failures": 0, "checksum_mismatches": 0, "logons": 1,
        "kill_switch": 0, "position": 0.002, "realized_pnl": 1.25,
        "unrealized_pnl": -0.5, "open_orders": 2, "ttt_p50_ns": 8_000.0, "ttt_p99_ns": 35_000.0, "api_errors": 0,
    })


def test_session_stats_from_core() -> None:
    s = _stats()
    assert s.fills == 40 and isinstance(s.fills, int) and s.kill_switch is False
    assert s.risk_rejects_by_reason == {"max_position": 3}
    assert s.extra == {"api_errors": 0.0}
    assert s.pnl == pytest.approx(0.75)
    flat = s.as_dict()
    assert flat["risk_reject_max_position"] == 3 and flat["kill_switch"] == 0
    with pytest.raises(ValueError, match="did not report fills"):
        SessionStats.from_core({k: v for k, v in flat.items() if k != "fills"})


def test_live_view_and_plain_line() -> None:
    s = _stats()
    console = Console(width=100, record=True, force_terminal=False)
    console.print(_live_table(s, 10.0))
    text = console.export_text()
    for frag in ("events / s", "20,000", "fills", "40", "tick-to-trade p50", "8.0 µs", "35.0 µs", "resyncs",
                 "drops", "5", "PnL", "0.7500"):
        assert frag in text, frag
    line = _plain_line(s)
    assert line.startswith("t=   3.5s") and "fills 40" in line and "p99 35.0 µs" in line


def test_report_directory_is_checked_before_the_run(tmp_path: Path) -> None:
    """A report path that cannot be written fails at once (exit 2), not after the run (whose report would be lost)."""
    check_run_dir(tmp_path / "new" / "run")  # creatable: fine, and nothing is created
    assert not (tmp_path / "new").exists()
    check_run_dir(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(hftx.ConfigError, match="a-file: exists and is not a directory"):
        check_run_dir(blocker)
    with pytest.raises(hftx.ConfigError, match="a-file is not a directory"):
        check_run_dir(blocker / "run")
    t0 = time.monotonic()
    out = _hftx("run", "--duration", "5", "--no-live", "--report", str(blocker))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "report directory" in out.stderr and "a-file" in out.stderr
    assert "running for" not in out.stdout
    assert time.monotonic() - t0 < 5
