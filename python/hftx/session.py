"""``hftx.Session``: a trading session driven from Python, the C++ core doing the work.

    import hftx
    with hftx.Session("conf/demo.yaml") as s:      # starts the in-process simulator, connects, syncs books
        s.run(10)                                  # GIL released; Ctrl-C interrupts within 0.2 s
        print(s.stats().fills, s.latency("tick_to_trade").value_at_percentile(99))

With ``venue.name: simulator`` and no URLs, ``start()`` first starts the exchange simulator in this process (its
own thread and port), speaking ``venue.dialect`` (binance, okx: ``hftx.venues()``), and points the session at it.
With a real venue (``venue.name: binance``, ``okx``) and its credential variables (``venue.api_key_env``,
``venue.secret_key_env``, and the venue's own, such as OKX's ``venue.passphrase_env``) not all set, the session
starts without strategies: market data only, and ``notes`` says so — no order can reach the exchange without
credentials.

Every reader (``stats``, ``latency``, ``orders``, ``positions``, ``books``, ``timeline``, ...) may be called while
the session runs, from any thread (the metrics endpoint scrapes from its own).
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from hftx import _core
from hftx.config import Config, load_config
from hftx.strategy import Strategy, StrategyRunner, _Link, load_strategy_class
from hftx.venue import SIMULATOR, Venue, find_venue

__all__ = ["STAGES", "Session", "SessionStats", "default_config_path"]

#: Latency stages, in path order; ``tick_to_trade`` spans them all.
STAGES: tuple[str, ...] = tuple(_core.LatencyTracker.stages)

#: How long one blocking slice of ``run`` lasts: the longest a Ctrl-C or an ``on_tick`` callback waits.
RUN_SLICE_S = 0.2


def default_config_path() -> Path:
    """The demo configuration shipped inside the package (a copy of the repository's conf/demo.yaml)."""
    return Path(str(resources.files("hftx") / "conf" / "demo.yaml"))


@dataclass(frozen=True)
class SessionStats:
    """A snapshot of the session's counters (``Session.stats()``). Counts are since start."""

    elapsed_s: float
    md_messages: int  # market-data messages received
    md_errors: int  # malformed / unparseable market messages (dropped, counted)
    depth_updates: int
    book_tickers: int
    trades: int
    events_per_s: float
    resyncs: int  # book resynchronisations (new snapshot)
    gaps: int  # sequence gaps seen
    crossed: int  # crossed books after a diff
    top_first: int  # diffs the strategies acted on before the rest of the diff was read and applied
    top_first_mismatch: int  # of those, diffs whose applied top differed (then sent to the strategies too)
    orders_sent: int
    orders_acked: int
    fills: int
    filled_qty: float
    cancels_sent: int
    cancelled: int
    venue_rejects: int
    orders_lost: int  # sent, but the venue never had them (found by the reconciliation after a reconnect)
    risk_rejects: int
    impossible_updates: int
    unknown_orders: int
    queue_drops: int
    reconnects: int
    reconnect_failures: int  # reconnect attempts that failed (each followed by a longer backoff)
    logons: int  # logons the venue accepted (Binance: orders then go out unsigned on that connection)
    checksum_mismatches: int  # books found out of step by the venue's checksum (OKX), then resynced
    kill_switch: bool
    position: float  # sum over instruments, base units
    realized_pnl: float
    unrealized_pnl: float
    open_orders: int
    ttt_p50_ns: float
    ttt_p99_ns: float
    risk_rejects_by_reason: Mapping[str, int] = field(default_factory=dict)  # reason -> count
    extra: Mapping[str, float] = field(default_factory=dict)  # keys the core added beyond these

    @property
    def pnl(self) -> float:
        return self.realized_pnl + self.unrealized_pnl

    @classmethod
    def from_core(cls, d: Mapping[str, float]) -> SessionStats:
        """From the flat dict of ``_core.Session.stats()``; a missing key is an error (the contract changed)."""
        names = [f.name for f in fields(cls) if f.name not in ("risk_rejects_by_reason", "extra")]
        missing = [n for n in names if n not in d]
        if missing:
            raise ValueError(f"Session.stats(): the core did not report {', '.join(missing)}")
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("risk_rejects_by_reason", "extra"):
                continue
            v = d[f.name]
            kwargs[f.name] = bool(v) if f.type == "bool" else int(v) if f.type == "int" else float(v)
        prefix = "risk_reject_"
        kwargs["risk_rejects_by_reason"] = {k[len(prefix):]: int(v) for k, v in d.items() if k.startswith(prefix)}
        kwargs["extra"] = {k: float(v) for k, v in d.items() if k not in kwargs and not k.startswith(prefix)}
        return cls(**kwargs)

    def as_dict(self) -> dict[str, float]:
        """Flat again, as the core reports it (``risk_reject_<reason>`` keys), numbers only."""
        out: dict[str, float] = {}
        for f in fields(self):
            if f.name in ("risk_rejects_by_reason", "extra"):
                continue
            v = getattr(self, f.name)
            out[f.name] = int(v) if isinstance(v, bool) else v
        out.update({f"risk_reject_{k}": v for k, v in self.risk_rejects_by_reason.items()})
        out.update(self.extra)
        return out


def _option_default(venue: Venue | None, key: str) -> object:
    """The default of a venue's own key (the config emits every key of the protocol venue; this is a fallback)."""
    option = venue.option(key) if venue is not None else None
    return option.default if option is not None else ""


class Session:
    """A session on a validated :class:`hftx.config.Config`, a YAML path or a mapping (None: the demo).

    Use it as a context manager (``start`` on enter, ``stop`` on exit, also after an exception or Ctrl-C), or
    call ``start()`` / ``run()`` / ``stop()`` yourself. ``start`` raises ``hftx.ConnectionError`` when the venue
    cannot be reached and ``hftx.ConfigError`` when the core refuses the configuration.
    """

    def __init__(self, config: Config | str | os.PathLike[str] | Mapping[str, Any] | None = None) -> None:
        if isinstance(config, Config):
            self._config = config
        else:
            self._config = load_config(default_config_path() if config is None else config)
        self._core: _core.Session | None = None
        self._sim: _core.Simulator | None = None
        self._core_config: dict[str, Any] | None = None
        self._notes: list[str] = []
        self._started_wall: float | None = None
        self._stopped = False
        self._runner: StrategyRunner | None = None
        self._python_strategies: list[Strategy] = []

    # ---- lifecycle ------------------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        return self._config

    @property
    def notes(self) -> list[str]:
        """What the Python layer decided (simulator started on port N, market data only, ...)."""
        return list(self._notes)

    @property
    def started_at(self) -> float | None:
        """Wall-clock time (time.time()) of start(), None before."""
        return self._started_wall

    @property
    def core_config(self) -> dict[str, Any]:
        """The dict given to the core (the simulator's URLs filled in); before start(): what it will be."""
        return self._core_config if self._core_config is not None else self._config.to_core()

    def start(self) -> None:
        """Starts the simulator (when in process), connects, subscribes and starts the session's threads."""
        if self._core is not None:
            return
        core = self._config.to_core()
        # Python strategies are built first (a bad class fails before anything starts); the core gets
        # the built-in ones, and a stand-in for each Python one (add_external, below).
        python_specs = [(i, s) for i, s in enumerate(core["strategies"]) if s["type"] == "python"]
        core["strategies"] = [s for s in core["strategies"] if s["type"] != "python"]
        python_strategies = [(self._build_strategy(i, spec), spec) for i, spec in python_specs
                             for _ in range(spec["count"])]
        venue = core["venue"]
        if venue["name"] == SIMULATOR and not venue["market_url"]:
            sim = _core.Simulator({"simulator": {**core["simulator"], "venue": venue.get("dialect", "binance")},
                                   "instruments": core["instruments"]})
            sim.start()
            self._sim = sim
            venue["market_url"] = sim.market_url()
            venue["api_url"] = sim.api_url()
            self._notes.append(f"simulator ({core['simulator']['mode']}) started in process on port {sim.port}")
        if venue["name"] != SIMULATOR:
            real = find_venue(venue["name"])
            env_keys = ["api_key_env", "secret_key_env"] + [o.key for o in (real.options if real else ())
                                                            if o.kind == "env_name"]
            missing = [str(venue.get(k, _option_default(real, k))) for k in env_keys
                       if not os.environ.get(str(venue.get(k, _option_default(real, k))))]
            if missing and (core["strategies"] or python_strategies):
                core["strategies"] = []
                python_strategies = []
                self._notes.append(
                    f"market data only: {' and '.join(missing)} not set, so no strategy was started and no order "
                    "can be sent"
                )
        self._core_config = core
        try:
            session = _core.Session(core)
            symbols = [inst["symbol"] for inst in core["instruments"]]
            links = []
            for strat, spec in python_strategies:
                index = symbols.index(spec["instrument"])
                inst = core["instruments"][index]
                strat.instrument = spec["instrument"]
                strat.price_step = float(inst["price_step"])
                strat.qty_step = float(inst["qty_step"])
                channel = session.add_external(spec["instrument"])
                strat._hftx_link = _Link(channel, index, itertools.count(1))  # type: ignore[attr-defined]
                links.append((strat, channel))
            session.start()
        except BaseException:
            self._stop_simulator()
            raise
        self._core = session
        self._python_strategies = [s for s, _ in python_strategies]
        if links:
            self._runner = StrategyRunner(links)
            self._runner.start()
        self._started_wall = time.time()

    def run(self, duration: float | None = None, on_tick: Callable[[Session], None] | None = None,
            tick_interval: float = RUN_SLICE_S) -> None:
        """Runs for ``duration`` seconds (None: until ``stop``/``request_stop``/Ctrl-C), starting first if needed.

        The wait happens in C++ with the GIL released, in slices of at most ``tick_interval`` seconds so that
        Ctrl-C (KeyboardInterrupt) and ``on_tick(session)`` are served between slices.
        """
        if duration is not None and (math.isnan(duration) or duration < 0):
            raise ValueError(f"run(duration={duration}): expected seconds >= 0 or None")
        if tick_interval <= 0:
            raise ValueError(f"run(tick_interval={tick_interval}): expected seconds > 0")
        self.start()
        core = self._require()
        deadline = None if duration is None else time.monotonic() + duration
        while core.running():
            left = tick_interval if deadline is None else min(tick_interval, deadline - time.monotonic())
            if left <= 0:
                break
            core.run(left)
            if self._runner is not None and self._runner.error is not None:
                self.stop()  # raises the strategy's exception
            if on_tick is not None:
                on_tick(self)

    @property
    def failure(self) -> str:
        """Why the session stopped on its own, ``""`` when it did not: a connection the venue will not take back
        (a permanent close code such as 1008, a refused upgrade, a certificate that does not verify), with its
        URL. The session gives up on such a connection rather than reconnect in a loop, and stops."""
        return self._core.failure() if self._core is not None else ""

    def request_stop(self) -> None:
        """Asks a running ``run`` to return (callable from any thread)."""
        if self._core is not None:
            self._core.request_stop()

    @property
    def running(self) -> bool:
        return self._core is not None and not self._stopped and self._core.running()

    def stop(self) -> None:
        """Stops the strategies, cancels open orders (``session.cancel_on_stop``), closes the connections,
        joins the threads, then stops the in-process simulator. Idempotent; the readers still work after."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._core is not None:
                self._core.stop()
        finally:
            try:
                if self._runner is not None:
                    self._runner.stop()
            finally:
                self._stop_simulator()

    @property
    def python_strategies(self) -> list[Strategy]:
        """The Python strategy instances this session built (config ``type: python``), in config order."""
        return list(self._python_strategies)

    @staticmethod
    def _build_strategy(index: int, spec: Mapping[str, Any]) -> Strategy:
        cls = load_strategy_class(spec["class"], f"strategies[{index}].class")
        try:
            return cls(**spec["params"])
        except TypeError as exc:
            params = dict(spec["params"])
            raise _core.ConfigError(f"strategies[{index}].params = {params!r}: {cls.__name__}(): {exc}") from exc

    def _stop_simulator(self) -> None:
        if self._sim is not None:
            self._sim.stop()

    def __enter__(self) -> Session:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _require(self) -> _core.Session:
        if self._core is None:
            raise RuntimeError("the session is not started: call start() or use `with hftx.Session(...)`")
        return self._core

    # ---- readers ----------------------------------------------------------------------------------------

    def stats(self) -> SessionStats:
        return SessionStats.from_core(self._require().stats())

    def latency(self, stage: str = "tick_to_trade") -> _core.LatencyHistogram:
        """A merged copy of one stage's histogram, in nanoseconds (stages: :data:`STAGES`)."""
        if stage not in STAGES:
            raise ValueError(f"latency({stage!r}): expected one of {', '.join(STAGES)}")
        return self._require().latency(stage)

    def latencies(self) -> dict[str, _core.LatencyHistogram]:
        """Every stage's histogram (merged copies)."""
        core = self._require()
        return {s: core.latency(s) for s in STAGES}

    def orders(self) -> list[dict[str, Any]]:
        return self._require().orders()

    def positions(self) -> list[dict[str, Any]]:
        return self._require().positions()

    def books(self) -> dict[str, dict[str, Any]]:
        return self._require().books()

    def timeline(self) -> dict[str, npt.NDArray[Any]]:
        """Sampled series (TscClock ns): tick-to-trade, mids, own orders and fills — see the report's plots.

        Each covers the whole run in fixed memory: ``{ttt,mid,order,fill}_every`` says one sample in how many
        is kept, evenly spread (1 until 32 Ki samples), and ``*_seen`` how many there were.
        """
        return {k: np.asarray(v) for k, v in self._require().timeline().items()}

    def traces_json(self) -> str:
        """Chrome trace events of the sampled traces (chrome://tracing, Perfetto)."""
        return self._require().traces_json()

    def system_report(self) -> dict[str, Any]:
        """What the OS granted: threads (core, pinning, scheduling policy, warnings, and what each has cost so
        far: ``cpu_s``, ``runqueue_wait_s``, ``minor_faults``, ``major_faults``, ``voluntary_switches``,
        ``involuntary_switches``, None where the kernel does not say), the session arena (``memory``: pages,
        huge-page bytes, populated, locked, NUMA node) and notes."""
        return self._require().system_report()

    def simulator_stats(self) -> dict[str, int] | None:
        """The in-process simulator's counters, None when the venue is external."""
        return None if self._sim is None else self._sim.stats()

    @property
    def simulator(self) -> _core.Simulator | None:
        """The in-process simulator (test hooks: ``drop_connections``, ``skip_sequence``), None when external."""
        return self._sim
