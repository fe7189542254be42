"""What can be done to agents and tasks: spawn, pause, resume, kill, restart, prompt, decide a
gate, and the board's new/move/assign. Each one checks the state under the pipeline's lock,
acts on tmux, and records what it did as an event: no action reaches tmux without its event.

Used by the control server (a person's commands, ``source: user``) and by the command runner
(the rules' prompts, pauses and restarts).
"""

from __future__ import annotations

from collections.abc import Callable

from fleet_tui.adapters import paths
from fleet_tui.adapters.agent_tokens import TOKEN_ENV, AgentTokens
from fleet_tui.adapters.control_socket import SESSION_OPTION
from fleet_tui.adapters.remote_inbox import remote_inbox
from fleet_tui.adapters.tmux import TmuxDriver
from fleet_tui.adapters.tmux_cli import TmuxError
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.config.resolve import AgentLaunch, resolve_agent
from fleet_tui.core import events as ev
from fleet_tui.core import manual
from fleet_tui.core.routing import RoutingPolicy
from fleet_tui.core.state import BLOCKED, AgentState, FleetState
from fleet_tui.daemon.pipeline import EventPipeline, ServiceError


class AgentOps:
    def __init__(self, loaded: LoadedConfig, pipeline: EventPipeline, driver: TmuxDriver,
                 launches: dict[str, AgentLaunch], on_launches: Callable[[], None]) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.pipeline = pipeline
        self.driver = driver
        self.launches = launches
        self.session_id = ""
        #: The session's agent tokens (set when the session is opened).
        self.tokens: AgentTokens | None = None
        #: Called after the set of launches changed (policies are rebuilt from them).
        self._on_launches = on_launches
        #: Told about every agent started, so the pane monitor watches it.
        self.watch: Callable[[AgentLaunch], None] = lambda launch: None
        #: Gives a launch its workspace (its worktree, and its cwd there) before it starts.
        self.place: Callable[[AgentLaunch], None] = lambda launch: None
        #: Readies an agent's workspace for a task before its prompt: "" or why it must wait.
        self.prepare: Callable[[str, str], str] = lambda name, task: ""

    @property
    def state(self) -> FleetState:
        return self.pipeline.state

    def submit(self, event: ev.Event) -> ev.Event:
        return self.pipeline.submit(event)

    def launch(self, name: str) -> AgentLaunch:
        launch = self.launches.get(name)
        if launch is None:
            raise ServiceError(f"no agent named {name!r}")
        return launch

    def _running(self, name: str) -> AgentState:
        agent = self._reachable(name)
        if agent is None or not agent.alive:
            raise ServiceError(f"{name} is not running")
        return agent

    def _reachable(self, name: str) -> AgentState | None:
        """The agent's state; refused while its host's link is down: nothing there can be
        done to it (a restart would only record a failed start of an agent still running)."""
        agent = self.state.agents.get(name)
        if agent is not None and agent.out_of_reach:
            raise ServiceError(agent.out_of_reach)
        return agent

    # --- lifecycle ----------------------------------------------------------------------------

    def spawn(self, launch: AgentLaunch, source: str = ev.SOURCE_ORCHESTRATOR) -> None:
        self.place(launch)
        with self.pipeline.lock:
            self.launches[launch.name] = launch
            self._on_launches()
            self.pipeline.stopping.discard(launch.name)
        self.submit(ev.AgentSpawned(
            agent=launch.name, command=launch.command, cwd=launch.cwd, role=launch.role,
            roles=launch.roles, model=launch.model, template=launch.template, source=source,
            host=launch.host,
        ))
        assert self.tokens is not None, "spawn before the session is open"
        try:
            info = self.driver.spawn(launch, self.session_id, extra_env={
                "FLEET_INBOX": remote_inbox(self.driver.socket_name) if launch.host
                else str(paths.inbox_dir(self.session_id)),
                TOKEN_ENV: self.tokens.token(launch.name),
            }, server_options={SESSION_OPTION: self.session_id})
        except TmuxError as exc:  # this agent's failure, not the fleet's: the rules react
            self.submit(ev.Error(kind="spawn", agent=launch.name, message=str(exc)))
            self.submit(ev.AgentExited(agent=launch.name, code=None, last_lines=[str(exc)]))
            return
        self.submit(ev.AgentStarted(agent=launch.name, pid=info.pid, pane=info.pane_id,
                                    width=info.width, height=info.height))
        self.watch(launch)

    def spawn_from_template(self, template: str, name: str = "", prompt: str = "") -> str:
        spec = next((a for a in self.config.agents if a.name == template), None)
        if spec is None:
            raise ServiceError(f"no agent template named {template!r}")
        name = name or self._free_name(template)
        agent = self.state.agents.get(name)
        if agent is not None and agent.alive:
            raise ServiceError(f"an agent named {name!r} is already running")
        launch = resolve_agent(spec, self.config, self.loaded.base_dir, name)
        if launch.host in self.state.hosts_down:  # refused, not recorded as a failed start
            raise ServiceError(f"host {launch.host} cannot be reached now (reconnecting): "
                               f"start {name} once it is back")
        self.spawn(launch, source=ev.SOURCE_USER)
        if prompt:
            self.prompt(name, prompt)
        return name

    def _free_name(self, template: str) -> str:
        taken = {n for n, a in self.state.agents.items() if a.alive}
        if template not in taken:
            return template
        i = 2
        while f"{template}-{i}" in taken:
            i += 1
        return f"{template}-{i}"

    def pause(self, name: str, reason: str = "", source: str = ev.SOURCE_USER) -> bool:
        """Pause a running agent; False if it was paused already."""
        if self._running(name).paused:
            return False
        self.driver.pause(name)
        self.submit(ev.AgentPaused(agent=name, reason=reason, source=source))
        return True

    def resume(self, name: str) -> bool:
        """Resume a paused agent; False if it was not paused."""
        if not self._running(name).paused:
            return False
        self.driver.resume(name)
        self.submit(ev.AgentResumed(agent=name, source=ev.SOURCE_USER))
        return True

    def toggle_pause(self, name: str) -> bool:
        """Pause a running agent or resume a paused one; True if now paused."""
        if self._running(name).paused:
            self.resume(name)
            return False
        return self.pause(name)

    def kill(self, name: str, reason: str = "killed by the user") -> None:
        if self._reachable(name) is None and not self.driver.exists(name):
            raise ServiceError(f"no agent named {name!r}")
        with self.pipeline.lock:
            self.pipeline.stopping.add(name)  # whatever exit the monitor sees now is this kill
        agent = self.state.agents.get(name)
        if agent is not None and agent.paused:
            self.driver.resume(name)  # a stopped process cannot act on the interrupt
        how = self.driver.kill(name)
        self.submit(ev.AgentKilled(agent=name, reason=reason, how=how, source=ev.SOURCE_USER))

    def restart(self, name: str) -> None:
        launch = self.launch(name)
        self._reachable(name)
        if self.driver.exists(name):
            self.kill(name, reason="restart")
        self.spawn(launch, source=ev.SOURCE_USER)

    def prompt(self, name: str, text: str, task: str | None = None,
               source: str = ev.SOURCE_USER, reason: str = "") -> bool:
        self._running(name)
        if not text.strip():
            raise ServiceError("the prompt is empty")
        if task and (held := self.prepare(name, task)):  # routing takes the task back
            self.submit(ev.AgentPrompted(agent=name, text=text, task=task, delivered=False,
                                         source=source, reason=held))
            return False
        delivered = self.driver.send_prompt(name, text)
        self.submit(ev.AgentPrompted(agent=name, text=text, task=task, delivered=delivered,
                                     source=source, reason=reason))
        if not delivered:
            self.submit(ev.Alert(kind=ev.ALERT_DELIVERY, agent=name,
                                 message=f"prompt to {name} did not show up in its pane"))
        return delivered

    def reply(self, name: str, key: str) -> None:
        """A person answers an agent's question or menu from its card: one key, recorded."""
        self._running(name)
        self.driver.press(name, key)
        self.submit(ev.AgentPrompted(agent=name, text=key, reason="reply from the card",
                                     source=ev.SOURCE_USER))

    # --- tasks and gates ----------------------------------------------------------------------

    def decide(self, task: str, approval: str, grant: bool, comment: str = "") -> None:
        """A person's answer to an approval gate (the only way one is decided)."""
        kind = ev.ApprovalGranted if grant else ev.ApprovalDenied
        with self.pipeline.lock:  # checked and recorded at once: no one decides it twice
            pending = self.state.tasks.get(task)
            if pending is None or not any(a.id == approval for a in pending.pending_approvals):
                raise ServiceError(f"no pending approval {approval} on {task}")
            self.submit(kind(task=task, approval=approval, comment=comment, source=ev.SOURCE_USER))

    def first_pending(self, task: str = "") -> tuple[str, str]:
        """The task and approval a person most likely means: ``task``'s first pending gate, or
        the first pending gate anywhere when ``task`` is empty."""
        tasks = self.state.tasks
        if task and task not in tasks:
            raise ServiceError(f"no task {task}")
        for candidate in [tasks[task]] if task else list(tasks.values()):
            if candidate.pending_approvals:
                return candidate.id, candidate.pending_approvals[0].id
        raise ServiceError(f"no pending approval on {task}" if task else "no pending approval")

    def task_add(self, title: str, role: str = "", description: str = "", column: str = "") -> str:
        with self.pipeline.lock:
            try:
                event = manual.new_task(self.state, title, role, description, column)
            except manual.ManualError as exc:
                raise ServiceError(str(exc)) from None
            self.submit(event)
        return event.task

    def task_move(self, task: str, column: str) -> None:
        if column not in [s.name for s in self.config.routing.stages] + [BLOCKED]:
            raise ServiceError(f"no column {column!r}")
        with self.pipeline.lock:
            try:
                events = manual.move_task(self.state, task, column)
            except manual.ManualError as exc:
                raise ServiceError(str(exc)) from None
            for event in events:
                self.submit(event)

    def task_assign(self, task: str, agent: str, policy: RoutingPolicy) -> None:
        self._reachable(agent)  # not given a task its prompt cannot reach
        with self.pipeline.lock:
            try:
                events, prompt = manual.assign_task(self.state, policy, task, agent)
            except manual.ManualError as exc:
                raise ServiceError(str(exc)) from None
            for event in events:
                self.submit(event)
        self.prompt(prompt.agent, prompt.text, task=prompt.task)

    # --- reading ------------------------------------------------------------------------------

    def pane_rows(self, name: str, history: int = 2000) -> list[str]:
        """The agent's pane with up to ``history`` rows of scrollback, in colour (the zoom view);
        the last recorded screen once it is not running, or while its host cannot be reached."""
        agent = self.state.agents.get(name)
        if agent is None:
            raise ServiceError(f"no agent named {name!r}")
        if agent.alive and not agent.unreachable:
            return self.driver.capture(name, lines=history, ansi=True)
        return list(agent.screen)
