"""Parsing git's unified diff (``git diff -p`` with ``a/``/``b/`` prefixes and quoted paths)
into files: path, old path (renames, copies), status, binary flag, +/- counts and hunks.

The text is hostile input of any size: a file shows at most ``MAX_FILE_LINES`` lines, a line
at most ``MAX_LINE_CHARS`` characters, the whole diff at most ``MAX_TOTAL_LINES`` lines (the
files past it keep their counts, without hunks); what is cut is flagged ``truncated``. Cut
parts are skipped and counted with ``str`` searches, not line by line, so a huge diff costs
little more than reading it. Paths come back unquoted but otherwise raw: whoever shows them
sanitises them (``core.sanitize``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Lines of one file kept for display (the counts cover every line).
MAX_FILE_LINES = 3000
#: Characters of one line kept for display.
MAX_LINE_CHARS = 400
#: Lines kept over the whole diff; later files keep their counts but no hunks.
MAX_TOTAL_LINES = 30000

MODIFIED, ADDED, DELETED, RENAMED, COPIED, UNTRACKED = (
    "modified", "added", "deleted", "renamed", "copied", "untracked")

_FILE_START = re.compile(r"^diff --git ", re.M)
_HUNK_START = re.compile(r"^@@", re.M)
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass
class Hunk:
    """One ``@@`` section: its header line and its lines, each starting with its kind
    (``' '``, ``'+'``, ``'-'`` or ``'\\'`` for "no newline at end of file")."""

    header: str
    lines: list[str] = field(default_factory=list)


@dataclass
class DiffFile:
    path: str
    old_path: str = ""
    status: str = MODIFIED
    binary: bool = False
    added: int = 0
    removed: int = 0
    hunks: list[Hunk] = field(default_factory=list)
    #: Header facts worth showing: mode changes, similarity.
    notes: list[str] = field(default_factory=list)
    #: Lines were left out (over a limit).
    truncated: bool = False

    @property
    def shown_lines(self) -> int:
        return sum(len(h.lines) + 1 for h in self.hunks)


@dataclass
class Diff:
    files: list[DiffFile] = field(default_factory=list)
    #: Some file lost lines or hunks to a limit.
    truncated: bool = False

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


def unquote_path(text: str) -> str:
    """A path as git prints it: ``"a/x\\ty\\303\\251"`` (C-quoted, octal bytes) or plain."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567":
                digits = re.match(r"[0-7]{1,3}", body[i + 1:i + 4])
                assert digits is not None
                out.append(int(digits.group(), 8) & 0xFF)
                i += 1 + len(digits.group())
                continue
            out.append(_C_ESCAPES.get(nxt, ord(nxt) if ord(nxt) < 128 else 63))
            i += 2
            continue
        out += char.encode("utf-8", "replace")
        i += 1
    return out.decode("utf-8", "replace")


def _quoted_token(text: str) -> tuple[str, str]:
    """The first C-quoted token of ``text`` and what follows it."""
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return text[: i + 1], text[i + 1:].lstrip(" ")
        i += 1
    return text, ""


def _strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix):] if path.startswith(prefix) else path


def _header_paths(rest: str) -> tuple[str, str]:
    """Old and new path from what follows ``diff --git ``: quoted tokens, or two plain names
    (equal unless renamed, and a rename names itself in ``rename from/to`` lines anyway)."""
    if rest.startswith('"'):
        old, rest = _quoted_token(rest)
        new = rest
    elif rest.endswith('"') and ' "' in rest:
        old, new = rest.split(' "', 1)
        new = '"' + new
    else:
        half = (len(rest) - 1) // 2  # "a/N b/N": both halves have the same length
        old, new = rest[:half], rest[half + 1:]
        if " b/" in rest and (old[2:] != new[2:]):
            old, new = rest.split(" b/", 1)
            new = "b/" + new
    return _strip_prefix(unquote_path(old), "a/"), _strip_prefix(unquote_path(new), "b/")


def _side_path(line: str, prefix: str) -> str | None:
    """The path of a ``+++ b/x`` line (``None`` for ``/dev/null``): unambiguous where the
    ``diff --git`` line is not. git ends the line with a tab when the name holds a space."""
    name = line[4:].rstrip("\t")
    if name == "/dev/null":
        return None
    return _strip_prefix(unquote_path(name), prefix)


def _parse_header(lines: list[str], file: DiffFile) -> None:
    for line in lines:
        if line.startswith("rename from ") or line.startswith("copy from "):
            file.old_path = unquote_path(line.split(" ", 2)[2])
        elif line.startswith("rename to ") or line.startswith("copy to "):
            file.path = unquote_path(line.split(" ", 2)[2])
            file.status = RENAMED if line.startswith("rename") else COPIED
        elif line.startswith("new file mode"):
            file.status = ADDED
        elif line.startswith("deleted file mode"):
            file.status = DELETED
        elif line.startswith(("old mode ", "new mode ", "similarity index ", "dissimilarity index ")):
            file.notes.append(line)
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            file.binary = True
        elif line.startswith("+++ "):
            new = _side_path(line, "b/")
            if new is not None:
                file.path = new


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + "…"


def _count(text: str, start: int, end: int, file: DiffFile) -> None:
    """Add the ``+``/``-`` lines of ``text[start:end]`` (whole hunk lines) to the counts."""
    part = text[start:end]
    if not part.startswith("\n"):
        part = "\n" + part
    file.added += part.count("\n+")
    file.removed += part.count("\n-")


def _parse_file(text: str, start: int, end: int, budget: int) -> DiffFile:
    """The file whose section is ``text[start:end]`` (from ``diff --git``), keeping at most
    ``budget`` lines of its hunks."""
    first_hunk = _HUNK_START.search(text, start, end)
    header_end = first_hunk.start() if first_hunk else end
    header = text[start:header_end].split("\n")
    file = DiffFile(path="")
    old, new = _header_paths(header[0][len("diff --git "):])
    file.path, file.old_path = new, ""
    _parse_header(header[1:], file)
    if file.status in (RENAMED, COPIED) and not file.old_path:
        file.old_path = old
    if file.status == DELETED:
        file.path = old
    if first_hunk is None:
        return file
    limit = min(budget, MAX_FILE_LINES)
    pos, kept, hunk = header_end, 0, None
    while pos < end:
        newline = text.find("\n", pos, end)
        line_end = end if newline < 0 else newline
        line = text[pos:line_end]
        if kept >= limit:
            file.truncated = True
            _count(text, pos, end, file)
            break
        if line.startswith("@@"):
            hunk = Hunk(_clip(line))
            file.hunks.append(hunk)
        elif hunk is not None and line and line[0] in "+- \\":
            hunk.lines.append(_clip(line))
            file.added += line[0] == "+"
            file.removed += line[0] == "-"
        elif hunk is not None and not line and line_end < end:
            hunk.lines.append(" ")  # diff.suppressBlankEmpty: an empty context line
        kept += 1
        pos = line_end + 1
    return file


def parse_diff(text: str) -> Diff:
    """Every file of a ``git diff -p`` output, within the limits above."""
    diff = Diff()
    starts = [m.start() for m in _FILE_START.finditer(text)]
    budget = MAX_TOTAL_LINES
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(text)
        file = _parse_file(text, start, max(start, end), budget)
        budget -= file.shown_lines
        diff.files.append(file)
        diff.truncated |= file.truncated
    return diff
