"""Resident memory of a process and everything it starts, read from /proc (Linux).

`TreeSampler` watches a process tree from a background thread: every `interval` seconds it
adds up the resident set (VmRSS) of the process and all its descendants (worker pools,
fork servers), keeping the highest sum seen, and the same for the proportional set size
(Pss, which counts pages shared between forked processes once); it also keeps each
process's own peak (VmHWM). The sum of peaks over-counts (they need not coincide) and the
sampled sum can miss a spike shorter than the interval, so all are reported.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

KIB_PER_MIB = 1024


def _status(pid: int) -> dict[str, str]:
    values: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            values[key] = rest.strip()
    return values


def _mib(value: str | None) -> float:
    """'123456 kB' -> MiB."""
    if not value:
        return 0.0
    return int(value.split()[0]) / KIB_PER_MIB


def children_of() -> dict[int, list[int]]:
    """Every live process's children, from /proc/<pid>/stat."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """`pid` and every live process below it."""
    tree = children_of()
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(tree.get(current, []))
    return found


def pss_mib(pid: int) -> float:
    """Proportional set size: resident memory with each shared page split between sharers."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return _mib(line.split(":", 1)[1])
    return 0.0


def peak_rss_mib(pid: int | None = None) -> float:
    """VmHWM (peak resident set) of one process, this one by default, in MiB."""
    return round(_mib(_status(pid or os.getpid()).get("VmHWM")), 1)


class TreeSampler:
    """Samples the summed resident memory of a process tree until stopped."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak_sum_mib = 0.0
        self.peak_pss_mib = 0.0
        self.peak_processes = 0
        self.samples = 0
        self.peaks: dict[int, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def _sample(self) -> None:
        total, pss, count = 0.0, 0.0, 0
        for pid in descendants(self.pid):
            status = _status(pid)
            if "VmRSS" not in status:
                continue
            total += _mib(status.get("VmRSS"))
            pss += pss_mib(pid)
            count += 1
            # Each process's own peak, kept as long as it lives (workers come and go).
            self.peaks[pid] = {
                "pid": pid,
                "name": status.get("Name", "?"),
                "peak_rss_mib": round(_mib(status.get("VmHWM")), 1),
            }
        self.samples += 1
        if total > self.peak_sum_mib:
            self.peak_sum_mib, self.peak_processes = total, count
        self.peak_pss_mib = max(self.peak_pss_mib, pss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        """Stop sampling; the figures in MiB."""
        if self._thread.is_alive():
            self._sample()
            self._stop.set()
            self._thread.join(timeout=5)
        main = self.peaks.get(self.pid, {}).get("peak_rss_mib")
        return {
            "peak_tree_rss_mib": round(self.peak_sum_mib, 1),
            # Pages the processes share (a forked pool's) count once here, not once a process.
            "peak_tree_pss_mib": round(self.peak_pss_mib, 1),
            "processes_at_peak": self.peak_processes,
            "main_process_peak_rss_mib": main,
            "largest_process_peak_rss_mib": max(
                (p["peak_rss_mib"] for p in self.peaks.values()), default=None
            ),
            "sum_of_process_peaks_mib": round(
                sum(p["peak_rss_mib"] for p in self.peaks.values()), 1
            ),
            "processes_seen": len(self.peaks),
            "samples": self.samples,
            "interval_s": self.interval,
            "method": "sum of VmRSS (and of Pss) over the process and its descendants, sampled "
            f"every {self.interval:g} s from /proc (highest sums kept); per-process VmHWM "
            "alongside",
        }


def run_measured(
    argv: list[str], env: dict[str, str], cwd: Path, log: Path, interval: float = 0.1
) -> dict[str, Any]:
    """Run a command to the end, its output to `log`; wall time, exit code and memory."""
    import subprocess

    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        sampler = TreeSampler(proc.pid, interval).start()
        # Stop sampling just before the process is reaped, while its status is still readable.
        while proc.poll() is None:
            time.sleep(0.05)
        memory = sampler.stop()
    return {
        "argv": argv,
        "returncode": proc.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "memory": memory,
    }
