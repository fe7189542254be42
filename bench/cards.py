"""What each agent's card shows at the end of a session: prints JSON.

``python bench/cards.py EVENTS_JSONL``: folds the session log (as the UI does) and prints,
per agent, the status and where it comes from (screen or hook), the exit code, the last lines
of its pane, and the tasks with their column and assignee. Used by ``bench/real_agents.sh``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleet_tui.adapters.eventlog_read import read_log
from fleet_tui.core import events as ev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.screen import last_lines


def main() -> None:
    events, _warnings = read_log(Path(sys.argv[1]), skip_corrupt=True)
    state = fold_all(e for e in events if isinstance(e, ev.Event))
    reasons = {e.agent: e.reason[:80] for e in state.timeline if isinstance(e, ev.AgentStatus)}
    print(json.dumps({
        "agents": {
            name: {"status": a.status, "source": a.status_source, "reason": reasons.get(name, ""),
                   "exit_code": a.exit_code, "tasks": a.tasks,
                   "last_lines": last_lines(a.screen, 4, skip=("Pane is dead",))}
            for name, a in state.agents.items()
        },
        "tasks": {tid: {"column": t.column, "assignee": t.assignee} for tid, t in state.tasks.items()},
    }, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
