"""Benchmark of fleet.yaml loading on hostile and near-limit files: ``fleet-tui validate`` on each
as a subprocess (wall time, CPU time, peak memory, exit code, first line of stderr), plus the
in-process load time (best of 3, wall and CPU). On a loaded machine the CPU times are the ones
to compare: wall time there mostly measures waiting for a core.

Prints JSON. Run: ``python bench/config.py [--src DIR]``; ``--src /path/to/other/checkout``
runs the subprocesses against that checkout's code (a baseline), in-process times are skipped.
Each subprocess is capped at 10 s and 1 GB of address space, so a baseline bomb stops there.
Target: every file answered in <= 2 s, a few tens of MB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.hostile_configs

from fleet_tui.config.errors import ConfigError  # noqa: E402
from fleet_tui.config.loader import load_config  # noqa: E402
from tests.hostile_configs import BASE, HOSTILE  # noqa: E402

TIMEOUT = 10.0
MEMORY = 2**30

#: Files near the limits that are slow to read if anything is: the most values, the most text.
NEAR_LIMIT: dict[str, bytes] = {
    "flat-list-1mb": ("fleet: x\ntasks: [" + "1," * 500_000 + "1]\n").encode(),
    "env-24k-keys": (BASE + "    env:\n" + "".join(f"      K{i}: v\n" for i in range(24_000))).encode(),
    "string-1mb": (BASE + "    prompt: " + "x" * (2**20 - 100) + "\n").encode(),
    "tasks-5000-chain": ("fleet: x\ntasks:\n" + "".join(
        f"  - {{id: t{i}, title: t, blocked_by: [t{i + 1}]}}\n" for i in range(4999))
        + "  - {id: t4999, title: t}\n").encode(),
    "patterns-20k": (BASE + "    status_patterns:\n      idle:\n" + "".join(
        f"        - 'prompt {i} (a|b)+ \\\\$'\n" for i in range(20_000))).encode(),
}


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _validate(path: Path, src: Path) -> dict[str, object]:
    """One ``fleet-tui validate`` with its own peak RSS (``wait4``), killed at ``TIMEOUT``."""
    env = {**os.environ, "PYTHONPATH": str(src), "FLEET_HOME": str(path.parent / "home")}
    err_path = path.with_suffix(".stderr")
    start = time.perf_counter()
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "fleet_tui.cli", "validate", path.name],
                                cwd=path.parent, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                preexec_fn=_limit)
    code: int | str = "timeout"
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            code = os.waitstatus_to_exitcode(status) if code != "killed" else code
            break
        if time.perf_counter() - start > TIMEOUT:
            proc.kill()
            code = "killed"
        time.sleep(0.005)
    proc.returncode = 0  # reaped above
    wall = time.perf_counter() - start
    lines = err_path.read_text(errors="replace").splitlines()
    return {"exit": code if code != "killed" else f"killed at {TIMEOUT:g} s",
            "wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "stderr_lines": len(lines), "stderr": (lines[0] if lines else "")[:160]}


def _load_times(path: Path) -> dict[str, float]:
    wall = cpu = float("inf")
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        with contextlib.suppress(ConfigError):
            load_config(path)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return {"load_s": round(wall, 4), "load_cpu_s": round(cpu, 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", type=Path, default=REPO, help="checkout whose fleet_tui to run")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in {**HOSTILE, **NEAR_LIMIT}.items():
            path = Path(tmp) / f"{name}.yaml"
            path.write_bytes(data)
            results[name] = {"bytes": len(data), **_validate(path, args.src)}
            if args.src == REPO:
                results[name].update(_load_times(path))
    walls = [float(r["wall_s"]) for r in results.values()]  # type: ignore[arg-type]
    cpus = [float(r["cpu_s"]) for r in results.values()]  # type: ignore[arg-type]
    print(json.dumps({"src": str(args.src), "max_wall_s": max(walls), "max_cpu_s": max(cpus),
                      "load_average": os.getloadavg()[0],
                      "files": results}, indent=2))


if __name__ == "__main__":
    main()
