"""What an agent's card shows about overlaps of its task branches with others' (alerted, not
cleared: ``state.overlaps``): one short label, e.g. ``⚠ T2@dev-2`` (both change files) or
``✖ T2@dev-2`` (they would conflict), ``+N`` for more."""

from __future__ import annotations

from fleet_tui.core.sanitize import safe_line
from fleet_tui.core.state import FleetState


def overlap_label(state: FleetState, agent: str) -> str:
    """The overlaps ``agent``'s branches are in, worst first; "" when none."""
    found = []
    for seen in state.overlaps.values():
        owners = [(task, b.agent if (b := state.branches.get(task)) else "") for task in seen.tasks]
        for (_, owner), (other, other_agent) in ((owners[0], owners[1]), (owners[1], owners[0])):
            if owner == agent:
                mark = "✖" if seen.conflicts else "⚠"
                found.append((mark != "✖", f"{mark} {safe_line(other)}@{safe_line(other_agent)}"))
    if not found:
        return ""
    found.sort()
    more = f" +{len(found) - 1}" if len(found) > 1 else ""
    return found[0][1] + more
