"""Prometheus exposition of hftx's C++ histograms and counters, through ``prometheus_client``.

A custom collector reads the C++ side at scrape time (no copies kept in Python, nothing on the hot path)
and exposes everything in base units:

- ``hftx_tick_to_trade_seconds`` (histogram) and ``hftx_stage_latency_seconds{stage=...}`` (histogram),
  with buckets from 100 ns to 100 ms (1-2-5 steps); values above the C++ histogram's range count in
  ``+Inf`` only, and ``hftx_latency_overflow_total{stage=...}`` says how many there were;
- ``hftx_<name>_total`` counters (events, orders, rejects, resyncs, drops, ...);
- ``hftx_pool_<stat>{pool=...}`` gauges for memory-pool statistics;
- ``hftx_<name>`` gauges from sources that have a ``gauges()`` method (position, PnL, open orders, ...).
- per-thread counters from sources that have a ``thread_usage()`` method (a session's threads):
  ``hftx_thread_cpu_seconds_total`` and ``hftx_thread_runqueue_wait_seconds_total`` (runnable, waiting for a
  CPU), ``hftx_thread_page_faults_total{kind="minor"|"major"}`` and
  ``hftx_thread_context_switches_total{kind="voluntary"|"involuntary"}``, each labelled ``thread``. On a pinned
  hot thread, faults and involuntary switches should stay flat after warm-up.

``serve_metrics(port, source)`` serves them with prometheus_client's own HTTP server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from hftx._core import LatencyHistogram, LatencyTracker

__all__ = [
    "LATENCY_BUCKETS_SECONDS",
    "HftxCollector",
    "MetricsServer",
    "MetricsSource",
    "TrackerSource",
    "serve_metrics",
]

#: Upper bounds of the latency buckets, in seconds: 100 ns .. 100 ms in 1-2-5 steps.
LATENCY_BUCKETS_SECONDS: tuple[float, ...] = (
    *(float(f"{m}e{e}") for e in range(-7, -1) for m in (1, 2, 5)),
    1e-1,
)
_BOUNDS_NS = np.array([round(b * 1e9) for b in LATENCY_BUCKETS_SECONDS], dtype=np.int64)


class MetricsSource(Protocol):
    """What the collector reads. Every method is called at scrape time, from the HTTP server's thread."""

    def stage_histograms(self) -> Mapping[str, LatencyHistogram]:
        """Stage name -> histogram in nanoseconds; the stage ``tick_to_trade`` is exposed on its own."""
        ...

    def counters(self) -> Mapping[str, int]:
        """Counter name (``events``, ``orders``, ``rejects``, ``resyncs``, ``drops``, ...) -> value."""
        ...

    def pool_stats(self) -> Mapping[str, Mapping[str, float]]:
        """Pool name -> statistic name (``capacity``, ``in_use``, ...) -> value."""
        ...


@dataclass
class TrackerSource:
    """A MetricsSource over a ``LatencyTracker`` plus optional callables for counters and pool stats."""

    tracker: LatencyTracker
    counter_fn: Callable[[], Mapping[str, int]] | None = None
    pool_fn: Callable[[], Mapping[str, Mapping[str, float]]] | None = None
    stages: tuple[str, ...] = field(default_factory=lambda: tuple(LatencyTracker.stages))

    def stage_histograms(self) -> Mapping[str, LatencyHistogram]:
        return {s: self.tracker.stage_histogram(s) for s in self.stages}

    def counters(self) -> Mapping[str, int]:
        out = {"events": int(self.tracker.events)}
        if self.counter_fn is not None:
            out.update(self.counter_fn())
        return out

    def pool_stats(self) -> Mapping[str, Mapping[str, float]]:
        return self.pool_fn() if self.pool_fn is not None else {}


def _histogram_buckets(h: LatencyHistogram) -> tuple[list[tuple[str, float]], float]:
    cumulative = h.cumulative_counts(_BOUNDS_NS)
    total = h.count + h.overflow_count
    buckets = [(repr(le), float(c)) for le, c in zip(LATENCY_BUCKETS_SECONDS, cumulative.tolist(), strict=True)]
    buckets.append(("+Inf", float(total)))
    # HdrHistogram's mean is per bucket (median equivalent value): the sum is exact to the precision.
    # Overflowed values are not in it (their size is unknown beyond "above the range").
    return buckets, h.mean * h.count / 1e9


