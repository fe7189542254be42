"""How big and how far a fleet.yaml may go: every limit the loader and the checks enforce.

Hostile input is normal input: a config is read whole by the UI, the daemon and ``validate``,
so each limit keeps loading it under 2 s and a few MB whatever the file holds, and keeps values
that would only fail later (a 10^20-column pane, a NaN budget) out at ``validate`` time.
"""

from __future__ import annotations

#: The file is refused, before it is parsed, past this many bytes.
MAX_BYTES = 1024 * 1024

#: Mappings and lists inside each other; fleet.yaml itself needs about 6.
MAX_DEPTH = 50

#: Values (scalars, lists, mappings) in the document once every alias is expanded: bounds the
#: work and memory of "billion laughs" alias bombs while they are being composed.
MAX_NODES = 50_000

#: Characters of status patterns (regular expressions) in the whole fleet, each counted with
#: one more: compiling costs up to ~7 us a character, so 20,000 take at most ~0.15 s.
MAX_PATTERN_TEXT = 20_000

#: Agents a fleet may start, replicas included.
MAX_AGENTS = 200

#: Each count an agent or the defaults may set: (least, most).
COUNT_RANGES: dict[str, tuple[int, int]] = {
    "replicas": (1, 100),
    "max_tasks": (1, 1000),
    "max_restarts": (0, 1000),
    "width": (1, 1000),
    "height": (1, 1000),
    "history_limit": (0, 1_000_000),
}

#: The longest duration (``stall_after``), in seconds: a week.
MAX_DURATION = 7 * 24 * 3600.0

#: The most each budget limit may be.
BUDGET_MAXIMUMS: dict[str, float] = {"tokens": 10**12, "usd": 1_000_000.0, "minutes": 525_600.0}
