"""hftx.metrics: the Prometheus endpoint, scraped over real HTTP and parsed with prometheus_client's parser."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from itertools import pairwise

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

import hftx
from hftx.metrics import LATENCY_BUCKETS_SECONDS, TrackerSource, serve_metrics


def _scrape(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_endpoint_exposes_histograms_counters_and_pools_in_seconds() -> None:
    tracker = hftx.LatencyTracker(sample_rate=0.0)
    tracker.record_array("tick_to_trade", np.array([1_500] * 90 + [50_000] * 9 + [120_000_000_000], dtype=np.int64))
    tracker.record_array("parse", np.array([150, 250, 800], dtype=np.int64))

    def counters() -> Mapping[str, int]:
        return {"orders": 7, "rejects": 1, "resyncs": 0, "drops": 2}

    def pools() -> Mapping[str, Mapping[str, float]]:
        return {"orders": {"capacity": 1024, "in_use": 3}, "frames": {"capacity": 64, "in_use": 0}}

    with serve_metrics(0, TrackerSource(tracker, counters, pools)) as server:
        assert server.port > 0
        fams = _scrape(server.port)

    ttt = fams["hftx_tick_to_trade_seconds"]
    assert ttt.type == "histogram"  # type: ignore[attr-defined]
    buckets = [s for s in ttt.samples if s.name.endswith("_bucket")]  # type: ignore[attr-defined]
    les = [s.labels["le"] for s in buckets]
    assert les[-1] == "+Inf"
    bounds = [float(le) for le in les[:-1]]
    assert bounds == list(LATENCY_BUCKETS_SECONDS)
    assert bounds[0] == 1e-7 and bounds[-1] == 0.1  # 100 ns .. 100 ms, in seconds
    counts = [s.value for s in buckets]
    assert all(a <= b for a, b in pairwise(counts))  # cumulative: monotone
    by_le = dict(zip(les, counts, strict=True))
    assert by_le["1e-06"] == 0 and by_le["2e-06"] == 90  # 1.5 us lands between 1 and 2 us
    assert by_le["5e-05"] == 99 and by_le["0.1"] == 99
    assert by_le["+Inf"] == 100  # the 120 s value overflowed the 60 s range: counted in +Inf only
    count = next(s.value for s in ttt.samples if s.name.endswith("_count"))  # type: ignore[attr-defined]
    total = next(s.value for s in ttt.samples if s.name.endswith("_sum"))  # type: ignore[attr-defined]
    assert count == 100
    assert abs(total - (90 * 1.5e-6 + 9 * 50e-6)) < 1e-8

    stage = fams["hftx_stage_latency_seconds"]
    stages = {s.labels["stage"] for s in stage.samples}  # type: ignore[attr-defined]
    assert stages == {"receive", "parse", "book", "strategy", "risk", "encode", "send"}
    parse_count = next(
        s.value
        for s in stage.samples  # type: ignore[attr-defined]
        if s.name.endswith("_count") and s.labels["stage"] == "parse"
    )
    assert parse_count == 3
    for st in stages:
        series = [
            s.value
            for s in stage.samples  # type: ignore[attr-defined]
            if s.name.endswith("_bucket") and s.labels["stage"] == st
        ]
        assert all(a <= b for a, b in pairwise(series))

    overflow = fams["hftx_latency_overflow"]
    assert overflow.type == "counter"  # type: ignore[attr-defined]
    assert {s.labels["stage"]: s.value for s in overflow.samples}["tick_to_trade"] == 1  # type: ignore[attr-defined]
    for name, value in {"events": 0, "orders": 7, "rejects": 1, "resyncs": 0, "drops": 2}.items():
        fam = fams[f"hftx_{name}"]
        assert fam.type == "counter"  # type: ignore[attr-defined]
        assert fam.samples[0].name == f"hftx_{name}_total"  # type: ignore[attr-defined]
        assert fam.samples[0].value == value  # type: ignore[attr-defined]
    cap = fams["hftx_pool_capacity"]
    assert cap.type == "gauge"  # type: ignore[attr-defined]
    assert {s.labels["pool"]: s.value for s in cap.samples} == {"orders": 1024, "frames": 64}  # type: ignore[attr-defined]


class _ThreadsSource(TrackerSource):
    def thread_usage(self) -> Mapping[str, Mapping[str, float | None]]:
        return {
            "hftx-session": {"cpu_s": 2.5, "runqueue_wait_s": 0.01, "minor_faults": 12, "major_faults": 0,
                             "voluntary_switches": 300, "involuntary_switches": 4},
            "hftx-feed": {"cpu_s": 1.0, "runqueue_wait_s": None, "minor_faults": 3, "major_faults": 1,
                          "voluntary_switches": 7, "involuntary_switches": None},
        }


def test_thread_usage_is_exposed_per_thread_and_unknowns_are_left_out() -> None:
    with serve_metrics(0, _ThreadsSource(hftx.LatencyTracker(sample_rate=0.0))) as server:
        fams = _scrape(server.port)

    def samples(name: str) -> dict[tuple[str, ...], float]:
        fam = fams[name]
        assert fam.type == "counter"  # type: ignore[attr-defined]
        return {tuple(s.labels[k] for k in ("thread", "kind") if k in s.labels): s.value
                for s in fam.samples if s.name == f"{name}_total"}  # type: ignore[attr-defined]

    assert samples("hftx_thread_cpu_seconds") == {("hftx-feed",): 1.0, ("hftx-session",): 2.5}
    assert samples("hftx_thread_runqueue_wait_seconds") == {("hftx-session",): 0.01}
    assert samples("hftx_thread_page_faults") == {("hftx-feed", "minor"): 3, ("hftx-feed", "major"): 1,
                                                  ("hftx-session", "minor"): 12, ("hftx-session", "major"): 0}
    assert samples("hftx_thread_context_switches") == {("hftx-feed", "voluntary"): 7,
                                                       ("hftx-session", "voluntary"): 300,
                                                       ("hftx-session", "involuntary"): 4}


def test_bad_port_is_a_clear_error() -> None:
    import pytest

    with pytest.raises(ValueError, match=r"metrics\.port=70000"):
        serve_metrics(70000, TrackerSource(hftx.LatencyTracker()))