def _thread_families(usage: Mapping[str, Mapping[str, float | None]]) -> Iterable[Metric]:
    """Counters from ``Session.system_report()["threads"]``-shaped records; a None (unknown) is left out."""
    thread = ["thread"]
    cpu = CounterMetricFamily("hftx_thread_cpu_seconds", "Time each hftx thread spent on a CPU.", labels=thread)
    wait = CounterMetricFamily("hftx_thread_runqueue_wait_seconds",
                               "Time each hftx thread was runnable but waited for a CPU.", labels=thread)
    faults = CounterMetricFamily("hftx_thread_page_faults", "Page faults each hftx thread took.",
                                 labels=["thread", "kind"])
    switches = CounterMetricFamily("hftx_thread_context_switches",
                                   "Context switches of each hftx thread: voluntary (it blocked) or involuntary "
                                   "(the kernel took its CPU).", labels=["thread", "kind"])
    for name, u in sorted(usage.items()):
        for family, key, labels in ((cpu, "cpu_s", [name]), (wait, "runqueue_wait_s", [name]),
                                    (faults, "minor_faults", [name, "minor"]),
                                    (faults, "major_faults", [name, "major"]),
                                    (switches, "voluntary_switches", [name, "voluntary"]),
                                    (switches, "involuntary_switches", [name, "involuntary"])):
            value = u.get(key)
            if value is not None:
                family.add_metric(labels, float(value))
    return [cpu, wait, faults, switches]


class HftxCollector(Collector):
    """prometheus_client collector reading a MetricsSource at each scrape."""

    def __init__(self, source: MetricsSource) -> None:
        self._source = source

    def describe(self) -> Iterable[Metric]:
        # Families are dynamic (counters and pools come from the source): no describe-time registration.
        return []

    def collect(self) -> Iterable[Metric]:
        hists = self._source.stage_histograms()
        stage_family = HistogramMetricFamily(
            "hftx_stage_latency_seconds",
            "Latency of each stage of the tick-to-trade path, in seconds.",
            labels=["stage"],
        )
        overflow = CounterMetricFamily(
            "hftx_latency_overflow",
            "Latencies above the histogram's highest trackable value (counted in +Inf only).",
            labels=["stage"],
        )
        for stage, h in hists.items():
            buckets, total = _histogram_buckets(h)
            if stage == "tick_to_trade":
                ttt = HistogramMetricFamily(
                    "hftx_tick_to_trade_seconds",
                    "From the frame's bytes in user space to the return of the send() carrying the order.",
                )
                ttt.add_metric([], buckets, sum_value=total)
                yield ttt
            else:
                stage_family.add_metric([stage], buckets, sum_value=total)
            overflow.add_metric([stage], float(h.overflow_count))
        yield stage_family
        yield overflow

        for name, value in sorted(self._source.counters().items()):
            c = CounterMetricFamily(f"hftx_{name}", f"hftx {name} since start.")
            c.add_metric([], float(value))
            yield c

        stats: dict[str, GaugeMetricFamily] = {}
        for pool, values in sorted(self._source.pool_stats().items()):
            for stat, stat_value in sorted(values.items()):
                g = stats.get(stat)
                if g is None:
                    g = stats[stat] = GaugeMetricFamily(
                        f"hftx_pool_{stat}", f"Memory pool statistic '{stat}'.", labels=["pool"]
                    )
                g.add_metric([pool], float(stat_value))
        yield from stats.values()

        usage_fn = getattr(self._source, "thread_usage", None)
        if usage_fn is not None:
            yield from _thread_families(usage_fn())

        gauges_fn = getattr(self._source, "gauges", None)
        if gauges_fn is not None:
            for name, value in sorted(gauges_fn().items()):
                g = GaugeMetricFamily(f"hftx_{name}", f"hftx {name} (current value).")
                g.add_metric([], float(value))
                yield g


class MetricsServer:
    """A running exposition endpoint; ``close()`` stops it."""

    def __init__(self, server: object, thread: threading.Thread, port: int, registry: CollectorRegistry) -> None:
        self._server = server
        self.thread = thread
        self.port = port
        self.registry = registry

    def close(self) -> None:
        shutdown = getattr(self._server, "shutdown", None)
        if shutdown is not None:
            shutdown()
        close = getattr(self._server, "server_close", None)
        if close is not None:
            close()
        self.thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_metrics(port: int, source: MetricsSource, addr: str = "127.0.0.1") -> MetricsServer:
    """Serves ``source`` at http://addr:port/metrics with prometheus_client's HTTP server (port 0: any
    free port; the bound one is ``.port``). A registry of its own, so nothing else leaks in."""
    if not 0 <= port <= 65535:
        raise ValueError(f"metrics.port={port}: expected 0..65535")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HftxCollector(source))
    server, thread = start_http_server(port, addr=addr, registry=registry)
    bound = int(server.server_address[1])
    return MetricsServer(server, thread, bound, registry)
