"""`hftx bench`: the runner over the real benchmark programs, and the report arithmetic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hftx import bench


def test_split_name() -> None:
    assert bench.split_name("spsc_throughput/hftx") == ("spsc_throughput", "hftx")
    assert bench.split_name("spsc_throughput/moodycamel/1024/repeats:5") == ("spsc_throughput/1024", "moodycamel")
    assert bench.split_name("ws_rtt_64_spin/beast/real_time") == ("ws_rtt_64_spin", "beast")
    assert bench.split_name("lonely") == ("lonely", "hftx")


def _gb_report(rows: list[tuple[str, float, float]]) -> dict[str, Any]:
    return {"benchmarks": [
        {"name": f"{name}/repeats:3", "run_name": name, "run_type": "iteration", "real_time": 1e9 / ops,
         "time_unit": "ns", "items_per_second": ops, "p50_ns": p50, "p95_ns": p50, "p99_ns": p50 * 2,
         "alloc_mb": 0.0}
        for name, ops, p50 in rows
    ]}


def test_ratio_uses_medians_and_ignores_the_limit() -> None:
    cases: dict[str, bench.CaseRuns] = {}
    rows = [("q/hftx", 300.0, 3), ("q/hftx", 100.0, 3), ("q/hftx", 200.0, 3),
            ("q/peer", 50.0, 9), ("q/peer", 100.0, 9), ("q/peer", 150.0, 9), ("q/limit", 10_000.0, 1)]
    bench.collect(_gb_report(rows), cases)
    report = bench.build_report(cases, "test")
    case = report["cases"][0]
    assert case["impls"]["hftx"]["median"] == 200.0
    assert (case["impls"]["hftx"]["min"], case["impls"]["hftx"]["max"]) == (100.0, 300.0)
    assert case["ratio_vs_best_peer"] == pytest.approx(2.0)  # 200 / 100, the limit is not a peer
    assert "cpu_model" in report["machine"] and report["commit"]


def test_p50_figure_is_lower_is_better() -> None:
    data = _gb_report([("rtt/hftx", 1e5, 5_000.0), ("rtt/beast", 1e5, 10_000.0)])
    for b in data["benchmarks"]:
        b["figure_p50"] = 1
    cases: dict[str, bench.CaseRuns] = {}
    bench.collect(data, cases)
    case = bench.build_report(cases, "test")["cases"][0]
    assert (case["unit"], case["better"]) == ("ns (p50)", "lower")
    assert case["ratio_vs_best_peer"] == pytest.approx(2.0)


def test_no_peer_means_no_ratio() -> None:
    cases: dict[str, bench.CaseRuns] = {}
    bench.collect(_gb_report([("alone/hftx", 5.0, 1.0), ("alone/limit", 9.0, 1.0)]), cases)
    assert bench.build_report(cases, "t")["cases"][0]["ratio_vs_best_peer"] is None


def test_stalls_are_flagged() -> None:
    cases: dict[str, bench.CaseRuns] = {}
    bench.collect(_gb_report([("s/hftx", 5.0, 1e6), ("s/peer", 5.0, 10.0)]), cases)
    report = bench.build_report(cases, "t")
    assert report["cases"][0]["impls"]["hftx"]["stalled_repetitions"] == 1
    assert "stall 1/1" in bench.render_markdown(report)


def test_markdown_keeps_the_sections_below_the_table() -> None:
    table = "# hftx benchmarks\n\n| Benchmark |\n|---|\n| **new/hftx** |\n"
    old = "# hftx benchmarks\n\n| Benchmark |\n|---|\n| **old/hftx** |\n\n## Session 2\n\nnotes\n\n## Session 3\nmore\n"
    merged = bench.merge_markdown(table, old)
    assert merged == table + "\n## Session 2\n\nnotes\n\n## Session 3\nmore\n"
    assert "old/hftx" not in merged
    assert bench.merge_markdown(table, None) == table
    assert bench.merge_markdown(table, "# only a table\n| x |\n") == table


def test_hftx_bench_end_to_end(tmp_path: Path) -> None:
    """Runs the installed benchmark programs (briefly) and checks the JSON and Markdown they produce."""
    js, md = tmp_path / "b.json", tmp_path / "B.md"
    md.write_text("# old table\n\n## Notes kept\n\nby hand\n")
    out = subprocess.run(
        [sys.executable, "-m", "hftx", "bench", "--filter", "clock_read|fixed_parse_price", "--repetitions", "2",
         "--min-time", "0.01", "--json", str(js), "--markdown", str(md)],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(js.read_text())
    assert {"machine", "commit", "cases"} <= report.keys()
    by_case = {c["case"]: c for c in report["cases"]}
    assert set(by_case) == {"clock_read", "fixed_parse_price"}
    assert set(by_case["clock_read"]["impls"]) == {"hftx", "clock_gettime", "steady_clock"}
    assert set(by_case["fixed_parse_price"]["impls"]) == {"hftx", "strtod", "from_chars"}
    for case in by_case.values():
        assert case["ratio_vs_best_peer"] is not None and case["ratio_vs_best_peer"] > 0
        for impl in case["impls"].values():
            assert impl["repetitions"] == 2
            assert impl["min"] <= impl["median"] <= impl["max"]
            assert 0 < impl["p50_ns"] <= impl["p99_ns"]
            assert impl["alloc_mb"] == 0.0
    text = md.read_text()
    assert "| Benchmark | Ops/Sec | Avg Latency | P50 | P95 | P99 | Alloc MB | vs best peer |" in text
    assert "**clock_read/hftx**" in text and report["machine"]["cpu_model"] in text
    assert text.endswith("## Notes kept\n\nby hand\n") and "# old table" not in text
    assert "clock_read/hftx" in out.stdout


def test_bench_errors_are_clear(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hftx", "bench", *args], capture_output=True, text=True,
                              check=False)

    out = run("--bench-dir", str(tmp_path))
    assert out.returncode == 2 and "no bench_* programs" in out.stderr
    out = run("--filter", "(")
    assert out.returncode == 2 and "not a valid regular expression" in out.stderr
    out = run("--repetitions", "0")
    assert out.returncode == 2 and "--repetitions 0" in out.stderr


def test_a_failing_program_does_not_cost_the_rest_of_the_table(tmp_path: Path) -> None:
    """One program that fails (a missing data file, a crash) is reported, in the Markdown and the exit status,
    and the other programs' rows are still written."""
    clock = next(p for p in bench.find_programs() if p.name == "bench_clock")
    bench_dir = tmp_path / "bench"
    bench_dir.mkdir()
    (bench_dir / "bench_clock").symlink_to(clock)
    failing = bench_dir / "bench_broken"
    failing.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do case "$a" in --benchmark_list_tests*) echo clock_read/broken; exit 0;; esac; done\n'
        "echo 'Traceback (most recent call last):' >&2\n"
        "echo 'bench_broken: [data] not found' >&2\n"
        "exit 3\n"
    )
    failing.chmod(0o755)
    md = tmp_path / "B.md"
    out = subprocess.run(
        [sys.executable, "-m", "hftx", "bench", "--bench-dir", str(bench_dir), "--filter", "clock_read",
         "--repetitions", "1", "--min-time", "0.01", "--markdown", str(md)],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 1, out.stderr
    assert "bench_broken exited with 3: Traceback (most recent call last):" in out.stderr
    assert "bench_broken: [data] not found" in out.stderr
    text = md.read_text()
    assert "**clock_read/hftx**" in text and "clock_read/broken" not in text
    assert "**Not in this table** (the program failed):" in text
    assert "- bench_broken exited with 3: bench_broken: [data] not found" in text
