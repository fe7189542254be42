"""Benchmark of the transcript followers: the first read of a big Claude Code transcript, a
poll after a few lines were appended (what each change costs), and a poll with nothing new.

Prints JSON. Run: ``python bench/transcripts.py [--mb 50]``.
Targets (2-core machine): an incremental poll of 5 new lines <= 2 ms whatever the file's
size (only the appended bytes are read); a poll with nothing new <= 0.1 ms.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from fleet_tui.adapters.transcripts import ClaudeFollower


def _turn(i: int) -> list[str]:
    """One turn as Claude Code writes it: a prompt, a tool result with a big file in it, and
    a streamed assistant message written as three lines under one id."""
    lines = [
        {"type": "user", "uuid": f"u{i}", "message": {"role": "user", "content": f"step {i}"}},
        {"type": "user", "uuid": f"r{i}", "message": {"role": "user", "content": [
            {"type": "tool_result", "content": "x" * 6000}]}},
    ]
    for part, out in enumerate((2, 9, 150)):
        usage = {"input_tokens": 3, "cache_creation_input_tokens": 500 + i % 7,
                 "cache_read_input_tokens": 24000, "output_tokens": out, "service_tier": "standard"}
        lines.append({"type": "assistant", "uuid": f"a{i}-{part}", "requestId": f"req_{i}",
                      "message": {"id": f"msg_{i}", "model": "claude-sonnet-4-5-20250929",
                                  "content": [], "usage": usage}})
    return [json.dumps(line, separators=(",", ":")) for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "session.jsonl"
        turns = 0
        with open(path, "w") as f:
            while f.tell() < args.mb << 20:
                f.write("\n".join(_turn(turns)) + "\n")
                turns += 1
        follower = ClaudeFollower("bench", path)
        start = time.perf_counter()
        first = []
        while batch := follower.poll():  # at most READ_LIMIT bytes a poll
            first += batch
        first_s = time.perf_counter() - start
        idle = []
        for _ in range(200):
            start = time.perf_counter()
            follower.poll()
            idle.append(time.perf_counter() - start)
        appended = []
        for k in range(50):
            with open(path, "a") as f:
                f.write("\n".join(_turn(turns + k)[2:]) + "\n")  # 3 lines of one message
                f.write("\n".join(_turn(turns + k)[:2]) + "\n")
            start = time.perf_counter()
            got = follower.poll()
            appended.append(time.perf_counter() - start)
            assert len(got) == 1  # one message, its three lines counted once
        size = path.stat().st_size
    idle.sort()
    appended.sort()
    print(json.dumps({
        "file_mb": round(size / (1 << 20), 1),
        "messages": turns,
        "first_read_s": round(first_s, 3),
        "first_read_mb_per_s": round(size / (1 << 20) / first_s, 1),
        "first_read_events": len(first),
        "poll_nothing_new_ms_p50": round(idle[len(idle) // 2] * 1000, 4),
        "poll_5_new_lines_ms_p50": round(appended[len(appended) // 2] * 1000, 3),
        "poll_5_new_lines_ms_max": round(appended[-1] * 1000, 3),
    }))


if __name__ == "__main__":
    main()
