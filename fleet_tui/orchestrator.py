"""The service layer: wires the tmux driver, pane monitor and event log to the pure core.

One ``Orchestrator`` per running fleet. Every change goes through ``submit``: the event is
appended to the session log, folded into ``state`` and handed to listeners (the UI), in that
order and under one lock, so the log, the state and the screen agree. Commands (spawn, pause,
kill, prompt...) are blocking calls that talk to tmux; the UI runs them in worker threads.
The pane monitor calls ``submit`` from its own thread.

After each event the pure rules (``core/rules.py``: routing, alerts, restarts, subscriptions,
budgets) decide what follows: their events are appended at once, under the same lock, and
their commands (prompts, pauses, restarts: tmux I/O) are carried out in order on one worker
thread, which also checks budgets every ``TICK`` seconds (running minutes grow with no event).
An exit the user caused is never restarted: ``kill`` notes the agent as being stopped until it
is started again.

Sessions outlive the UI: the session id is stored on the fleet's private tmux server
(``@fleet_session``), so a restarted fleet-tui reopens the same log, adopts the ``fleet_*``
sessions it finds and marks agents the log thought alive but tmux no longer has as lost. The
same adoption runs again when the monitor gets back to a tmux server it had lost.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fleet_tui.adapters import paths
from fleet_tui.adapters.agent_tokens import TOKEN_ENV, AgentTokens
from fleet_tui.adapters.eventlog import EventLogWriter, EventRefused, LogReader, open_log
from fleet_tui.adapters.inbox import InboxWatcher
from fleet_tui.adapters.monitor import PaneMonitor
from fleet_tui.adapters.tmux import PaneInfo, TmuxDriver, socket_name_for
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.config.presets import patterns_for
from fleet_tui.config.resolve import AgentLaunch, agent_names, resolve_agent, resolve_agents
from fleet_tui.core import events as ev
from fleet_tui.core.budgets import BudgetPolicy, Pause, check_budgets
from fleet_tui.core.failures import Restart, RestartPolicy
from fleet_tui.core.fold import fold, fold_all
from fleet_tui.core.inbox_rules import InboxMessage, InboxRejected, message_to_events
from fleet_tui.core.routing import GatePolicy, Prompt, RoutingPolicy, StagePolicy, assign_ready
from fleet_tui.core.rules import Command, FleetPolicy, react
from fleet_tui.core.state import FleetState
from fleet_tui.core.subscriptions import SubscriptionPolicy

SESSION_OPTION = "@fleet_session"
#: Seconds between the worker's budget checks when no command comes.
TICK = 1.0
#: The error kind and verb reported when a command fails.
_FAILED = {Prompt: ("routing", "prompt"), Pause: ("budget", "pause"), Restart: ("restart", "restart")}

Listener = Callable[[ev.Event], None]


class OrchestratorError(Exception):
    """A command that cannot be carried out; the message is for the user."""


class Orchestrator:
    #: A live fleet: the UI's commands act on it (a replay's ``RecordedFleet`` is read-only).
    read_only = False

    def __init__(self, loaded: LoadedConfig, *, clock: Callable[[], float] = time.time,
                 skip_corrupt: bool = False) -> None:
        self.loaded = loaded
        self.skip_corrupt = skip_corrupt
        self.config = loaded.config
        self.clock = clock
        self.socket_name = socket_name_for(self.config.fleet, loaded.path)
        self.driver = TmuxDriver(self.socket_name)
        self.state = FleetState()
        self.session_id = ""
        self.launches: dict[str, AgentLaunch] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._log: EventLogWriter | None = None
        self._monitor: PaneMonitor | None = None
        self._inbox: InboxWatcher | None = None
        self._tokens: AgentTokens | None = None  # the session's, from start()
        #: Inbox message ids already applied (from the log), so a file is applied once.
        self._applied: set[str] = set()
        self.warnings: list[str] = []
        self._reacting = False
        self._commands: queue.Queue[Command | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        #: Agents the user is stopping (kill, restart): their exit is not a failure.
        self._stopping: set[str] = set()
        self.policy = self._build_policy()
        self.rules = self._build_rules()

    # --- events ---------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def submit(self, event: ev.Event) -> ev.Event:
        """Log, fold and announce one event, then let routing react. Safe from any thread."""
        with self._lock:
            if self._log is None:
                raise OrchestratorError("the fleet is not started")
            event = self._record(event)
            if not self._reacting and type(event) is not ev.AgentOutput:
                self._reacting = True
                try:
                    self._react(event)
                finally:
                    self._reacting = False
        return event

    def _record(self, event: ev.Event) -> ev.Event:
        """Log, fold and announce ``event``; one the log refuses becomes an error in its place."""
        if not event.ts:
            event.ts = self.clock()
        assert self._log is not None
        try:
            self._log.append(event)
        except EventRefused as exc:
            event = self._log.append(ev.Error(message=str(exc)))
        fold(self.state, event)
        for listener in self._listeners:
            listener(event)
        return event

    def _react(self, first: ev.Event) -> None:
        """Apply the rules' reactions until nothing more follows; queue the commands."""
        pending = [first]
        while pending:
            event = pending.pop(0)
            reactions, commands = react(self.state, self.rules, event, stopping=self._stopping)
            if not reactions and not pending:
                reactions, prompts = assign_ready(self.state, self.policy)
                commands = commands + prompts
            for reaction in reactions:
                pending.append(self._record(reaction))
            for command in commands:
                self._commands.put(command)

    def _work(self) -> None:
        """Carries out the rules' commands (tmux I/O, off the threads that submit events) and
        checks budgets whenever ``TICK`` seconds pass without one."""
        while True:
            try:
                command = self._commands.get(timeout=TICK)
            except queue.Empty:
                self._check_budgets()
                continue
            if command is None:
                return
            try:
                self._carry_out(command)
            except Exception as exc:  # an agent gone meanwhile: say so, keep going
                kind, verb = _FAILED[type(command)]
                self.submit(ev.Error(kind=kind, agent=command.agent, task=getattr(command, "task", None),
                                     message=f"could not {verb} {command.agent}: {exc}"))

    def _carry_out(self, command: Command) -> None:
        if isinstance(command, Prompt):
            self.prompt(command.agent, command.text, task=command.task,
                        source=ev.SOURCE_ORCHESTRATOR, reason=command.reason)
            return
        agent = self.state.agents.get(command.agent)
        if isinstance(command, Pause):
            if agent is not None and agent.alive and not agent.paused:
                self.driver.pause(command.agent)
                self.submit(ev.AgentPaused(agent=command.agent, reason=command.reason))
        elif agent is None or not agent.alive:  # unless the user started it again meanwhile
            self.spawn(self._launch(command.agent))

    def _check_budgets(self) -> None:
        with self._lock:
            if self._log is None:
                return
            alerts, pauses = check_budgets(self.state, self.rules.budgets, self.clock())
            for alert in alerts:
                self.submit(alert)
            for pause in pauses:
                self._commands.put(pause)

    def _build_rules(self) -> FleetPolicy:
        launches = self.launches.values()
        return FleetPolicy(
            routing=self.policy,
            budgets={lc.name: BudgetPolicy(tokens=lc.budget.tokens, usd=lc.budget.usd,
                                           minutes=lc.budget.minutes)
                     for lc in launches if lc.budget is not None},
            restarts={lc.name: RestartPolicy(mode=lc.restart, limit=lc.max_restarts) for lc in launches},
            subscriptions=tuple(SubscriptionPolicy(agent=lc.name, event=s.event, where=dict(s.where),
                                                   prompt=s.prompt)
                                for lc in launches for s in lc.subscribe),
        )

    def _configure(self) -> None:
        """Rebuild the policies from the launches (after the set of agents changed)."""
        self.policy = self._build_policy()
        self.rules = self._build_rules()

    def _build_policy(self) -> RoutingPolicy:
        config = self.config
        return RoutingPolicy(
            stages=tuple(StagePolicy(s.name, tuple(s.roles)) for s in config.routing.stages),
            gates=tuple(GatePolicy(from_=a.from_, to=a.to, tag=a.tag, name=a.name)
                        for a in config.approvals),
            max_tasks={n: lc.max_tasks for n, lc in self.launches.items()},
            auto_route=config.routing.auto_route,
            **({"template": config.routing.prompt_template} if config.routing.prompt_template else {}),
        )

    @property
    def log_path(self) -> Path:
        return paths.events_path(self.session_id)

    # --- start and stop -------------------------------------------------------------------

    def start(self, spawn: bool = True) -> None:
        """Open (or reopen) the session, adopt running agents, spawn missing ones, watch panes."""
        for spec in self.config.agents:
            for name in agent_names(spec):
                self.launches[name] = resolve_agent(spec, self.config, self.loaded.base_dir, name)
        self._configure()
        panes = self.driver.list_agent_panes()
        self.session_id = (self.driver.get_server_option(SESSION_OPTION) if panes else "") or ""
        resumed = bool(self.session_id) and paths.events_path(self.session_id).exists()
        if not resumed:
            self.session_id = self.session_id or paths.new_session_id(self.clock())
        self._tokens = AgentTokens.for_session(paths.create_session_dir(self.session_id))
        if resumed:
            reader = LogReader(self.log_path, skip_corrupt=self.skip_corrupt)
            for block in reader.blocks():
                fold_all(block, self.state)
                self._applied.update(e.ref for e in block if getattr(e, "ref", ""))
            self.warnings.extend(reader.warnings)
        header = self._header()
        self._log = open_log(self.log_path, header, on_problem=self._on_log_problem)
        if self._log.is_new:
            fold(self.state, header)
        self.submit(ev.ConfigLoaded(
            path=str(self.loaded.path), fleet=self.config.fleet,
            agents=list(self.launches), tasks=len(self.config.tasks),
        ))
        if not resumed:
            for task in self.config.tasks:
                self.submit(ev.TaskCreated(
                    task=task.id, title=task.title, description=task.description,
                    role=task.role, column=task.column, depends_on=list(task.blocked_by),
                    acceptance=list(task.acceptance), tags=list(task.tags), source=ev.SOURCE_USER,
                ))
        self._adopt(panes)
        if spawn:
            for launch in resolve_agents(self.config, self.loaded.base_dir):
                if launch.name not in {p.agent for p in panes}:
                    self.spawn(launch)
        self._start_monitor()
        self._inbox = InboxWatcher(paths.inbox_dir(self.session_id), self._on_inbox_message,
                                   self._on_inbox_reject, self._tokens, self._on_inbox_error)
        self._inbox.start()
        self._worker = threading.Thread(target=self._work, name="fleet-commands", daemon=True)
        self._worker.start()

    def _on_inbox_message(self, msg: InboxMessage) -> None:
        """Apply one inbox message (on the inbox thread); raises InboxRejected to refuse it."""
        if msg.id in self._applied:
            return
        events = message_to_events(msg)
        if msg.agent not in self.state.agents:
            raise InboxRejected(f"unknown agent {msg.agent!r}")
        if msg.task and msg.type != "task.created" and msg.task not in self.state.tasks:
            raise InboxRejected(f"unknown task {msg.task!r}")
        with self._lock:
            for event in events:
                self.submit(event)
            self._applied.add(msg.id)

    def _on_inbox_error(self, message: str) -> None:
        self.submit(ev.Error(kind="inbox", message=message))

    def _on_inbox_reject(self, path: Path, reason: str, security: bool) -> None:
        self.submit(ev.Error(kind="security" if security else "inbox", detail=str(path),
                             message=f"inbox file {path.name} rejected: {reason}"))

    def _on_log_problem(self, problem: str | None) -> None:
        """The log cannot be written (disk full...) or can again (on the log's flusher thread)."""
        dropped = self._log.dropped if self._log is not None else 0
        self.submit(ev.Alert(kind=ev.ALERT_LOG, key="problem" if problem else "cleared",
                             message=problem or "the event log is written again (output events "
                             f"dropped so far: {dropped})"))

    def _header(self) -> ev.LogHeader:
        now = self.clock()
        return ev.LogHeader(
            fleet=self.config.fleet, host=socket.gethostname(), pid=os.getpid(), started=now,
            session=self.session_id, config_path=str(self.loaded.path), ts=now,
        )

    def _adopt(self, panes: list[PaneInfo]) -> None:
        """Reconcile what the log believes with what tmux has."""
        with self._lock:
            live = {p.agent: p for p in panes}
            for name, agent in list(self.state.agents.items()):
                if agent.alive and name not in live:
                    self.submit(ev.AgentLost(agent=name, reason="its tmux session is gone"))
            for pane in panes:
                known = self.state.agents.get(pane.agent)
                if known is None or not known.alive or known.pane != pane.pane_id:
                    self._adopt_pane(pane, was_paused=known is not None and known.paused)
                if pane.dead and self.state.agents[pane.agent].alive:
                    self.submit(ev.AgentExited(agent=pane.agent, pane=pane.pane_id, code=pane.dead_status,
                                               signal=pane.dead_signal or ""))

    def _adopt_pane(self, pane: PaneInfo, was_paused: bool) -> None:
        launch = self.launches.get(pane.agent)
        self.submit(ev.AgentSpawned(
            agent=pane.agent, adopted=True,
            command=launch.command if launch else [],
            cwd=launch.cwd if launch else "", roles=launch.roles if launch else [],
            role=launch.role if launch else "", model=launch.model if launch else "",
            template=launch.template if launch else "",
        ))
        self.submit(ev.AgentStarted(agent=pane.agent, pid=pane.pid, pane=pane.pane_id,
                                    width=pane.width, height=pane.height))
        if was_paused and not pane.dead and self.driver.is_paused(pane.agent):
            # Still stopped (by the user or a budget) since the log last saw it.
            self.submit(ev.AgentPaused(agent=pane.agent, reason="found paused"))

    def _holds_task(self, name: str) -> bool:
        """For the monitor's stall detection (on its thread: read the state under the lock)."""
        with self._lock:
            agent = self.state.agents.get(name)
            return agent is not None and bool(agent.tasks)

    def _on_reconnect(self) -> None:
        """The monitor is back on a tmux server it had lost: adopt the agents there again."""
        self._adopt(self.driver.list_agent_panes())

    def _start_monitor(self) -> None:
        self._monitor = PaneMonitor(
            self.socket_name,
            emit=self.submit,
            patterns={n: patterns_for(lc.preset, lc.status_patterns)
                      for n, lc in self.launches.items()},
            stall_after={n: lc.stall_after for n, lc in self.launches.items()},
            holds_task=self._holds_task,
            on_reconnect=self._on_reconnect,
        )
        self._monitor.start()

    def stop(self, kill_agents: bool = False) -> None:
        """Stop watching and close the log; agents keep running unless ``kill_agents``."""
        if kill_agents:
            for name, agent in list(self.state.agents.items()):
                if agent.alive:
                    self.kill(name)
        if self._worker is not None:
            self._commands.put(None)
            self._worker.join(timeout=5)
            self._worker = None
        if self._inbox is not None:
            self._inbox.stop()
            self._inbox = None
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None
        if kill_agents:
            self.driver.kill_server()
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    # --- agent commands -------------------------------------------------------------------

    def _launch(self, name: str) -> AgentLaunch:
        launch = self.launches.get(name)
        if launch is None:
            raise OrchestratorError(f"no agent named {name!r}")
        return launch

    def spawn(self, launch: AgentLaunch, source: str = ev.SOURCE_ORCHESTRATOR) -> None:
        with self._lock:
            self.launches[launch.name] = launch
            self._configure()
            self._stopping.discard(launch.name)
        self.submit(ev.AgentSpawned(
            agent=launch.name, command=launch.command, cwd=launch.cwd, role=launch.role,
            roles=launch.roles, model=launch.model, template=launch.template, source=source,
        ))
        assert self._tokens is not None, "spawn before start"
        info = self.driver.spawn(launch, self.session_id, extra_env={
            "FLEET_INBOX": str(paths.inbox_dir(self.session_id)),
            TOKEN_ENV: self._tokens.token(launch.name),
        })
        if self._log is not None and not self.driver.get_server_option(SESSION_OPTION):
            self.driver.set_server_option(SESSION_OPTION, self.session_id)
        self.submit(ev.AgentStarted(agent=launch.name, pid=info.pid, pane=info.pane_id,
                                    width=info.width, height=info.height))
        if self._monitor is not None:
            self._monitor.watch(launch.name, patterns_for(launch.preset, launch.status_patterns),
                                launch.stall_after)

    def spawn_from_template(self, template: str, name: str = "", prompt: str = "") -> str:
        spec = next((a for a in self.config.agents if a.name == template), None)
        if spec is None:
            raise OrchestratorError(f"no agent template named {template!r}")
        name = name or self._free_name(template)
        agent = self.state.agents.get(name)
        if agent is not None and agent.alive:
            raise OrchestratorError(f"an agent named {name!r} is already running")
        launch = resolve_agent(spec, self.config, self.loaded.base_dir, name)
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

    def toggle_pause(self, name: str) -> bool:
        """Pause a running agent or resume a paused one; returns True if now paused."""
        agent = self.state.agents.get(name)
        if agent is None or not agent.alive:
            raise OrchestratorError(f"{name} is not running")
        if agent.paused:
            self.driver.resume(name)
            self.submit(ev.AgentResumed(agent=name, source=ev.SOURCE_USER))
            return False
        self.driver.pause(name)
        self.submit(ev.AgentPaused(agent=name, source=ev.SOURCE_USER))
        return True

    def kill(self, name: str, reason: str = "killed by the user") -> None:
        with self._lock:
            self._stopping.add(name)  # whatever exit the monitor sees now is this kill
        agent = self.state.agents.get(name)
        if agent is not None and agent.paused:
            self.driver.resume(name)  # a stopped process cannot act on the interrupt
        how = self.driver.kill(name)
        self.submit(ev.AgentKilled(agent=name, reason=reason, how=how, source=ev.SOURCE_USER))

    def restart(self, name: str) -> None:
        launch = self._launch(name)
        if self.driver.exists(name):
            self.kill(name, reason="restart")
        self.spawn(launch, source=ev.SOURCE_USER)

    def prompt(self, name: str, text: str, task: str | None = None,
               source: str = ev.SOURCE_USER, reason: str = "") -> bool:
        agent = self.state.agents.get(name)
        if agent is None or not agent.alive:
            raise OrchestratorError(f"{name} is not running")
        delivered = self.driver.send_prompt(name, text)
        self.submit(ev.AgentPrompted(agent=name, text=text, task=task, delivered=delivered,
                                     source=source, reason=reason))
        if not delivered:
            self.submit(ev.Alert(kind=ev.ALERT_DELIVERY, agent=name,
                                 message=f"prompt to {name} did not show up in its pane"))
        return delivered

    def decide(self, task: str, approval: str, grant: bool, comment: str = "") -> None:
        """The user's answer to an approval gate (the only way one is decided)."""
        pending = self.state.tasks.get(task)
        if pending is None or not any(a.id == approval for a in pending.pending_approvals):
            raise OrchestratorError(f"no pending approval {approval} on {task}")
        kind = ev.ApprovalGranted if grant else ev.ApprovalDenied
        self.submit(kind(task=task, approval=approval, comment=comment, source=ev.SOURCE_USER))

    def attach_argv(self, name: str) -> list[str]:
        return self.driver.attach_argv(name)

    def pane_rows(self, name: str, history: int = 2000) -> list[str]:
        """The agent's pane with up to ``history`` rows of scrollback, in colour (the zoom view);
        the last recorded screen once it is not running."""
        agent = self.state.agents.get(name)
        if agent is None:
            return []
        if agent.alive:
            return self.driver.capture(name, lines=history, ansi=True)
        return list(agent.screen)
