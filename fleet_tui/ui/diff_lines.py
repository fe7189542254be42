"""What the diff screen draws for one file, made safe and coloured: its lines (kind + text),
syntax highlighting, the file list's rows, and search over every file.

A line's kind is ``meta`` (what the header says: renamed, binary, truncated...), ``hunk`` (an
``@@`` line), or the diff's own ``+``, ``-``, ``' '`` and ``\\``. Texts go through
``safe_code`` before anything else (file contents and names are hostile input), so matches,
highlighting and drawing all see the same safe text. Highlighting uses the pygments lexer
picked from the file name, run over each hunk's new side (context and added lines) and old
side (removed lines), so a line is coloured with the lines around it; it is done a block at
a time as the lines are drawn (``Highlighted``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound
from rich.style import Style
from rich.syntax import PygmentsSyntaxTheme
from rich.text import Text

from fleet_tui.adapters.diff_parse import (
    ADDED,
    COPIED,
    DELETED,
    MAX_FILE_LINES,
    RENAMED,
    UNTRACKED,
    DiffFile,
)
from fleet_tui.core.sanitize import safe_code

TAB_SIZE = 4
#: Matches found at most (a one-letter search in a big diff).
MAX_MATCHES = 10000
#: pygments styles for dark and light app themes (token colours only: backgrounds are the
#: app theme's).
SYNTAX_THEMES = {True: "monokai", False: "friendly"}
#: Lines coloured at a time, and lines lexed before them for context (``Highlighted``).
BLOCK, CONTEXT = 32, 24
_CODE = ("+", "-", " ")
STATUS_LETTERS = {ADDED: "A", DELETED: "D", RENAMED: "R", COPIED: "C", UNTRACKED: "?"}


@dataclass(frozen=True)
class Line:
    kind: str
    text: str


def file_label(file: DiffFile) -> str:
    """The file's path (``new ← old`` for a rename or copy), safe to draw."""
    if file.old_path and file.old_path != file.path:
        return f"{safe_code(file.path)} ← {safe_code(file.old_path)}"
    return safe_code(file.path)


def counts(file: DiffFile) -> str:
    return "bin" if file.binary else f"+{file.added} -{file.removed}"


def file_row(file: DiffFile) -> Text:
    """One row of the file list: status letter, counts, path."""
    row = Text(no_wrap=True, overflow="ellipsis")
    row.append(STATUS_LETTERS.get(file.status, "M") + " ", style="bold")
    if file.binary:
        row.append("     bin ", style="dim")
    else:
        row.append(f"{'+' + str(file.added):>5}", style="green")
        row.append(f"{'-' + str(file.removed):>5} ", style="red")
    row.append(file_label(file))
    return row


def _meta(file: DiffFile) -> list[str]:
    lines = []
    if file.status == ADDED:
        lines.append("new file")
    elif file.status == DELETED:
        lines.append("deleted file")
    elif file.status == UNTRACKED:
        lines.append("untracked file (not added to git yet)")
    elif file.status in (RENAMED, COPIED):
        lines.append(f"{file.status} from {safe_code(file.old_path)}")
    lines += [safe_code(note) for note in file.notes]
    if file.binary:
        lines.append("binary file: contents not shown")
    elif not file.hunks and file.status != UNTRACKED:
        lines.append("no change to the contents")
    return lines


def file_lines(file: DiffFile) -> list[Line]:
    """The file's lines as drawn (and searched)."""
    out = [Line("meta", text) for text in _meta(file)]
    for hunk in file.hunks:
        out.append(Line("hunk", safe_code(hunk.header)))
        for raw in hunk.lines:
            out.append(Line(raw[0], safe_code(raw[1:].expandtabs(TAB_SIZE))))
    if file.truncated:
        out.append(Line("meta", f"diff truncated: at most {MAX_FILE_LINES} lines of a file, "
                                "and of a line, a few hundred characters, are shown"))
    return out


def lexer_for(path: str) -> Lexer:
    """The pygments lexer for a file name (plain text when none fits)."""
    name = path.rsplit("/", 1)[-1]
    try:
        return get_lexer_for_filename(name, stripnl=False, ensurenl=False)
    except (ClassNotFound, ValueError):
        return TextLexer(stripnl=False, ensurenl=False)


@lru_cache(maxsize=4)
def _theme(dark: bool) -> PygmentsSyntaxTheme:
    return PygmentsSyntaxTheme(SYNTAX_THEMES[dark])


@lru_cache(maxsize=1024)
def _token_style(dark: bool, token_type: object) -> Style:
    style = _theme(dark).get_style_for_token(token_type)  # type: ignore[arg-type]
    return Style(color=style.color, bold=style.bold or None, italic=style.italic or None)


def _highlight(lexer: Lexer, texts: list[str], dark: bool) -> list[Text]:
    """``texts`` (lines of one side of a hunk) coloured as one piece of code."""
    out = [Text()]
    for token_type, value in lexer.get_tokens("\n".join(texts)):
        style = _token_style(dark, token_type)
        for index, part in enumerate(value.split("\n")):
            if index:
                out.append(Text())
            if part:
                out[-1].append(part, style)
    return (out + [Text() for _ in texts])[: len(texts)]


class Highlighted:
    """One file's lines coloured by its lexer, a block of ``BLOCK`` lines at a time as they are
    drawn (a big file costs the UI thread only the pages looked at). A block is lexed with up to
    ``CONTEXT`` lines before it, so one that starts inside a string or comment is coloured right."""

    def __init__(self, path: str, lines: list[Line], dark: bool) -> None:
        self.lines = lines
        self._lexer = lexer_for(path)
        self._dark = dark
        self._texts: dict[int, Text] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> Text:
        text = self._texts.get(index)
        if text is None:
            self._colour(index - index % BLOCK)
            text = self._texts[index]
        return text

    def _colour(self, start: int) -> None:
        lines, end = self.lines, min(start + BLOCK, len(self.lines))
        for index in range(start, end):
            self._texts[index] = Text(lines[index].text)
        index = max(0, start - CONTEXT)
        while index < end:
            if lines[index].kind not in _CODE:
                index += 1
                continue
            run_end = index
            while run_end < end and lines[run_end].kind in _CODE:
                run_end += 1
            for kinds in ((" ", "+"), ("-",)):
                picked = [i for i in range(index, run_end) if lines[i].kind in kinds]
                coloured = _highlight(self._lexer, [lines[i].text for i in picked], self._dark)
                for i, text in zip(picked, coloured, strict=True):
                    if i >= start:
                        self._texts[i] = text
            index = run_end


def find_matches(files: list[list[Line]], query: str) -> list[tuple[int, int, int]]:
    """Where ``query`` occurs: (file, line, column), in order; case matters only when the
    query has a capital letter."""
    if not query:
        return []
    fold = query == query.lower()
    needle = query.lower() if fold else query
    found: list[tuple[int, int, int]] = []
    for file_index, lines in enumerate(files):
        for line_index, line in enumerate(lines):
            text = line.text.lower() if fold else line.text
            column = text.find(needle)
            while column >= 0:
                found.append((file_index, line_index, column))
                if len(found) >= MAX_MATCHES:
                    return found
                column = text.find(needle, column + len(needle))
    return found
