"""The ``hftx`` command line.

Each subcommand is a pair: ``_add_<name>(subparsers)`` declares its arguments and ``_run_<name>(args)``
does the work and returns the exit status. Errors the user can fix (a missing file, a bad value) print
one clear line on stderr and exit 2; they never show a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hftx import HftxError, __version__

# Wide enough for the benchmark table when the output is a pipe or a file.
_console = Console(width=None if sys.stdout.isatty() else 150)
_err = Console(stderr=True)


def _add_sysinfo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sysinfo", help="what this machine and process offer for low latency")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _run_sysinfo(args: argparse.Namespace) -> int:
    from hftx.sysinfo import rows, sysinfo

    info = sysinfo()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    table = Table(title=f"hftx {__version__} — system", show_lines=False)
    table.add_column("", style="bold cyan")
    table.add_column("item")
    table.add_column("value", overflow="fold")
    last = ""
    for section, item, value in rows(info):
        table.add_row(section if section != last else "", item, value)
        last = section
    _console.print(table)
    return 0


def _add_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="run the benchmark programs and compare hftx with its peers")
    p.add_argument("--filter", default=".", metavar="REGEX", help="only benchmarks whose name matches")
    p.add_argument("--repetitions", type=int, default=5, metavar="N", help="runs of each benchmark (median quoted)")
    p.add_argument("--min-time", type=float, default=0.2, metavar="S", help="seconds per run of each benchmark")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    p.add_argument("--markdown", type=Path, nargs="?", const=Path("BENCHMARKS.md"), metavar="FILE",
                   help="write the table as Markdown (default BENCHMARKS.md)")
    p.add_argument("--bench-dir", type=Path, metavar="DIR", help="where the bench_* programs are")


def _run_bench(args: argparse.Namespace) -> int:
    from hftx import bench

    if args.repetitions < 1:
        raise bench.BenchError(f"--repetitions {args.repetitions}: expected an integer >= 1")
    if args.min_time <= 0:
        raise bench.BenchError(f"--min-time {args.min_time}: expected seconds > 0")
    programs = bench.find_programs(args.bench_dir)
    results = bench.run_programs(programs, args.filter, args.repetitions, args.min_time, progress=_err)
    report = bench.build_report(results, " ".join(["hftx", "bench", *sys.argv[2:]]))
    _console.print(bench.render_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        _err.print(f"wrote {args.json}")
    if args.markdown:
        args.markdown.write_text(bench.render_markdown(report))
        _err.print(f"wrote {args.markdown}")
    return 0


_COMMANDS: dict[str, tuple[Callable[..., None], Callable[[argparse.Namespace], int]]] = {
    "sysinfo": (_add_sysinfo, _run_sysinfo),
    "bench": (_add_bench, _run_bench),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hftx", description="hftx — low-latency trading engine toolkit")
    parser.add_argument("--version", action="version", version=f"hftx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add, _ in _COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _COMMANDS[args.command][1](args)
    except (HftxError, OSError, ValueError) as exc:
        _err.print(f"[bold red]hftx {args.command}:[/] {exc}", highlight=False)
        return 2
    except KeyboardInterrupt:
        _err.print(f"hftx {args.command}: interrupted")
        return 130
