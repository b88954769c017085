"""The ``hftx`` command line.

Each subcommand is a pair: ``_add_<name>(subparsers)`` declares its arguments and ``_run_<name>(args)``
does the work and returns the exit status. Errors the user can fix (a missing file, a bad value) print
one clear line on stderr and exit 2; they never show a traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hftx import HftxError, __version__

# Wide enough for the benchmark table when the output is a pipe or a file.
_console = Console(width=None if sys.stdout.isatty() else 150)
# Errors are never wrapped: a message broken across lines at 80 columns (stderr piped) no longer greps.
_err = Console(stderr=True, soft_wrap=True)


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
                   help="write the table as Markdown (default BENCHMARKS.md); the file's sections below its "
                        "table (from its first '## ' heading) are kept")
    p.add_argument("--bench-dir", type=Path, metavar="DIR", help="where the bench_* programs are")


def _run_bench(args: argparse.Namespace) -> int:
    from hftx import bench

    if args.repetitions < 1:
        raise bench.BenchError(f"--repetitions {args.repetitions}: expected an integer >= 1")
    if args.min_time <= 0:
        raise bench.BenchError(f"--min-time {args.min_time}: expected seconds > 0")
    programs = bench.find_programs(args.bench_dir)
    results, failed = bench.run_programs(programs, args.filter, args.repetitions, args.min_time, progress=_err)
    report = bench.build_report(results, " ".join(["hftx", "bench", *sys.argv[2:]]), failed)
    _console.print(bench.render_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        _err.print(f"wrote {args.json}")
    if args.markdown:
        previous = args.markdown.read_text() if args.markdown.exists() else None
        args.markdown.write_text(bench.merge_markdown(bench.render_markdown(report), previous))
        _err.print(f"wrote {args.markdown}")
    for failure in failed:
        _err.print(f"[bold red]hftx bench:[/] {escape(bench.failure_text(failure))}", highlight=False)
    return 1 if failed else 0


def _add_ws(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ws",
        help="WebSocket client (like websocat) or echo server on the hftx stack",
        description="Client: print each message received from URL. Exit status: 0 clean close (1000/1001), "
        "1 clean close with another code, 2 could not connect, 3 connection failed (protocol error, "
        "dead peer, ...; the close code is printed). Server: --listen HOST:PORT --echo.",
    )
    p.add_argument("url", nargs="?", help="ws://host[:port]/path?query or wss://...")
    p.add_argument("--send", action="append", default=[], metavar="TEXT",
                   help="send TEXT after connecting (repeatable)")
    p.add_argument("--echo", action="store_true", help="send every received message back unchanged")
    p.add_argument("--count", type=int, default=0, metavar="N", help="close (1000) after N messages")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="close (1000) / stop serving after S s")
    p.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'", help="extra request header")
    p.add_argument("--subprotocol", action="append", default=[], metavar="NAME", help="offer a subprotocol")
    p.add_argument("--ca-file", default="", metavar="PEM", help="trust this CA bundle too (wss://)")
    p.add_argument("--insecure", action="store_true", help="do not verify the server certificate (wss://)")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="S")
    p.add_argument("--listen", metavar="HOST:PORT", help="run the hftx server side instead of a client")
    p.add_argument("--cert", default="", metavar="PEM", help="server certificate chain (--listen, wss://)")
    p.add_argument("--key", default="", metavar="PEM", help="server private key (--listen, wss://)")
    p.add_argument("--max-connections", type=int, default=10000, metavar="N",
                   help="--listen: refuse connections past N with an HTTP 503 (default 10000)")
    p.add_argument("--max-pending", type=int, default=1024, metavar="N",
                   help="--listen: refuse connections past N unfinished handshakes with an HTTP 503 (default 1024)")


def _ws_exit_status(info: dict[str, object] | None) -> int:
    if info is None:
        return 3
    code, clean = info["code"], info["clean"]
    if clean and code in (1000, 1001):
        return 0
    detail = f"code {code}"
    if info.get("reason"):
        detail += f" ({info['reason']})"
    if info.get("error"):
        detail += f": {info['error']}"
    if clean:
        _err.print(f"hftx ws: closed by peer with {detail}", highlight=False)
        return 1
    _err.print(f"hftx ws: connection failed, {detail}", highlight=False)
    return 3


def _run_ws(args: argparse.Namespace) -> int:
    import time

    from hftx import ConnectionClosedError, WsClient, WsServer

    if args.listen:
        host, sep, port = args.listen.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"--listen {args.listen!r}: expected HOST:PORT with PORT 0..65535")
        if args.max_connections < 1 or args.max_pending < 1:
            raise ValueError("--max-connections and --max-pending: expected at least 1")
        server = WsServer(host.strip("[]") or "127.0.0.1", int(port), echo=args.echo, cert_file=args.cert,
                          key_file=args.key, max_connections=args.max_connections,
                          max_pending_handshakes=args.max_pending)
        scheme = "wss" if server.tls else "ws"
        print(f"listening on {scheme}://{host or '127.0.0.1'}:{server.port}", flush=True)
        server.run(args.duration)
        _err.print(f"served {server.accepted} connections, {server.messages} messages"
                   + (f", refused {server.refused} at a cap" if server.refused else ""), highlight=False)
        return 0
    if not args.url:
        raise ValueError("hftx ws: give a URL to connect to, or --listen HOST:PORT")
    headers: list[tuple[str, str]] = []
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header {h!r}: expected 'NAME: VALUE'")
        headers.append((name.strip(), value.strip()))
    client = WsClient(args.url, headers=headers, subprotocols=args.subprotocol, connect_timeout=args.connect_timeout,
                      ca_file=args.ca_file, verify=not args.insecure)
    client.connect()
    for text in args.send:
        client.send(text)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    received = 0
    try:
        while True:
            wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            msg = client.recv(timeout=wait)
            if msg is None:
                if deadline is not None and time.monotonic() >= deadline:
                    client.close(1000)
                    break
                continue
            if isinstance(msg, str):
                print(msg, flush=True)
            else:
                sys.stdout.buffer.write(msg + b"\n")
                sys.stdout.buffer.flush()
            received += 1
            if args.echo:
                client.send(msg)
            if args.count and received >= args.count:
                client.close(1000)
                break
    except ConnectionClosedError:
        pass
    except KeyboardInterrupt:
        client.close(1000)
        return 130
    return _ws_exit_status(client.close_info)


def _add_replay(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from hftx.replay import CROSSED_POLICIES, MARKETS, VENUES

    p = sub.add_parser("replay", help="replay recorded Binance or OKX streams through parser -> sync -> book")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="recorded `<ns> <json>` files (gzip or plain; OKX: also cryptofeed's `<unix_s>: <json>` "
                        "lines); several files continue the same books")
    p.add_argument("--venue", choices=VENUES, default="binance",
                   help="binance (default): one book; okx: one book per instrument, checked by OKX's checksum")
    p.add_argument("--market", choices=MARKETS, help="Binance: default recognised from the messages")
    p.add_argument("--price-step", metavar="STEP",
                   help="tick, e.g. 0.01 (default: inferred from the data; OKX: for every instrument)")
    p.add_argument("--qty-step", metavar="STEP",
                   help="lot, e.g. 0.00001 (default: inferred from the data; OKX: for every instrument)")
    p.add_argument("--crossed-policy", choices=CROSSED_POLICIES, default="keep_and_flag")
    p.add_argument("--books-only", action="store_true",
                   help="skip bookTicker and trade lines unparsed (the book only: no bookTicker or trade-id check)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when a check fails (parse errors, gaps, crossed books, bookTicker mismatches; "
                        "OKX: checksum mismatches)")


def _replay_failed(r: dict[str, Any]) -> bool:
    return bool(r["parse_errors"] or r["gaps"] or r["crossed"] or r["ticker_mismatches"] or r["trade_id_gaps"])


def _okx_replay_failed(r: dict[str, Any]) -> bool:
    return bool(r["parse_errors"] or r["gaps"] or r["crossed"] or r["checksum_mismatches"])


def _run_replay_okx(args: argparse.Namespace) -> int:
    from hftx.replay import replay

    r = replay(args.files, venue="okx", market=args.market, price_step=args.price_step, qty_step=args.qty_step,
               crossed_policy=args.crossed_policy, books_only=args.books_only)
    if args.json:
        print(json.dumps(r, indent=2))
        return 1 if args.strict and _okx_replay_failed(r) else 0
    names = ", ".join(f.name for f in args.files)
    channels = sorted({x["channel"] for x in r["instruments"] if x["channel"]})
    table = Table(title=f"hftx replay --venue okx — {names} ({', '.join(channels) or 'no books'})",
                  caption=f"Recorded data: {r['credit']}" if r["credit"] else None, box=box.SIMPLE_HEAD,
                  padding=(0, 1), collapse_padding=True, pad_edge=False)
    table.add_column("instrument", no_wrap=True)
    table.add_column("tick", justify="right", no_wrap=True)
    table.add_column("lot", justify="right", no_wrap=True)
    # messages, snapshots, updates, trades; checksums checked, matched, mismatched; resubscriptions asked for.
    for col in ("msgs", "snaps", "updates", "trades", "checked", "matched", "mismatch", "resub", "gaps", "crossed",
                "errors"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("state", no_wrap=True)

    def row(x: dict[str, Any]) -> list[str]:
        return [f"{x[k]:,}" for k in ("messages", "snapshots", "depth_updates", "trades", "checksums_checked",
                                       "checksums_matched", "checksum_mismatches", "resync_requests", "gaps",
                                       "crossed", "parse_errors")]

    for x in r["instruments"]:
        channel = "" if len(channels) <= 1 or not x["channel"] else f" ({x['channel']})"
        table.add_row(x["inst_id"] + channel, x["price_step"], x["qty_step"], *row(x), x["state"])
    table.add_section()
    table.add_row(f"total ({len(r['instruments'])})", "", "", *row(r), "", style="bold")
    _console.print(table)
    lines = Table(title="lines", show_header=False)
    lines.add_column("", style="bold cyan")
    lines.add_column("value", justify="right")
    skipped = ", ".join(f"{k} {v:,}" for k, v in r["skipped"].items())
    errors = ", ".join(f"{k} {v:,}" for k, v in r["parse_errors_by_reason"].items())
    for item, value in (
        ("lines", f"{r['lines']:,}"),
        ("messages replayed", f"{r['messages']:,}"),
        ("control (connections / sent / events / pongs)",
         f"{r['connection_lines']:,} / {r['sent_lines']:,} / {r['events']:,} / {r['pongs']:,}"),
        ("skipped", f"{r['skipped_lines']:,}" + (f" ({skipped})" if skipped else "")),
        ("parse errors",
         f"{r['parse_errors']:,}" + (f" ({errors}; first: {r['first_parse_error']})" if errors else "")),
        ("left to simdjson by the fast scanner", f"{r['parser_fallbacks']:,}"),
        ("seconds", f"{r['seconds']:.3f}"),
        ("lines / s", f"{r['messages_per_s']:,.0f}"),
    ):
        lines.add_row(item, escape(value))
    _console.print(lines)
    return 1 if args.strict and _okx_replay_failed(r) else 0


def _run_replay(args: argparse.Namespace) -> int:
    from hftx.replay import replay

    if args.venue == "okx":
        return _run_replay_okx(args)
    r = replay(args.files, market=args.market, price_step=args.price_step, qty_step=args.qty_step,
               crossed_policy=args.crossed_policy, books_only=args.books_only)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        table = Table(title=f"hftx replay — {', '.join(f.name for f in args.files)}")
        table.add_column("", style="bold cyan")
        table.add_column("item")
        table.add_column("value", justify="right")
        bid = r["best_bid"]
        ask = r["best_ask"]
        rows = [
            ("input", "market", r["market"]),
            ("", "tick / lot", f"{r['price_step']} / {r['qty_step']}"),
            ("", "lines", f"{r['lines']:,}" + (f" ({r['skipped_lines']:,} skipped: books only)"
                                                if r["skipped_lines"] else "")),
            ("", "parse errors",
             f"{r['parse_errors']:,}" + (f" ({r['first_parse_error']})" if r["parse_errors"] else "")),
            ("", "left to simdjson by the fast scanner", f"{r['parser_fallbacks']:,}"),
            ("messages", "depth updates", f"{r['depth_updates']:,}"),
            ("", "snapshots", f"{r['snapshots']:,}"),
            ("", "bookTickers", f"{r['book_tickers']:,}"),
            ("", "trades / aggTrades", f"{r['trades']:,} / {r['agg_trades']:,}"),
            ("book", "level updates applied", f"{r['level_updates']:,}"),
            ("", "diffs applied / buffered / dropped (old)",
             f"{r['applied']:,} / {r['buffered']:,} / {r['dropped_old']:,}"),
            ("", "duplicates", f"{r['duplicates']:,}"),
            ("", "gaps (resyncs) / snapshot requests", f"{r['gaps']:,} / {r['resync_requests']:,}"),
            ("", "crossed after a diff", f"{r['crossed']:,}"),
            ("", "final levels (bids / asks)", f"{r['bid_levels']:,} / {r['ask_levels']:,}"),
            ("", "best bid / ask",
             f"{bid[0]:g} x {bid[1]:g}  /  {ask[0]:g} x {ask[1]:g}" if bid and ask else "-"),
            ("", "sync state", r["state"]),
            ("checks", "bookTicker checked / mismatches", f"{r['tickers_checked']:,} / {r['ticker_mismatches']:,}"),
            ("", "trade-id gaps / out of order", f"{r['trade_id_gaps']:,} / {r['trade_id_backwards']:,}"),
            ("speed", "seconds", f"{r['seconds']:.3f}"),
            ("", "messages / s", f"{r['messages_per_s']:,.0f}"),
            ("", "level updates / s", f"{r['level_updates_per_s']:,.0f}"),
            ("", "MB / s", f"{r['bytes'] / 1e6 / r['seconds']:,.1f}" if r["seconds"] > 0 else "-"),
        ]
        for section, item, value in rows:
            table.add_row(section, item, str(value))
        _console.print(table)
    return 1 if args.strict and _replay_failed(r) else 0


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run a trading session (default: the demo against the in-process simulator) and write a report",
        description="Runs the session of CONFIG with a live view, then writes the report (tables, plots, "
        "index.html). Ctrl-C stops cleanly and still writes the report. Exit status: 0 done (also after Ctrl-C), "
        "2 missing file or bad configuration, 3 connection refused, port in use, a connection the venue will not "
        "take back (a permanent close code such as 1008, a refused upgrade: named with its URL and reason), or no "
        "market data at all (the report is written first).",
    )
    p.add_argument("config", nargs="?", type=Path, metavar="CONFIG",
                   help="YAML configuration (default: the packaged conf/demo.yaml)")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="seconds to run (default: until Ctrl-C)")
    p.add_argument("--report", type=Path, default=None, metavar="DIR",
                   help="run directory for the report (default: report.dir, else runs/<timestamp>)")
    p.add_argument("--no-live", action="store_true", help="a line per second instead of the live view")


def _run_failure(exc: BaseException) -> tuple[int, str] | None:
    """(exit status, message) for the failures of `hftx run` a user can fix; None: not one of them."""
    import errno

    from hftx import ConfigError, ConnectionError
    from hftx.runner import SessionFailed

    if isinstance(exc, (FileNotFoundError, ConfigError)):
        return 2, str(exc)
    if isinstance(exc, ConnectionError):
        # SessionFailed: the run itself said what went wrong, after its report; else the connection was refused.
        return 3, str(exc) if isinstance(exc, SessionFailed) else f"cannot connect: {exc}"
    if isinstance(exc, OSError) and (exc.errno in (errno.EADDRINUSE, errno.EACCES) or "in use" in str(exc)):
        return 3, str(exc.strerror or exc)
    if isinstance(exc, HftxError) and "in use" in str(exc).lower():
        return 3, f"port in use: {exc}"
    return None


def _run_run(args: argparse.Namespace) -> int:
    from hftx.config import load_config
    from hftx.runner import run
    from hftx.session import default_config_path

    if args.duration is not None and not args.duration > 0:
        raise ValueError(f"--duration {args.duration}: expected seconds > 0")
    try:
        cfg = load_config(args.config if args.config is not None else default_config_path())
        run(cfg, duration=args.duration, run_dir=args.report, live=False if args.no_live else None, out=_console,
            err=_err, argv=sys.argv[1:])
    except (HftxError, OSError) as exc:
        failure = _run_failure(exc)
        if failure is None:
            raise
        _err.print(f"hftx run: {failure[1]}", highlight=False, markup=False, style="red", soft_wrap=True)
        return failure[0]
    return 0


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="render a saved run again (report.txt, plots, index.html)")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory written by `hftx run`")
    p.add_argument("--no-plots", action="store_true", help="tables and HTML only")


def _run_report(args: argparse.Namespace) -> int:
    from hftx.report import render

    written = render(args.run_dir, plots=not args.no_plots)
    _console.print((args.run_dir / "report.txt").read_text(), highlight=False, markup=False)
    _err.print(f"wrote {len(written)} files in {args.run_dir} (open {args.run_dir / 'index.html'})", highlight=False)
    return 0


def _add_sim(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from hftx.venue import venues

    p = sub.add_parser(
        "sim",
        help="serve the exchange simulator (Binance or OKX) until Ctrl-C",
        description="Serves a generated (default) or replayed market in the dialect of --venue: binance (combined "
        "streams at ws://HOST:PORT/stream, the WebSocket API at ws://HOST:PORT/ws-api/v3) or okx (public channels at "
        "ws://HOST:PORT/ws/v5/public, login, orders and trading at ws://HOST:PORT/ws/v5/private), printing a stats "
        "line every second. Replay reads recorded Binance files with either venue. Exit status: 0 after Ctrl-C or "
        "--duration, 2 bad arguments, 3 port in use.",
    )
    p.add_argument("--venue", choices=[v.name for v in venues()], default="binance",
                   help="whose dialect (default binance; hftx.venues() lists them)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, metavar="P", help="port (default 0: any free port)")
    p.add_argument("--replay", type=Path, nargs="+", metavar="FILE",
                   help="replay recorded `<ns> <json>` Binance files instead of generating a market")
    p.add_argument("--pace", choices=("recorded", "fast"), default="recorded", help="replay pace")
    p.add_argument("--rate", type=float, default=20000, metavar="N",
                   help="generated market events/s over all symbols (0: as fast as clients read)")
    p.add_argument("--seed", type=int, default=42, metavar="S", help="random-walk seed")
    p.add_argument("--symbol", action="append", default=[], metavar="SYM",
                   help="instrument to list, in the venue's spelling (repeatable; default BTCUSDT / BTC-USDT, or "
                   "the symbol in the replay file name)")
    p.add_argument("--latency-us", type=int, default=0, metavar="US", help="added to every private answer and report")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")


# Quote assets recognised at the end of a Binance symbol (btcusdt -> BTC-USDT for OKX), longest first.
_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "DAI", "EUR", "TRY", "BRL", "GBP", "JPY", "BTC", "ETH", "BNB")


def _okx_symbol(binance: str) -> str:
    for q in _QUOTES:
        if binance.endswith(q) and len(binance) > len(q):
            return f"{binance[: -len(q)]}-{q}"
    return binance


def _sim_symbols(args: argparse.Namespace) -> list[str]:
    import re

    if args.symbol:
        return [s.upper() for s in args.symbol]
    found: list[str] = []
    for f in args.replay or []:
        m = re.search(r"(?:spot|usdm|coinm)_([a-z0-9]+)_", Path(f).name)
        if m and m.group(1).upper() not in found:
            found.append(m.group(1).upper())
    symbols = found or ["BTCUSDT"]
    return [_okx_symbol(s) for s in symbols] if args.venue == "okx" else symbols


def _run_sim(args: argparse.Namespace) -> int:
    import time

    from hftx import ConnectionError, Simulator

    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port {args.port}: expected 0..65535")
    for f in args.replay or []:
        if not Path(f).is_file():
            raise ValueError(f"--replay {f}: no such file")
    symbols = _sim_symbols(args)
    cfg: dict[str, Any] = {
        "simulator": {
            "venue": args.venue, "host": args.host, "port": args.port,
            "mode": "replay" if args.replay else "generated", "seed": args.seed, "event_rate": args.rate,
            "replay_files": [str(f) for f in args.replay or []], "replay_pace": args.pace,
            "latency_us": args.latency_us,
        },
        "instruments": [{"symbol": s} for s in symbols],
    }
    sim = Simulator(cfg)
    try:
        sim.start()
    except ConnectionError as exc:
        _err.print(f"hftx sim: cannot listen on {args.host}:{args.port} (port in use?): {exc}", highlight=False,
                   markup=False, style="red")
        return 3
    if args.venue == "okx":
        print(f"market  {sim.market_url()}", flush=True)
    else:
        print(f"market  {sim.market_url()}?streams=" + "/".join(
            f"{s.lower()}@depth@100ms/{s.lower()}@bookTicker/{s.lower()}@trade" for s in symbols), flush=True)
    print(f"api     {sim.api_url()}", flush=True)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    last = sim.stats()
    last_t = time.monotonic()
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic())))
            now = sim.stats()
            t = time.monotonic()
            rate = (now["events_generated"] - last["events_generated"]) / max(t - last_t, 1e-9)
            print(f"events/s {rate:,.0f}  sent {now['events_sent']:,}  connections {now['connections']}  "
                  f"orders {now['orders']:,}  fills {now['fills']:,}  cancels {now['cancels']:,}  "
                  f"rejects {now['rejects']:,}  resting {now['resting_orders']}", flush=True)
            last, last_t = now, t
    except KeyboardInterrupt:
        pass
    sim.stop()
    _err.print("hftx sim: stopped", highlight=False)
    return 0


_COMMANDS: dict[str, tuple[Callable[..., None], Callable[[argparse.Namespace], int]]] = {
    "sysinfo": (_add_sysinfo, _run_sysinfo),
    "bench": (_add_bench, _run_bench),
    "ws": (_add_ws, _run_ws),
    "replay": (_add_replay, _run_replay),
    "sim": (_add_sim, _run_sim),
    "run": (_add_run, _run_run),
    "report": (_add_report, _run_report),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hftx", description="hftx — low-latency trading engine toolkit")
    parser.add_argument("--version", action="version", version=f"hftx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add, _ in _COMMANDS.values():
        add(sub)
    return parser


def _take_sigint_back() -> None:
    """Ctrl-C / SIGINT stops every command (``hftx run`` cleanly, with its report). A process that starts with
    SIGINT ignored, as a script's background job does (``hftx run conf.yaml &``), keeps it ignored under Python's
    rules, and ``kill -INT`` would then do nothing; so hftx installs Python's handler again."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _take_sigint_back()
    try:
        return _COMMANDS[args.command][1](args)
    except (HftxError, OSError, ValueError) as exc:
        _err.print(f"[bold red]hftx {args.command}:[/] {escape(str(exc))}", highlight=False)
        return 2
    except KeyboardInterrupt:
        _err.print(f"hftx {args.command}: interrupted")
        return 130
