"""The machine a benchmark ran on, as its report describes it: CPU model, cores, Python, load;
and the CPU time its server processes used (``pids_of``, ``cpu_seconds``).

Shared by the benchmarks. They run as scripts (``.venv/bin/python bench/…``), so ``bench/`` is
on ``sys.path`` and they import it as ``from _machine import machine``. Linux only, like the
benchmarks (``/proc/cpuinfo``, ``/proc/<pid>/stat``, CPU affinity).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    cpu: str  # model name
    nproc: int | None  # CPUs in the machine (os.cpu_count)
    usable_cpus: int  # CPUs this process may run on (its affinity)
    python: str  # version, e.g. "3.11.9"
    platform: str  # e.g. "Linux-6.1.0-x86_64-with-glibc2.36"
    load_average: tuple[float, float, float]  # 1, 5 and 15 minutes, when described

    @property
    def load_text(self) -> str:
        """The three load averages as ``/proc/loadavg`` shows them: ``0.52 0.58 0.59``."""
        return " ".join(f"{value:.2f}" for value in self.load_average)


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo``, else what :func:`platform.processor` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> Machine:
    """This machine now: the load average and the usable CPUs are the current ones."""
    return Machine(
        cpu=cpu_model(),
        nproc=os.cpu_count(),
        usable_cpus=len(os.sched_getaffinity(0)),
        python=platform.python_version(),
        platform=platform.platform(),
        load_average=os.getloadavg(),
    )


def pids_of(match: bytes) -> list[int]:
    """The processes whose command line contains ``match`` (``/proc``)."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if match in f.read():
                        out.append(int(pid))
            except OSError:
                pass
    return out


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU seconds (user and system) used so far by these processes; one that has ended counts
    for nothing."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")
