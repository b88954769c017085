"""``hftx bench``: run the Google Benchmark programs and compare hftx with its peers.

Benchmarks are named ``<case>/<impl>[/<args>]`` (see cpp/bench/bench_support.hpp). Impls ``hftx`` and
``hftx_*`` are ours, ``limit`` is a physical limit shown for reference, anything else is a peer. Every
program runs with repetitions and random interleaving (A B A B ... within one run, docs/ARCHITECTURE.md §12); the
figure quoted is the median over repetitions, with min and max beside it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.table import Table

from hftx import HftxError

# Suffixes Google Benchmark appends to a name; they are not part of the case or impl.
_RUN_SUFFIX = re.compile(
    r"/(repeats|min_time|min_warmup_time|iterations|threads):[^/]+|/(real_time|manual_time|process_time)"
)
# A repetition whose p99 reaches this shows the 4 ms timer-tick stall of the noisy 2-core VMs (ARCHITECTURE §12).
STALL_NS = 1_000_000.0


class BenchError(HftxError):
    """The benchmarks could not be run (no programs found, a program failed)."""


class _Printer(Protocol):
    def print(self, *objects: Any, **kwargs: Any) -> None: ...


@dataclass
class ImplRuns:
    """Every repetition of one impl of one case."""

    figures: list[float] = field(default_factory=list)
    ops_per_sec: list[float] = field(default_factory=list)
    avg_ns: list[float] = field(default_factory=list)
    p50_ns: list[float] = field(default_factory=list)
    p95_ns: list[float] = field(default_factory=list)
    p99_ns: list[float] = field(default_factory=list)
    alloc_mb: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass
class CaseRuns:
    unit: str = "items/s"
    better: str = "higher"
    impls: dict[str, ImplRuns] = field(default_factory=dict)


def split_name(name: str) -> tuple[str, str]:
    """``spsc_throughput/hftx/1024/repeats:5`` -> (``spsc_throughput/1024``, ``hftx``)."""
    parts = _RUN_SUFFIX.sub("", name).split("/")
    if len(parts) < 2:
        return parts[0], "hftx"
    return "/".join([parts[0], *parts[2:]]), parts[1]


def is_ours(impl: str) -> bool:
    return impl == "hftx" or impl.startswith("hftx_")


def find_programs(directory: Path | None = None) -> list[Path]:
    """The ``bench_*`` programs: ``directory``, else $HFTX_BENCH_DIR, else the ones the install built."""
    if directory is not None:
        candidates = [directory]
    elif os.environ.get("HFTX_BENCH_DIR"):
        candidates = [Path(os.environ["HFTX_BENCH_DIR"])]
    else:
        candidates = [Path(__file__).resolve().parent / "_bench"]
    for d in candidates:
        if not d.is_dir():
            continue
        programs = sorted(p for p in d.iterdir() if p.name.startswith("bench_") and os.access(p, os.X_OK))
        if programs:
            return programs
    where = ", ".join(str(d) for d in candidates)
    raise BenchError(f"no bench_* programs in {where}: install hftx with the benchmarks (./dev.sh run), "
                     "or pass --bench-dir")


def _env() -> dict[str, str]:
    """Programs that are Python scripts (bench_ws_peers) run on this interpreter, whose packages we know."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _listed(program: Path, regex: str) -> list[str]:
    out = subprocess.run([str(program), f"--benchmark_filter={regex}", "--benchmark_list_tests=true"],
                         capture_output=True, text=True, check=False, env=_env())
    if out.returncode != 0:
        raise BenchError(f"{program.name} --benchmark_list_tests failed: {out.stderr.strip()[:500]}")
    return [line for line in out.stdout.splitlines() if line.strip()]


