"""The diff adapter over real repositories: the unified-diff parser (renames, binary files,
deletions, no newline at the end, mode changes, hostile names), the live diff of a worktree
(uncommitted and untracked changes), the recorded diff of two commits, the limits, and the
one-line errors (a commit that is gone, an id that is not one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet_tui.adapters import diff_parse
from fleet_tui.adapters.diff_parse import (
    ADDED,
    DELETED,
    MODIFIED,
    RENAMED,
    UNTRACKED,
    parse_diff,
    unquote_path,
)
from fleet_tui.adapters.git_diff import DiffError, DiffRequest, load_diff
from fleet_tui.core import events as ev
from fleet_tui.core import workspace_events as wev
from fleet_tui.core.fold import fold_all
from fleet_tui.core.sanitize import UNSAFE_CHARS
from fleet_tui.core.workspace_events import FileChange
from fleet_tui.ui.diff_actions import agent_diff, task_diff
from fleet_tui.ui.diff_lines import BLOCK, Highlighted, file_label, file_lines
from tests.gitrepo import add_worktree, commit, git, make_repo, write

CODE = "".join(f"line {i}\n" for i in range(1, 21))
HOSTILE = ["esc\x1b[2Jname.py", "new\nline.txt", "tab\there.txt", 'quote"back\\slash.md',
           "ünï cödé.py", "sp ace.txt", "-dash.txt", "\x1b]52;c;aGk=\x07clip.txt"]


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    return make_repo(tmp_path / "repo", {"src/app.py": CODE, "doc/guide.md": "# Guide\n\nSome text.\n",
                                         "old/name.py": CODE, "gone.txt": "bye\n",
                                         "logo.png": b"\x89PNG\0\0\x01binary", "run.sh": "echo hi\n"})


def by_path(diff) -> dict:
    return {f.path: f for f in diff.files}


def test_recorded_diff_parses_every_kind_of_change(repo: tuple[Path, str]) -> None:
    root, base = repo
    (root / "old" / "name.py").unlink()  # the commit below adds new/name.py: a rename
    (root / "gone.txt").unlink()
    (root / "run.sh").chmod(0o755)
    head = commit(root, {"src/app.py": CODE.replace("line 5\n", "line five\nline 5b\n") + "tail",
                         "new/name.py": CODE.replace("line 20", "line twenty"),
                         "logo.png": b"\x89PNG\0\0\x02binary", "added.py": "x = 1\n"}, "work")
    diff = load_diff(DiffRequest("t", str(root), base, head))
    files = by_path(diff)
    assert sorted(files) == ["added.py", "gone.txt", "logo.png", "new/name.py", "run.sh", "src/app.py"]
    app = files["src/app.py"]
    assert (app.status, app.added, app.removed, app.binary) == (MODIFIED, 3, 1, False)
    assert app.hunks[-1].lines[-1] == "\\ No newline at end of file"
    assert "+tail" in app.hunks[-1].lines
    renamed = files["new/name.py"]
    assert (renamed.status, renamed.old_path) == (RENAMED, "old/name.py")
    assert (renamed.added, renamed.removed) == (1, 1)
    assert file_label(renamed) == "new/name.py ← old/name.py"
    assert files["gone.txt"].status == DELETED and files["gone.txt"].removed == 1
    assert files["logo.png"].binary and not files["logo.png"].hunks
    assert files["added.py"].status == ADDED and files["added.py"].added == 1
    assert files["run.sh"].notes == ["old mode 100644", "new mode 100755"]
    assert (diff.added, diff.removed) == (5, 3)
    assert not diff.truncated


def test_live_diff_has_uncommitted_and_untracked_changes(repo: tuple[Path, str], tmp_path: Path) -> None:
    root, base = repo
    tree = add_worktree(root, tmp_path / "wt", "fleet/T1", base)
    commit(tree, {"src/app.py": CODE + "committed\n"}, "one")
    write(tree, {"src/app.py": CODE + "committed\nstaged\n"})
    git(tree, "add", "src/app.py")
    write(tree, {"src/app.py": CODE + "committed\nstaged\nunstaged\n", "notes/todo.txt": "a\nb",
                 "blob.bin": b"\0\1\2", ".gitignore": "*.log\n", "debug.log": "ignored\n"})
    os.symlink("../src/app.py", tree / "notes" / "link")
    os.mkfifo(tree / "pipe")  # untracked FIFO: never opened, never blocks
    diff = load_diff(DiffRequest("t", str(tree), base))
    files = by_path(diff)
    assert files["src/app.py"].added == 3 and files["src/app.py"].status == MODIFIED
    assert files["notes/todo.txt"].status == UNTRACKED and files["notes/todo.txt"].added == 2
    assert files["notes/todo.txt"].hunks[0].lines == ["+a", "+b", "\\ No newline at end of file"]
    assert files["blob.bin"].binary
    assert files["notes/link"].hunks[0].lines[0] == "+../src/app.py"
    assert "debug.log" not in files and "pipe" not in files
    assert [f.path for f in diff.files] == sorted(files)


def test_hostile_names_and_contents_come_back_exact_and_draw_safe(repo: tuple[Path, str]) -> None:
    root, base = repo
    head = commit(root, {name: f"\x1b[31mred\x1b[0m {i}\x07\n" for i, name in enumerate(HOSTILE)}, "hostile")
    files = by_path(load_diff(DiffRequest("t", str(root), base, head)))
    assert sorted(files) == sorted(HOSTILE)
    for name, file in files.items():
        assert file.added == 1 and file.status == ADDED
        drawn = [file_label(file)] + [line.text for line in file_lines(file)]
        for text in drawn:
            assert not set(map(ord, text)) & set(UNSAFE_CHARS), (name, text)
        assert any("\\x1b[31mred" in text for text in drawn)  # shown, not obeyed or hidden


def test_unquote_path_reads_git_c_quoting() -> None:
    assert unquote_path('"a/\\303\\274\\tb\\"c\\\\"') == 'a/ü\tb"c\\'
    assert unquote_path("plain name") == "plain name"
    assert unquote_path('"\\777x"') == "\ufffdx"  # an impossible byte: replaced, no error


def test_missing_commit_and_bad_ids_are_one_line_errors(repo: tuple[Path, str], tmp_path: Path) -> None:
    root, base = repo
    gone = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(DiffError, match=r"^commit 0123456789ab is gone from .*repo") as info:
        load_diff(DiffRequest("t", str(root), base, gone))
    assert "\n" not in str(info.value)
    for bad in ["--output=/tmp/x", "HEAD", "main; rm -rf /"]:
        with pytest.raises(DiffError, match="not a commit id"):
            load_diff(DiffRequest("t", str(root), bad, base))
    with pytest.raises(DiffError, match=r"is gone$"):
        load_diff(DiffRequest("t", str(tmp_path / "nowhere"), base))


def test_a_huge_diff_is_cut_and_still_counted(repo: tuple[Path, str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root, base = repo
    monkeypatch.setattr(diff_parse, "MAX_FILE_LINES", 50)
    monkeypatch.setattr(diff_parse, "MAX_TOTAL_LINES", 120)
    long_line = "x" * 5000
    head = commit(root, {f"big{i}.txt": "".join(f"{long_line} {n}\n" for n in range(200)) for i in range(4)},
                  "big")
    diff = load_diff(DiffRequest("t", str(root), base, head))
    assert diff.truncated and len(diff.files) == 4
    for file in diff.files:
        assert file.added == 200 and file.truncated
        assert file.shown_lines <= 50
        assert all(len(line) <= diff_parse.MAX_LINE_CHARS + 1 for h in file.hunks for line in h.lines)
    assert sum(f.shown_lines for f in diff.files) <= 120
    assert "diff truncated" in file_lines(diff.files[0])[-1].text


def test_parser_on_hand_written_edge_cases() -> None:
    text = ("diff --git a/a b/a\nindex 1..2 100644\n--- a/a\n+++ b/a\n@@ -1,2 +1,2 @@\n x\n\n-y\n+z\n"
            'diff --git "a/q\\tx" "b/q\\tx"\nnew file mode 100644\nindex 0..1\nBinary files /dev/null and'
            ' "b/q\\tx" differ\n'
            "diff --git a/s p b/s p\ndeleted file mode 100644\n--- a/s p\t\n+++ /dev/null\n"
            "@@ -1 +0,0 @@\n-gone\n")
    files = parse_diff(text).files
    assert [f.path for f in files] == ["a", "q\tx", "s p"]
    assert files[0].hunks[0].lines == [" x", " ", "-y", "+z"]  # an empty context line (suppressBlankEmpty)
    assert files[1].binary and files[1].status == ADDED
    assert files[2].status == DELETED and files[2].removed == 1
    assert parse_diff("").files == []


def test_colouring_is_done_a_block_at_a_time_with_the_lines_before_it() -> None:
    opening = BLOCK * 2 - 5  # a docstring opens a few lines before the third block
    body = [*[f"+x_{i} = {i}" for i in range(opening)], '+"""A docstring',
            *[f"+inside the docstring {i}" for i in range(20)], '+"""', "+y = 1"]
    file = parse_diff("diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -0,0 +1,200 @@\n"
                      + "\n".join(body) + "\n").files[0]
    lines = file_lines(file)
    texts = Highlighted(file.path, lines, dark=True)
    late = BLOCK * 2 + 3  # in the third block, inside the docstring
    assert texts[late].plain == lines[late].text == "inside the docstring 6"
    assert set(texts._texts) == set(range(BLOCK * 2, min(BLOCK * 3, len(lines))))  # that block only
    string_style = texts[opening + 2].spans[0].style  # the docstring's first line: a string
    assert texts[late].spans[0].style == string_style
    assert texts[len(lines) - 1].spans[0].style != string_style  # y = 1 after it: code


