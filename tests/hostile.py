"""Hostile text for the "everything drawn is safe" tests: a corpus of strings that would act on a
terminal, a spreadsheet or a layout, a session that carries them in every text field, and the
checks that nothing of them reaches a screen or an export raw."""

from __future__ import annotations

import unicodedata

from fleet_tui.core import events as ev

#: What an agent, a hook, the inbox, fleet.yaml or a log could say.
HOSTILE = [
    "clip \x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard (BEL)
    "clip \x1b]52;c;ZXZpbA==\x1b\\",  # ... ended by ST
    "title \x1b]0;owned\x07 \x1b]2;owned\x1b\\",  # OSC 0/2: the window title
    "blank \x1b[2J\x1b[H\x1b[3J\x1b[10;10H\x1b[K",  # CSI J/H: clear, home, move
    "dcs \x1bP+q544e\x1b\\ apc \x1b_x\x1b\\ pm \x1b^x\x1b\\ sos \x1bXx\x1b\\",  # DCS, APC, PM, SOS
    "c1 \x9b2J \x9d0;t\x9c \x90q\x9c \x85nel \x8dri",  # C1: CSI, OSC, ST, DCS, NEL, RI
    "bidi user\u202etxt.exe \u2066iso\u2069 \u202a\u202b\u202c\u202d \u2067\u2068",  # overrides
    "ctl nul\x00 del\x7f bs\x08 bell\x07 so\x0e",  # C0 and DEL
    "lone esc \x1b",
    "\x1bc reset \x1b7\x1b8 \x1b(0",  # RIS, cursor save, charset: two-byte escapes
    "lines one\ntwo\r\nthree\rback\ttab\x0bvt\x0cff\u2028ls\u2029ps",
    "invisible zero\u200bwidth\ufeffbom\u00adshy\U000e0041tag\u061calm",
    "surrogate \ud800 lone",
    "=HYPERLINK(\"http://evil\",\"x\")",  # spreadsheet formulas
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "markup [bold]b[/] [@click=app.quit]quit[/] [link=http://evil]l[/]",
    "link \x1b]8;;http://evil\x1b\\text\x1b]8;;\x1b\\",
    "colour \x1b[31mred\x1b[0m",
    "long " + "A" * 3000 + "\x1b]52;c;" + "B" * 3000 + "\x07",
]

UNSAFE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp", "Cs")


def unsafe_chars(text: str, keep: str = "") -> list[str]:
    """The characters of ``text`` a terminal could act on (or that hide or reorder text)."""
    return [c for c in text if unicodedata.category(c) in UNSAFE_CATEGORIES and c not in keep]


def assert_safe(text: str, keep: str = "") -> None:
    bad = unsafe_chars(text, keep)
    assert not bad, f"unsafe characters {bad[:10]!r} in {text[:200]!r}"


T0 = 1_790_000_000.0
AGENT = "evil"


def hostile_events() -> list[ev.Event]:
    """A session whose every free-text field carries the corpus: the fleet's name, an agent's
    role, model and status, task ids, titles and assignees, notes, reasons, alerts, errors,
    sources and the agent's screen."""
    out: list[ev.Event] = [ev.LogHeader(fleet=HOSTILE[2], session="s-hostile", started=T0)]

    def add(event: ev.Event) -> None:
        event.ts = T0 + len(out)
        out.append(event)

    add(ev.AgentSpawned(agent=AGENT, role=HOSTILE[0], roles=["developer"], model=HOSTILE[5],
                        command=[HOSTILE[3]]))
    add(ev.AgentStarted(agent=AGENT, pid=1, pane="%1", width=60, height=8))
    add(ev.AgentSpawned(agent=HOSTILE[6], model=HOSTILE[1]))
    for i, text in enumerate(HOSTILE):
        task = f"T{i}" if i % 4 else text[:40]
        add(ev.TaskCreated(task=task, title=text, column="ready" if i % 2 else "backlog",
                           source=text))
        add(ev.TaskAssigned(task=task, agent=AGENT, reason=text))
        add(ev.TaskNote(task=task, text=text, kind=text[:10], agent=AGENT))
        add(ev.TaskMoved(task=task, column="in_progress", from_column="ready", reason=text,
                         agent=AGENT))
        add(ev.AgentStatus(agent=AGENT, status="waiting", reason=text, explicit=True))
        add(ev.Alert(kind=text[:10], message=text, agent=AGENT, task=task))
        add(ev.Error(kind="inbox", message=text, detail=text))
        add(ev.ApprovalRequested(task=task, approval=text[:20], transition="review->done",
                                 to_column="done", reason=text))
    add(ev.AgentStatus(agent=AGENT, status=HOSTILE[4], reason=HOSTILE[7]))
    add(ev.AgentOutput(agent=AGENT, changes=list(enumerate(HOSTILE[:8])), keyframe=True,
                       width=60, height=8))
    return out