def run_programs(programs: list[Path], regex: str, repetitions: int, min_time: float,
                 progress: _Printer | None = None) -> tuple[dict[str, CaseRuns], list[dict[str, Any]]]:
    """Runs every benchmark matching ``regex``; returns the repetitions grouped by case and impl, and each
    program that failed (``program``, ``exit_status``, ``stderr``: its tail). A failing program does not stop
    the others: a full run takes minutes, and one missing peer or data file should not cost the rest of the
    table."""
    try:
        re.compile(regex)
    except re.error as exc:
        raise BenchError(f"--filter {regex!r} is not a valid regular expression: {exc}") from exc
    cases: dict[str, CaseRuns] = {}
    failed: list[dict[str, Any]] = []
    for program in programs:
        names = _listed(program, regex)
        if not names:
            continue
        if progress is not None:
            progress.print(f"[dim]running {program.name}: {len(names)} benchmarks x {repetitions} repetitions[/]")
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            cmd = [str(program), f"--benchmark_filter={regex}", f"--benchmark_repetitions={repetitions}",
                   "--benchmark_enable_random_interleaving=true", f"--benchmark_min_time={min_time}",
                   f"--benchmark_out={out.name}", "--benchmark_out_format=json", "--benchmark_format=console"]
            run = subprocess.run(cmd, capture_output=True, text=True, check=False, env=_env())
            if run.returncode != 0:
                failed.append({"program": program.name, "exit_status": run.returncode,
                               "stderr": run.stderr.strip()[-800:]})
                if progress is not None:
                    progress.print(f"[red]{program.name} failed[/] (exit status {run.returncode}), going on; "
                                   "the reason is printed at the end")
                continue
            data = json.loads(Path(out.name).read_text())
        collect(data, cases)
    return cases, failed


def script_main(argv: list[str], names: list[str], run_one: Callable[[str, float, Any], dict[str, Any]],
                context: Callable[[], AbstractContextManager[Any]] = nullcontext) -> int:
    """Google Benchmark's command line and JSON output for a Python benchmark script (bench_ws_peers,
    bench_python_strategy), so that run_programs() runs it like the C++ programs.

    ``run_one(name, min_time_s, ctx)`` measures one benchmark and returns at least ``iterations``,
    ``real_time`` (ns per item) and ``items_per_second``; ``ctx`` is what ``context()`` entered (a server
    the benchmarks share, say), which is set up only when benchmarks run, not when they are listed.
    Repetitions are interleaved: every benchmark once per repetition.
    """
    opts: dict[str, str] = {}
    for a in argv:
        m = re.fullmatch(r"--(benchmark_\w+)=(.*)", a)
        if m:
            opts[m.group(1)] = m.group(2)
    regex = re.compile(opts.get("benchmark_filter", "."))
    selected = [n for n in names if regex.search(n)]
    if opts.get("benchmark_list_tests") == "true":
        print("\n".join(selected))
        return 0
    repetitions = int(opts.get("benchmark_repetitions", "1"))
    min_time = float(opts.get("benchmark_min_time", "0.5").rstrip("s"))
    results = []
    with context() as ctx:
        for rep in range(repetitions):
            for name in selected:
                r = run_one(name, min_time, ctx)
                r.update(name=name, run_name=name, run_type="iteration", repetitions=repetitions,
                         repetition_index=rep, threads=1, cpu_time=r["real_time"], time_unit="ns")
                results.append(r)
                p50 = f"  p50 {r['p50_ns'] / 1e3:.1f} us" if "p50_ns" in r else ""
                print(f"{name:40s} {r['items_per_second']:>14.0f} items/s  {r['real_time']:.1f} ns/iteration{p50}",
                      flush=True)
    out = opts.get("benchmark_out")
    if out:
        Path(out).write_text(json.dumps({"context": {"executable": sys.argv[0]}, "benchmarks": results}, indent=1))
    return 0