def test_a_merged_task_shows_the_commits_that_went_into_the_base(repo: tuple[Path, str],
                                                                 tmp_path: Path) -> None:
    root, base = repo
    tree = add_worktree(root, tmp_path / "wt", "fleet/T1", base)
    first = commit(tree, {"src/app.py": CODE + "one\n"}, "one")
    second = commit(tree, {"src/app.py": CODE + "one\ntwo\n", "extra.md": "x\n"}, "two")
    git(root, "merge", "-q", "--ff-only", "fleet/T1")
    git(root, "worktree", "remove", str(tree))
    git(root, "branch", "-q", "-D", "fleet/T1")
    changed = [FileChange("src/app.py", 2, 0), FileChange("extra.md", 1, 0)]
    events = [wev.WorkspaceCreated(agent="dev", path=str(tree), repo=str(root), base="main"),
              wev.WorkspaceSwitched(agent="dev", task="T1", branch="fleet/T1", base_commit=base),
              wev.WorkspaceChanged(agent="dev", task="T1", branch="fleet/T1", head=first, base_commit=base),
              wev.WorkspaceSwitched(agent="dev", task="T2", branch="fleet/T2", base_commit=base)]
    state = fold_all(events)
    title = f"T1 · fleet/T1 · dev · {base[:8]}..{first[:8]}"
    assert task_diff(state, "T1", live=True) == DiffRequest(title, str(root), base, first)  # not checked out
    assert agent_diff(state, "dev", live=False) == "T2 · fleet/T2 · dev: no commits yet"
    state = fold_all([*events, wev.MergeMerged(task="T1", branch="fleet/T1", base="main", commit=second,
                                               commits=[first, second])])
    request = task_diff(state, "T1", live=True)
    assert isinstance(request, DiffRequest) and (request.base, request.head) == (first + "^", second)
    assert {f.path: f.added for f in load_diff(request).files} == {f.path: f.added for f in changed}
    state.branches["T1"].merged_commit, state.branches["T1"].commits = "", []
    state.workspaces["dev"].head, state.workspaces["dev"].files = base, changed
    assert agent_diff(state, "dev", live=False) == ("T2 · fleet/T2 · dev: no commits yet "
                                                    "(2 files changed, not committed then)")


def test_an_agent_on_another_host_has_its_files_there_and_says_so() -> None:
    state = fold_all([ev.AgentSpawned(agent="far", host="loop"), ev.AgentSpawned(agent="near"),
                      ev.TaskCreated(task="T1", title="far side", column="ready"),
                      ev.TaskAssigned(task="T1", agent="far"),
                      ev.TaskCreated(task="T2", title="unassigned", column="ready")])
    elsewhere = "its files are there; diffs are shown for agents on this machine"
    for live in (True, False):  # live and in replay
        assert agent_diff(state, "far", live) == f"far runs on host loop: {elsewhere}"
        assert task_diff(state, "T1", live) == f"T1 is with far on host loop: {elsewhere}"
    assert agent_diff(state, "near", True).startswith("near has no worktree of its own")
    assert task_diff(state, "T2", True) == "T2 has no branch yet"
