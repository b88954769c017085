"""hftx.sysinfo() and `hftx sysinfo`: every field present, in the right type, consistent with the OS."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import hftx


def test_every_field() -> None:
    info = hftx.sysinfo()
    cpu = info["cpu"]
    assert cpu["model"]
    assert isinstance(info["kernel"], str) and info["kernel"] == os.uname().release
    assert set(os.sched_getaffinity(0)) <= set(cpu["online"])
    assert cpu["physical_cores"] == len(cpu["smt_siblings"]) >= 1
    assert sorted(c for core in cpu["smt_siblings"] for c in core) == sorted(cpu["online"])
    assert isinstance(cpu["isolated"], list)
    assert info["numa_nodes"] and all({"id", "cpus"} <= n.keys() for n in info["numa_nodes"])

    clock = info["clock"]
    assert set(clock) >= {"invariant_tsc", "cpuid_invariant_tsc", "constant_tsc", "nonstop_tsc", "rdtscp",
                          "kernel_clocksource", "source", "reason", "tsc_frequency_hz"}
    assert clock["source"] in {"tsc", "clock_monotonic"}
    assert 1e8 < clock["tsc_frequency_hz"] < 1e10
    with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
        assert clock["kernel_clocksource"] == f.read().strip()
    if clock["source"] == "tsc":
        assert clock["invariant_tsc"] or "HFTX_CLOCK" in clock["reason"]

    mem = info["memory"]
    assert mem["thp_enabled"] in {"always", "madvise", "never", "unavailable"}
    for pool in mem["huge_pages"]:
        assert pool["size_kb"] > 0 and 0 <= pool["free"] <= pool["total"]

    proc = info["process"]
    for cap in ("sched_fifo", "mlockall"):
        assert isinstance(proc[cap]["allowed"], bool) and proc[cap]["detail"]
    lim = proc["rlimits"]
    assert set(lim) == {"memlock_soft", "memlock_hard", "rtprio_soft", "rtprio_hard"}
    # The probes undo themselves: this thread is back on normal scheduling.
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_cli_json_matches_api() -> None:
    out = subprocess.run([sys.executable, "-m", "hftx", "sysinfo", "--json"], capture_output=True, text=True,
                         check=True)
    data = json.loads(out.stdout)
    assert set(data) == set(hftx.sysinfo())
    assert data["cpu"]["model"] == hftx.sysinfo()["cpu"]["model"]


def test_cli_table() -> None:
    out = subprocess.run([sys.executable, "-m", "hftx", "sysinfo"], capture_output=True, text=True, check=True)
    for label in ("model", "invariant TSC", "TSC frequency", "transparent huge pages", "SCHED_FIFO", "mlockall",
                  "RLIMIT_MEMLOCK", "node 0"):
        assert label in out.stdout, label


def test_fifo_refusal_is_reported() -> None:
    """Without CAP_SYS_NICE and RLIMIT_RTPRIO 0, SCHED_FIFO is refused — and said so, not fatal."""
    code = (
        "import os, resource, json, hftx\n"
        "resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))\n"
        "os.setuid(65534) if os.getuid() == 0 else None\n"
        "print(json.dumps(hftx.sysinfo()['process']['sched_fifo']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    fifo = json.loads(out.stdout)
    assert fifo["allowed"] is False
    assert "EPERM" in fifo["detail"]