def collect(data: dict[str, Any], cases: dict[str, CaseRuns]) -> None:
    """Adds the per-repetition entries of one Google Benchmark JSON report to ``cases``."""
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        case_name, impl = split_name(b.get("run_name", b["name"]))
        case = cases.setdefault(case_name, CaseRuns())
        runs = case.impls.setdefault(impl, ImplRuns())
        if b.get("error_occurred"):
            runs.error = str(b.get("error_message", "error"))
            continue
        ops = float(b.get("items_per_second", 0.0))
        if not ops:
            unit_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
            ops = 1e9 / (float(b["real_time"]) * unit_ns)
        runs.ops_per_sec.append(ops)
        runs.avg_ns.append(1e9 / ops)
        for key in ("p50_ns", "p95_ns", "p99_ns", "alloc_mb"):
            if key in b:
                getattr(runs, key).append(float(b[key]))
        if b.get("figure_p50") and "p50_ns" in b:
            case.unit, case.better = "ns (p50)", "lower"
            runs.figures.append(float(b["p50_ns"]))
        else:
            runs.figures.append(ops)


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"kernel": platform.release(), "python": platform.python_version()}
    try:
        from hftx.sysinfo import sysinfo

        s = sysinfo()
        info.update(cpu_model=s["cpu"]["model"], logical_cpus=len(s["cpu"]["online"]),
                    physical_cores=s["cpu"]["physical_cores"], clock_source=s["clock"]["source"],
                    tsc_ghz=round(s["clock"]["tsc_frequency_hz"] / 1e9, 4))
    except HftxError:  # pragma: no cover - sysinfo reads /proc; a report without it is still useful
        info["cpu_model"] = platform.processor()
    return info


