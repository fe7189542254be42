"""The bundled demo agent (over pipes, and in a real tmux pane) and the repo's demo fleet.yaml."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import yaml

from fleet_tui.adapters.demo_repo import DEMO_BASE, DEMO_CHECK, ensure_demo_repo
from fleet_tui.adapters.git import run_git
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.config.resolve import AgentLaunch, resolve_agents
from fleet_tui.config.schema import FleetConfig
from fleet_tui.demo_agent import SCRIPTS, build_parser, script_for
from tests.gitrepo import add_worktree
from tests.helpers import retry_until

REPO = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def demo(*args: str, stdin: str = "", agent: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"}
    if agent:
        env["FLEET_AGENT"] = agent
    return subprocess.run([sys.executable, "-m", "fleet_tui.demo_agent", "--pace", "0", *args],
                          input=stdin, capture_output=True, text=True, timeout=30, env=env,
                          cwd=REPO)


def plain(text: str) -> str:
    return ANSI.sub("", text)


def test_a_developer_run_end_to_end_over_pipes() -> None:
    done = demo("--role", "developer", "--seed", "3", "--fail-rate", "0",
                stdin="fix the login bug\ny\n", agent="dev-1")
    assert done.returncode == 0, done.stderr
    out = plain(done.stdout)
    assert "dev-1 · role developer · model demo-1" in out
    assert "\x1b[" in done.stdout  # coloured
    assert "working…" in out and "esc to interrupt" in out
    assert "> fix the login bug" in out
    assert re.search(r"^\s+-    return None$", out, re.M)
    assert re.search(r"^\s+\+    return value.strip\(\)$", out, re.M)
    assert re.search(r"pytest: \d+ passed", out)
    assert "Allow this action? (y/n)" in out and "allowed" in out
    assert "handoff: implemented" in out and "✓ done" in out
    assert out.count("demo> ") == 2  # idle before the prompt and after the run


def test_answering_no_skips_the_step() -> None:
    out = plain(demo("--role", "releaser", "--fail-rate", "0", stdin="ship it\nn\n").stdout)
    assert "Allow this action? (y/n)" in out and "denied" in out and "skipping that step" in out


def test_a_failing_run_exits_non_zero() -> None:
    done = demo("--seed", "3", "--fail-rate", "1", "--prompt", "do it", stdin="y\n")
    assert done.returncode == 1
    assert "error:" in plain(done.stdout) and "handoff:" not in plain(done.stdout)


def test_seeds_repeat_and_replicas_differ() -> None:
    args = ("--seed", "7", "--fail-rate", "0.5", "--prompt", "x", "--runs", "1")
    a, b = demo(*args, stdin="y\n", agent="dev-1"), demo(*args, stdin="y\n", agent="dev-1")
    assert (a.stdout, a.returncode) == (b.stdout, b.returncode)
    others = {demo(*args, stdin="y\n", agent=f"dev-{i}").stdout.replace(f"dev-{i}", "dev")
              for i in range(2, 6)}
    assert len(others) > 1


@pytest.mark.parametrize(("role", "marker"), [
    ("planner", "Write(PLAN.md)"), ("developer", "Edit("),
    ("reviewer", "looks good"), ("releaser", "git tag v0.1.0"),
])
def test_each_role_has_its_own_script(role: str, marker: str) -> None:
    done = demo("--role", role, "--fail-rate", "0", "--prompt", "task", "--runs", "1",
                stdin="y\n")
    assert done.returncode == 0 and marker in plain(done.stdout)


def test_steps_sets_the_length_of_a_run() -> None:
    for role in SCRIPTS:
        for n in (1, 3, 12):
            steps = script_for(role, n)
            assert len(steps) == n and steps[-1][0] == "handoff"
        assert script_for(role) == SCRIPTS[role]
    out = plain(demo("--steps", "9", "--fail-rate", "0", "--prompt", "t", "--runs", "1",
                     stdin="y\n").stdout)
    assert out.count("●") == len([s for s in script_for("developer", 9)
                                  if s[0] in ("read", "write", "edit", "test", "run")])


@pytest.mark.tmux
def test_the_demo_agent_in_a_tmux_pane(tmux_socket: str, tmp_path: Path) -> None:
    driver = TmuxDriver(tmux_socket)

    def text(name: str) -> str:
        return "\n".join(driver.capture(name, lines=200))

    try:
        command = ["python", "-m", "fleet_tui.demo_agent", "--pace", "0", "--seed", "3",
                   "--fail-rate", "0"]
        driver.spawn(AgentLaunch(name="dev", template="dev", command=command, cwd=str(REPO),
                                 model="demo-sonnet"), "S", {})
        # capture-pane drops trailing spaces: the idle row is "demo>"
        retry_until(lambda: re.search(r"^demo>\s*$", text("dev"), re.M), message="the idle prompt")
        assert "dev · role developer · model demo-sonnet" in text("dev")
        prompt = f"refactor $(touch {tmp_path}/PWNED) and `touch {tmp_path}/PWNED2` C-c Enter;"
        assert driver.send_prompt("dev", prompt)
        retry_until(lambda: "Allow this action? (y/n)" in text("dev"), message="the question")
        assert f"> {prompt}" in text("dev").replace("\n", "")  # a long line wraps
        assert driver.send_prompt("dev", "y")
        retry_until(lambda: len(re.findall(r"^demo>", text("dev"), re.M)) == 2
                    and re.search(r"^demo>\s*$", text("dev"), re.M), message="the run to finish")
        assert "handoff: implemented" in text("dev") and "allowed" in text("dev")
        assert not list(tmp_path.iterdir())

        driver.spawn(AgentLaunch(name="bad", template="bad", cwd=str(REPO), command=[
            "python", "-m", "fleet_tui.demo_agent", "--pace", "0", "--fail-rate", "1",
            "--prompt", "go"]), "S", {})
        retry_until(lambda: "Allow this action?" in text("bad"), message="the question")
        driver.send_prompt("bad", "y")
        pane = retry_until(lambda: (p := driver.pane("bad")) is not None and p.dead and p,
                           message="the failing agent to exit")
        assert pane.dead_status == 1
    finally:
        driver.kill_server()


def test_the_repo_fleet_yaml_is_the_offline_demo() -> None:
    raw = yaml.safe_load((REPO / "fleet.yaml").read_text())
    config = msgspec.convert(raw, FleetConfig)
    assert config.fleet == "demo" and config.theme == "fleet-dark"
    roles = {r for a in config.agents for r in a.roles}
    assert {"planner", "developer", "reviewer", "releaser"} <= roles
    agents = resolve_agents(config, REPO)
    assert len([a for a in agents if "developer" in a.roles]) >= 2
    parser = build_parser()
    for spec in config.agents:
        assert spec.command[:3] == ["python", "-m", "fleet_tui.demo_agent"]
        assert spec.preset == "demo" and spec.model.startswith("demo-")
        args = parser.parse_args(spec.command[3:])
        assert args.role in spec.roles
    ids = {t.id for t in config.tasks}
    assert all(dep in ids for t in config.tasks for dep in t.blocked_by)
    assert all(t.role in roles for t in config.tasks if t.role)
    stage_names = [s.name for s in config.routing.stages]
    assert all(r in roles for s in config.routing.stages for r in s.roles)
    assert any(a.from_ == "review" and a.to == "done" for a in config.approvals)
    assert any(a.tag == "release" for a in config.approvals)
    assert "review" in stage_names and "done" in stage_names


def _run_in(cwd: Path, agent: str, prompt: str) -> None:
    done = subprocess.run([sys.executable, "-m", "fleet_tui.demo_agent", "--git", "--pace", "0",
                           "--fail-rate", "0", "--role", "developer", "--prompt", prompt, "--runs", "1"],
                          input="y\n", capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "FLEET_AGENT": agent, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr


def test_with_git_two_developers_commit_real_work_that_merges_and_passes_the_check(tmp_path: Path) -> None:
    repo = ensure_demo_repo(tmp_path / "repo")
    _run_in(add_worktree(repo, tmp_path / "w1", "fleet/T2", DEMO_BASE), "dev-1", "Task T2: Login form")
    _run_in(add_worktree(repo, tmp_path / "w2", "fleet/T3", DEMO_BASE), "dev-2", "Task T3: Session cookies")
    for branch, task in (("fleet/T2", "t2"), ("fleet/T3", "t3")):
        changed = run_git(repo, ["diff", "--name-only", f"{DEMO_BASE}...{branch}"]).stdout.split()
        assert changed == ["src/app.py", f"src/{task}.py", f"tests/test_{task}.py"]
    # both touch src/app.py (an overlap), at their own marker lines (no conflict)
    merged = run_git(repo, ["merge-tree", "--write-tree", "fleet/T2", "fleet/T3"], check=False)
    assert merged.returncode == 0, merged.stdout
    check = subprocess.run(DEMO_CHECK, cwd=tmp_path / "w1", capture_output=True, text=True, timeout=60,
                           env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"})
    assert check.returncode == 0 and "Ran 4 tests" in check.stderr, check.stderr


def test_with_git_nothing_is_written_off_a_fleet_branch(tmp_path: Path) -> None:
    repo = ensure_demo_repo(tmp_path / "repo")
    _run_in(repo, "dev-1", "Task T2: Login form")  # on main, not fleet/T2
    assert run_git(repo, ["status", "--porcelain"]).stdout == ""
    assert len(run_git(repo, ["log", "--oneline"]).stdout.splitlines()) == 1


def test_the_demo_fleet_merges_through_the_demo_projects_own_check() -> None:
    config = msgspec.convert(yaml.safe_load((REPO / "fleet.yaml").read_text()), FleetConfig)
    assert config.repo == "@demo" and config.merge is not None
    assert [c.run for c in config.merge.check_list()] == [DEMO_CHECK]
