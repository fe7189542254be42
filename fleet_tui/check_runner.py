"""The merge queue's check runner, the command of its pane (a card in the grid):
``python -m fleet_tui.check_runner SPEC``.

SPEC is a JSON file: ``{"checks": [{"run": [argv...], "timeout": seconds}], "result": path}``.
Each check runs in the current folder (the merge worktree), one after the other, as an argv
list (no shell), its output shown as it comes; the first that exits non-zero or runs past its
timeout (its process group is ended) stops the run. What happened is written to ``result``
(JSON: per check its argv, ``ok``, ``code`` (null: timed out), ``seconds`` and last lines) and
the runner exits 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: Lines of a check's output kept for the result; seconds between SIGTERM and SIGKILL.
TAIL_LINES = 20
GRACE = 2.0
#: Bytes of output kept to cut the last lines from.
_KEEP = 64 * 1024


def _end(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(GRACE)
            return
        except subprocess.TimeoutExpired:
            continue


def run_check(argv: list[str], timeout: float) -> dict[str, Any]:
    out = sys.stdout.buffer
    out.write(f"\n$ {shlex.join(argv)}\n".encode())
    out.flush()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        line = f"cannot run {argv[0]}: {exc.strerror or exc}"
        out.write(f"{line}\n".encode())
        return {"check": argv, "ok": False, "code": 127, "seconds": 0.0, "tail": [line]}
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        _end(proc)

    timer = threading.Timer(timeout, expire)
    timer.start()
    kept = b""
    assert proc.stdout is not None
    while chunk := proc.stdout.read1(4096):
        out.write(chunk)
        out.flush()
        kept = (kept + chunk)[-_KEEP:]
    code = proc.wait()
    timer.cancel()
    seconds = round(time.monotonic() - start, 3)
    tail = kept.decode("utf-8", errors="replace").splitlines()[-TAIL_LINES:]
    if timed_out.is_set():
        note = f"timed out after {timeout:g}s"
        out.write(f"\n{note}\n".encode())
        return {"check": argv, "ok": False, "code": None, "seconds": seconds, "tail": [*tail, note]}
    return {"check": argv, "ok": code == 0, "code": code, "seconds": seconds, "tail": tail}


def main(args: list[str]) -> int:
    if len(args) != 1:
        print("usage: python -m fleet_tui.check_runner SPEC", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    results = []
    for check in spec["checks"]:
        result = run_check(list(check["run"]), float(check["timeout"]))
        results.append(result)
        if not result["ok"]:
            break
    passed = all(r["ok"] for r in results)
    result_path = Path(spec["result"])
    tmp = result_path.with_name(result_path.name + ".tmp")
    tmp.write_text(json.dumps({"checks": results}), encoding="utf-8")
    os.replace(tmp, result_path)
    verdict = "all checks passed" if passed else f"failed: {shlex.join(results[-1]['check'])}"
    print(f"\n{'✔' if passed else '✖'} {verdict}", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