def _commit() -> str:
    here = Path(__file__).resolve().parent
    for d in (Path.cwd(), here):
        out = subprocess.run(["git", "-C", str(d), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, check=False)
        if out.returncode == 0:
            dirty = subprocess.run(["git", "-C", str(d), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, check=False).stdout.strip()
            return out.stdout.strip() + ("-dirty" if dirty else "")
    from hftx import __version__

    return f"hftx {__version__} (no git checkout)"


def failure_text(failure: dict[str, Any], last_line: bool = False) -> str:
    """A failed program (from run_programs()) in words: its stderr's tail, or only the tail's last line (where a
    traceback puts the error)."""
    err = failure["stderr"]
    if last_line:
        err = next((line for line in reversed(err.splitlines()) if line.strip()), "")
    return f"{failure['program']} exited with {failure['exit_status']}: {err}"


def build_report(cases: dict[str, CaseRuns], command: str,
                 failed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON document of ``hftx bench --json``. ``failed``: the programs that did not run to the end."""
    out_cases: list[dict[str, Any]] = []
    for name, case in cases.items():
        impls: dict[str, Any] = {}
        for impl, r in case.impls.items():
            if r.error is not None and not r.figures:
                impls[impl] = {"error": r.error}
                continue
            impls[impl] = {
                "median": _median(r.figures), "min": min(r.figures), "max": max(r.figures),
                "ops_per_sec": _median(r.ops_per_sec), "avg_ns": _median(r.avg_ns),
                "p50_ns": _median(r.p50_ns), "p95_ns": _median(r.p95_ns), "p99_ns": _median(r.p99_ns),
                "alloc_mb": _median(r.alloc_mb), "repetitions": len(r.figures),
                "stalled_repetitions": sum(1 for p in r.p99_ns if p >= STALL_NS),
            }
        out_cases.append({"case": name, "unit": case.unit, "better": case.better, "impls": impls,
                          "ratio_vs_best_peer": ratio_vs_best_peer(impls, case.better)})
    return {"machine": machine(), "commit": _commit(), "command": command, "cases": out_cases,
            "failed": list(failed or [])}


def ratio_vs_best_peer(impls: dict[str, Any], better: str) -> float | None:
    """Best hftx impl against the best peer; above 1 means hftx is better. None without a peer."""
    def figures(ours: bool) -> list[float]:
        return [v["median"] for k, v in impls.items()
                if "median" in v and k != "limit" and is_ours(k) == ours and v["median"]]
    mine, peers = figures(True), figures(False)
    if not mine or not peers:
        return None
    if better == "higher":
        return max(mine) / max(peers)
    return min(peers) / min(mine)


def fmt_rate(v: float | None) -> str:
    if v is None:
        return "-"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.2f}{suffix}"
    return f"{v:.1f}"


def fmt_ns(v: float | None) -> str:
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.2f} µs"
    return f"{v:.1f} ns"


def _rows(report: dict[str, Any]) -> list[tuple[list[str], str]]:
    """(cells, role) per impl, cases in order, ours first, then peers, then the limit."""
    rows: list[tuple[list[str], str]] = []
    for case in report["cases"]:
        order = sorted(case["impls"], key=lambda k: (0 if is_ours(k) else 2 if k == "limit" else 1, k))
        # The ratio is the best hftx impl's: show it on that row only.
        ours = [k for k in order if is_ours(k) and case["impls"][k].get("median")]
        pick = max if case["better"] == "higher" else min
        best_ours = pick(ours, key=lambda k: case["impls"][k]["median"]) if ours else None
        for impl in order:
            v = case["impls"][impl]
            name = f"{case['case']}/{impl}"
            if "error" in v:
                rows.append(([name, f"error: {v['error']}", "", "", "", "", "", ""], "error"))
                continue
            ratio = ""
            if impl == best_ours and case["ratio_vs_best_peer"] is not None:
                ratio = f"{case['ratio_vs_best_peer']:.2f}x"
            if v["stalled_repetitions"]:
                ratio += f" stall {v['stalled_repetitions']}/{v['repetitions']}"
            rows.append(([name, fmt_rate(v["ops_per_sec"]), fmt_ns(v["avg_ns"]), fmt_ns(v["p50_ns"]),
                          fmt_ns(v["p95_ns"]), fmt_ns(v["p99_ns"]),
                          "-" if v["alloc_mb"] is None else f"{v['alloc_mb']:.2f}", ratio.strip()],
                         "ours" if is_ours(impl) else "limit" if impl == "limit" else "peer"))
    return rows


HEADERS = ["Benchmark", "Ops/Sec", "Avg Latency", "P50", "P95", "P99", "Alloc MB", "vs best peer"]


def render_table(report: dict[str, Any]) -> Table:
    table = Table(title="hftx bench — medians over repetitions (vs best peer: >1 = hftx better)")
    for h in HEADERS:
        table.add_column(h, justify="left" if h == "Benchmark" else "right")
    style = {"ours": "bold", "peer": "", "limit": "dim", "error": "red"}
    for cells, role in _rows(report):
        table.add_row(*cells, style=style[role])
    return table


def merge_markdown(table: str, previous: str | None) -> str:
    """The new table, then what followed the old table in ``previous``: every section from its first ``## ``
    heading on (the figures and notes written by hand below the generated table are kept)."""
    if not previous:
        return table
    lines = previous.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("## "):
            return table + "\n" + "".join(lines[i:])
    return table


def render_markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# hftx benchmarks",
        "",
        f"Machine: {m.get('cpu_model', '?')}, {m.get('logical_cpus', '?')} logical CPUs "
        f"({m.get('physical_cores', '?')} cores), kernel {m.get('kernel', '?')}, clock {m.get('clock_source', '?')} "
        f"at {m.get('tsc_ghz', '?')} GHz.",
        f"Commit: `{report['commit']}`. Command: `{report['command']}`.",
        "",
        "Figures are medians over repetitions run interleaved in one process (Google Benchmark random "
        "interleaving). *vs best peer* is hftx's figure over the best peer's (above 1 = hftx better); "
        "`limit` rows are physical limits, never peers. Per-operation percentiles are timed inside the loop; "
        "Alloc MB is the heap traffic inside the timed loop (counting allocator).",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|",
    ]
    for cells, role in _rows(report):
        name = f"**{cells[0]}**" if role == "ours" else cells[0]
        lines.append("| " + " | ".join([name, *cells[1:]]) + " |")
    if report.get("failed"):
        lines += ["", "**Not in this table** (the program failed):", ""]
        lines += [f"- {failure_text(f, last_line=True)}" for f in report["failed"]]
    return "\n".join(lines) + "\n"
