"""What this machine and process offer for low latency: ``hftx.sysinfo()`` and ``hftx sysinfo``."""

from __future__ import annotations

from typing import Any

from hftx import _core


def sysinfo() -> dict[str, Any]:
    """CPU model, cores and SMT siblings, NUMA nodes, isolated CPUs, TSC and clock, transparent and
    reserved huge pages, whether this process may use SCHED_FIFO and mlockall (each tried, then undone),
    and its resource limits — as nested dicts, the shape ``hftx sysinfo --json`` prints."""
    return _core.sysinfo()


def _cpus(cpus: list[int]) -> str:
    out: list[str] = []
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(out) or "none"


def _limit(v: int, unit: str = "") -> str:
    return "unlimited" if v < 0 else f"{v}{unit}"


def rows(info: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(section, item, value) rows for the terminal table."""
    cpu, clock, mem, proc = info["cpu"], info["clock"], info["memory"], info["process"]
    smt = " ".join("(" + ",".join(map(str, c)) + ")" for c in cpu["smt_siblings"])
    out: list[tuple[str, str, str]] = [
        ("cpu", "model", cpu["model"]),
        ("cpu", "kernel", info["kernel"]),
        ("cpu", "online", f"{_cpus(cpu['online'])} ({len(cpu['online'])} logical)"),
        ("cpu", "physical cores", f"{cpu['physical_cores']}  SMT siblings: {smt}"),
        ("cpu", "isolated", _cpus(cpu["isolated"])),
    ]
    out += [("numa", f"node {n['id']}", _cpus(n["cpus"])) for n in info["numa_nodes"]]
    flags = [f for f in ("constant_tsc", "nonstop_tsc", "rdtscp") if clock[f]]
    out += [
        ("clock", "invariant TSC", f"{'yes' if clock['invariant_tsc'] else 'no'}  ({', '.join(flags) or 'no flags'}"
         f"{', CPUID bit' if clock['cpuid_invariant_tsc'] else ''})"),
        ("clock", "TSC frequency", f"{clock['tsc_frequency_hz'] / 1e9:.6f} GHz (measured)"),
        ("clock", "kernel clocksource", clock["kernel_clocksource"]),
        ("clock", "hftx uses", f"{clock['source']}: {clock['reason']}"),
        ("memory", "transparent huge pages", f"{mem['thp_enabled']} (defrag {mem['thp_defrag']})"),
    ]
    for p in mem["huge_pages"]:
        size = f"{p['size_kb'] // 1024} MiB" if p["size_kb"] >= 1024 else f"{p['size_kb']} kB"
        out.append(("memory", f"huge pages {size}", f"{p['total']} reserved, {p['free']} free"))
    lim = proc["rlimits"]
    for name in ("sched_fifo", "mlockall"):
        cap = proc[name]
        label = "SCHED_FIFO" if name == "sched_fifo" else name
        out.append(("process", label, f"{'allowed' if cap['allowed'] else 'refused'}: {cap['detail']}"))
    out += [
        ("process", "RLIMIT_MEMLOCK",
         f"{_limit(lim['memlock_soft'], ' B')} (hard {_limit(lim['memlock_hard'], ' B')})"),
        ("process", "RLIMIT_RTPRIO", f"{_limit(lim['rtprio_soft'])} (hard {_limit(lim['rtprio_hard'])})"),
    ]
    return out
