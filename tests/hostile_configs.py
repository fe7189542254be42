"""Hostile fleet.yaml files, as bytes: alias bombs, deep nesting, huge files and numbers, bytes
that are not UTF-8 text. Shared by ``tests/test_config_limits.py`` and ``bench/config.py``.

``HOSTILE`` maps a name to the file's bytes; ``EXPECTED`` to the exact one-line error
``fleet-tui validate NAME.yaml`` gives for it (from the file's folder).
"""

from __future__ import annotations

from pathlib import Path

BASE = "fleet: x\nagents:\n  - name: a\n    command: [sh]\n"


def _laughs(levels: int, first: str) -> str:
    """``x0: &x0 [lol x 10]``, then each level ten aliases of the one before."""
    lines = [f"x0: &x0 [{', '.join(['lol'] * 10)}]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, levels)]
    return first + "".join(f"{line}\n" for line in lines)


def _command_bomb() -> str:
    """The same bomb built inside an agent's command."""
    levels = [f"[{', '.join(['lol'] * 10)}]"] + [f"[{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, 10)]
    return BASE.replace("[sh]", "") + "".join(f"      - &x{i} {level}\n" for i, level in enumerate(levels))


def _padding(lines: int) -> str:
    return "".join(f"# padding line {i:08d} ..........................................\n"
                   for i in range(lines))


HOSTILE: dict[str, bytes] = {
    "billion-laughs": _laughs(10, "fleet: x\n").encode(),
    "command-bomb": _command_bomb().encode(),
    "nested-2000": (BASE + "    env: " + "[" * 2000 + "]" * 2000 + "\n").encode(),
    "nested-block": ("fleet: x\n" + "".join(" " * i + f"k{i}:\n" for i in range(1000))).encode(),
    "two-mb": (BASE + _padding(30_000)).encode(),
    "replicas-huge": (BASE + "    replicas: 1000000000\n").encode(),
    "too-many-agents": ("fleet: x\nagents:\n" + "".join(
        f"  - {{name: a{i}, command: [sh], replicas: 100}}\n" for i in range(3))).encode(),
    "width-huge": (BASE + "    width: 99999999999999999999\n").encode(),
    "int-too-long": (BASE + "    height: " + "9" * 5000 + "\n").encode(),
    "usd-nan": (BASE + "    budget: {usd: .nan}\n").encode(),
    "tokens-huge": (BASE + "    budget: {tokens: 1000000000000000000}\n").encode(),
    "stall-inf": (BASE + "    stall_after: .inf\n").encode(),
    "stall-year": (BASE + "    stall_after: 1000h\n").encode(),
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "latin-1": (BASE + "    model: café\n").encode("latin-1"),
    "utf-16": BASE.encode("utf-16"),
    "utf-16-no-bom": BASE.encode("utf-16-le"),
    "nul-byte": BASE.encode() + b"    model: a\x00b\n",
    "nul-escape": (BASE + '    model: "a\\0b"\n').encode(),
    "control-in-name": b'fleet: x\nagents:\n  - name: "a\\n\\e]52;c;eA==\\a"\n    command: [sh]\n',
    "env-key-equals": (BASE + '    env: {"A=B": c}\n').encode(),
    "patterns-too-long": (BASE + "    status_patterns:\n      idle:\n"
                          + "".join(f"        - '{i}{'a' * 990}'\n" for i in range(21))).encode(),
    "task-chain-cycle": ("fleet: x\ntasks:\n" + "".join(
        f"  - {{id: t{i}, title: t, blocked_by: [t{(i + 1) % 3000}]}}\n" for i in range(3000))).encode(),
}

EXPECTED: dict[str, str] = {
    "billion-laughs": "billion-laughs.yaml:6:25: x4[3]: more than 50000 values once aliases are expanded",
    "command-bomb": "command-bomb.yaml:9:29: agents[0].command[4][3]: "
                    "more than 50000 values once aliases are expanded",
    "nested-2000": "nested-2000.yaml:5:1007: YAML syntax error: nested more than 50 levels deep",
    "nested-block": "nested-block.yaml:52:51: k0.k1.k2: nested more than 50 levels deep",
    "two-mb": "two-mb.yaml:15654:47: the file goes on past 1 MB, the most fleet.yaml may hold",
    "replicas-huge": "replicas-huge.yaml:5:15: agents[0].replicas: replicas must be 100 or less",
    "too-many-agents": "too-many-agents.yaml:5:41: agents[2].replicas: "
                       "more than 200 agents in the fleet (replicas included)",
    "width-huge": "width-huge.yaml:5:12: agents[0].width: width must be 1000 or less",
    "int-too-long": "int-too-long.yaml:5:13: agents[0].height: a number too long to read",
    "usd-nan": "usd-nan.yaml:5:19: agents[0].budget.usd: a budget must be a finite number, not nan",
    "tokens-huge": "tokens-huge.yaml:5:22: agents[0].budget.tokens: "
                   "a tokens budget must be at most 1,000,000,000,000",
    "stall-inf": "stall-inf.yaml:5:18: agents[0].stall_after: "
                 "'inf' is not a duration (use seconds, or like 90s, 10m, 1h)",
    "stall-year": "stall-year.yaml:5:18: agents[0].stall_after: a duration must be at most 7 days",
    "binary": "binary.yaml:1:1: byte 0x89 is not UTF-8: save the file as UTF-8",
    "latin-1": "latin-1.yaml:5:15: byte 0xe9 is not UTF-8: save the file as UTF-8",
    "utf-16": "utf-16.yaml:1:1: the file is UTF-16: save it as UTF-8",
    "utf-16-no-bom": "utf-16-no-bom.yaml:1:2: "
                     "a NUL byte (a UTF-16 or binary file? fleet.yaml must be UTF-8 text)",
    "nul-byte": "nul-byte.yaml:5:13: a NUL byte (a UTF-16 or binary file? fleet.yaml must be UTF-8 text)",
    "nul-escape": "nul-escape.yaml:5:12: agents[0].model: a NUL character (\\0) in a string",
    "control-in-name": "control-in-name.yaml:3:11: agents[0].name: 'a\\n\\x1b]52;c;eA==\\x07' is not a valid "
                       "agent name (letters, digits, '_', '-'; starting with a letter or digit)",
    "env-key-equals": "env-key-equals.yaml:5:11: agents[0].env.A=B: "
                      "'A=B' cannot name an environment variable",
    "patterns-too-long": "patterns-too-long.yaml:27:11: agents[0].status_patterns.idle[20]: "
                         "the fleet's status patterns pass 20000 characters",
    "task-chain-cycle": "task-chain-cycle.yaml:3:37: tasks[0].blocked_by[0]: "
                        "a dependency cycle: t0 -> t1 -> t2 -> ... (2996 more) -> t2999 -> t0",
}


def write_all(folder: Path) -> dict[str, Path]:
    """Every hostile file as ``folder/NAME.yaml``."""
    paths = {}
    for name, data in HOSTILE.items():
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_bytes(data)
    return paths
