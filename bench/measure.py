"""Run :mod:`bench.child` operations in fresh processes; describe the machine; small stats."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""The checkout (children run from here so ``bench`` is importable)."""


class ChildError(RuntimeError):
    """A measured child process failed or printed no result."""


def run_child(
    op: str, *args: str, profile: str | None = None, timeout: float = 3600
) -> dict[str, Any]:
    """Run ``python -m bench.child OP ARGS`` and return its JSON measurement."""
    cmd = [sys.executable, "-m", "bench.child", op, *args]
    if profile:
        cmd += ["--profile", profile]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout, check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise ChildError(
            f"{op} {' '.join(args)} failed (rc {proc.returncode}): {proc.stderr[-1500:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def load1() -> float:
    """The 1-minute load average now."""
    return os.getloadavg()[0]


def median(values: list[float]) -> float:
    """Median of ``values``."""
    return statistics.median(values)


@dataclass
class Machine:
    """Where and when the figures were taken."""

    nproc: int
    """CPUs available to this process."""
    mem_gib: float
    """Total memory."""
    cpu: str
    """CPU model name from /proc/cpuinfo."""
    python: str
    """Python version."""
    inspect: str
    """inspect-ai version."""
    date: str
    """When the run started (local time)."""
    load_start: tuple[float, float, float]
    """Load averages (1, 5, 15 min) at the start."""
    notes: list[str] = field(default_factory=list)
    """Anything else worth recording."""


def _meminfo_gib() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> Machine:
    """Describe this machine now."""
    return Machine(
        nproc=len(os.sched_getaffinity(0)),
        mem_gib=_meminfo_gib(),
        cpu=_cpu_model(),
        python=platform.python_version(),
        inspect=metadata.version("inspect_ai"),
        date=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        load_start=os.getloadavg(),
    )
