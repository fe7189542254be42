"""The fleet service: one per running fleet, owned by the daemon process.

It puts the parts together: the event pipeline (log, fold, rules), the agent operations, the
command runner, the pane monitor, the inbox, the transcript followers and the index keeper.
``start`` opens or resumes the session, adopts running agents, spawns missing ones and starts
watching; ``stop`` closes everything, killing the agents only when asked. The tmux driver and
the monitor's class come in through the constructor (tests pass their own server's).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from fleet_tui.adapters import paths
from fleet_tui.adapters.hosts import HostRouter
from fleet_tui.adapters.inbox import InboxWatcher, drop_message
from fleet_tui.adapters.monitor import PaneMonitor
from fleet_tui.adapters.remote_files import LOCAL, Files
from fleet_tui.adapters.tmux import TmuxDriver, socket_name_for
from fleet_tui.adapters.tmux_cli import TmuxError
from fleet_tui.adapters.transcripts import TranscriptWatcher
from fleet_tui.config.loader import LoadedConfig
from fleet_tui.config.presets import patterns_for
from fleet_tui.config.resolve import AgentLaunch, agent_names, resolve_agent, resolve_agents
from fleet_tui.config.schema import duration_seconds
from fleet_tui.core import events as ev
from fleet_tui.core.failures import Restart
from fleet_tui.core.inbox_rules import InboxMessage, InboxRejected, message_to_events
from fleet_tui.core.merge_rules import MergeNext
from fleet_tui.core.overlaps import CheckOverlap
from fleet_tui.core.routing import RoutingPolicy
from fleet_tui.core.rules import Command
from fleet_tui.core.state import FleetState
from fleet_tui.daemon.agents import AgentOps
from fleet_tui.daemon.index_keeper import IndexKeeper
from fleet_tui.daemon.merge_queue import MergeQueue
from fleet_tui.daemon.overlap_checker import OverlapChecker
from fleet_tui.daemon.pipeline import EventPipeline, ServiceError
from fleet_tui.daemon.policies import fleet_policy
from fleet_tui.daemon.remote import RemoteHosts
from fleet_tui.daemon.runner import CommandRunner
from fleet_tui.daemon.session import adopt, open_session
from fleet_tui.daemon.workspaces import Workspaces


class FleetService:
    def __init__(self, loaded: LoadedConfig, *, driver: TmuxDriver | None = None,
                 monitor_class: type[PaneMonitor] = PaneMonitor,
                 clock: Callable[[], float] = time.time, skip_corrupt: bool = False,
                 ssh_options: tuple[str, ...] = ()) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.skip_corrupt = skip_corrupt
        self.socket_name = driver.socket_name if driver else socket_name_for(self.config.fleet, loaded.path)
        self.driver = driver or TmuxDriver(self.socket_name)
        self.launches: dict[str, AgentLaunch] = {}
        self.pipeline = EventPipeline(fleet_policy(self.config, self.launches), clock, self._queue)
        self._spawn = True
        self._host_back_lock = threading.Lock()
        #: Agents on other machines (``hosts:``): their links, drivers and monitors.
        self.remote = RemoteHosts(self.config, self.socket_name, self.submit, ssh_options)
        if self.remote.hosts:
            self.driver = self.remote.router(self.driver, self.launches)  # type: ignore[assignment]
        self.ops = AgentOps(loaded, self.pipeline, self.driver, self.launches, self._configure)
        self.ops.watch = self._watch
        #: The agents' git worktrees: made or adopted at start, switched per task, watched.
        self.workspaces = Workspaces(loaded, self.pipeline, self.socket_name)
        self.ops.place, self.ops.prepare = self.workspaces.place, self.workspaces.prepare
        self.runner = CommandRunner(self.ops)
        self.overlaps = OverlapChecker(self.pipeline)
        self.merge_queue = MergeQueue(self.ops, self.config.merge)
        self._monitor_class = monitor_class
        self._monitor: PaneMonitor | None = None
        self._inbox: InboxWatcher | None = None
        #: Follows what the agents' CLIs write about their spending (Claude, Codex), on the
        #: agent's host when it has one.
        self._transcripts = TranscriptWatcher(self._on_costs, prices=self.config.prices,
                                              files_of=self._files_of)
        #: Inbox message ids already applied (from the log), so a file is applied once.
        self._applied: set[str] = set()
        self.warnings: list[str] = []
        #: Keeps the replay index cached as the log grows (clients open from it).
        self._index: IndexKeeper | None = None

    # --- what clients and tests read ----------------------------------------------------------

    @property
    def state(self) -> FleetState:
        return self.pipeline.state

    @property
    def local_driver(self) -> TmuxDriver:
        """The fleet's own tmux server's driver (the daemon's, and the local agents')."""
        return self.driver.local if isinstance(self.driver, HostRouter) else self.driver

    @property
    def session_id(self) -> str:
        return self.ops.session_id

    @property
    def log_path(self) -> Path:
        return paths.events_path(self.session_id)

    @property
    def policy(self) -> RoutingPolicy:
        return self.pipeline.rules.routing

    def submit(self, event: ev.Event) -> ev.Event:
        return self.pipeline.submit(event)

    def _queue(self, commands: list[Command]) -> None:
        """Conflict checks and merges go to workers of their own (an alert never waits behind
        a prompt, nor a prompt behind a merge's checks)."""
        self.runner.put([c for c in commands if not isinstance(c, CheckOverlap | MergeNext)])
        for command in commands:
            if isinstance(command, CheckOverlap):
                self.overlaps.put(command)
            elif isinstance(command, MergeNext):
                self.merge_queue.kick()

    def _configure(self) -> None:
        """Rebuild the policies from the launches (after the set of agents changed)."""
        self.pipeline.rules = fleet_policy(self.config, self.launches)

    # --- start and stop -----------------------------------------------------------------------

    def start(self, spawn: bool = True, on_open: Callable[[], None] = lambda: None) -> None:
        """Open (or reopen) the session, adopt running agents, spawn missing ones, watch panes.
        ``on_open`` is called once the log is open (the daemon starts answering clients then)."""
        for spec in self.config.agents:
            for name in agent_names(spec):
                self.launches[name] = resolve_agent(spec, self.config, self.loaded.base_dir, name)
        self._configure()
        self.remote.connect()
        panes = self.driver.list_agent_panes()
        opened = open_session(self.ops, panes, self.skip_corrupt, self._on_log_problem)
        self._applied = opened.applied
        self.warnings.extend(opened.warnings)
        self._transcripts.resume(self.state, opened.counted)
        self.pipeline.listeners.append(self._transcripts.observe)
        on_open()
        self.submit(ev.ConfigLoaded(
            path=str(self.loaded.path), fleet=self.config.fleet,
            agents=list(self.launches), tasks=len(self.config.tasks),
        ))
        if not opened.resumed:
            for task in self.config.tasks:
                self.submit(ev.TaskCreated(
                    task=task.id, title=task.title, description=task.description,
                    role=task.role, column=task.column, depends_on=list(task.blocked_by),
                    acceptance=list(task.acceptance), tags=list(task.tags), source=ev.SOURCE_USER,
                ))
        self.workspaces.open(list(self.launches.values()))
        self.remote.report_down()
        self._spawn = spawn
        down = self.remote.down
        adopt(self.ops, panes, hosts={"", *self.remote.hosts} - down)
        if spawn:
            running = {p.agent for p in panes}
            for launch in resolve_agents(self.config, self.loaded.base_dir):
                if launch.name not in running and launch.host not in down:
                    self.ops.spawn(launch)
        self._start_monitor()
        self._inbox = InboxWatcher(paths.inbox_dir(self.session_id), self.apply_message,
                                   self._on_inbox_reject, self.ops.tokens, self._on_inbox_error)
        self._inbox.start()
        self._transcripts.start()
        self.runner.start()
        self.overlaps.start()
        self.merge_queue.start()
        self._resume_restarts()
        self._index = IndexKeeper(self.log_path)
        self._index.start()

    def stop(self, kill_agents: bool = False, stopped_by: str = "") -> None:
        """Stop watching and close the log; agents keep running unless ``kill_agents``.
        ``stopped_by``: the client through which a person stopped the fleet (clients then do
        not start it again)."""
        if kill_agents:
            for name, agent in list(self.state.agents.items()):
                if agent.alive:
                    try:
                        self.ops.kill(name)
                    except (TmuxError, ServiceError) as exc:  # e.g. its host is unreachable
                        self.submit(ev.Error(kind="tmux", agent=name, message=f"not killed: {exc}"))
        self.merge_queue.stop()
        self.runner.stop()
        self.workspaces.stop()
        self.overlaps.stop()
        self._transcripts.stop()
        if stopped_by and self.pipeline.log is not None:
            self.submit(ev.DaemonStopped(agents_killed=kill_agents, source=ev.SOURCE_USER,
                                         client=stopped_by))
        if self._inbox is not None:
            self._inbox.stop()
            self._inbox = None
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None
        self.remote.stop(kill_servers=kill_agents)
        with self.pipeline.lock:
            if self.pipeline.log is not None:
                self.pipeline.log.close()
                self.pipeline.log = None
        if self._index is not None:
            self._index.stop()  # and a last extension, for the next client
            self._index = None

    def _resume_restarts(self) -> None:
        """Restarts a previous daemon had scheduled (backing off) and not carried out yet."""
        now = self.pipeline.clock()
        with self.pipeline.lock:
            waiting = [(name, agent.restart_at) for name, agent in self.state.agents.items()
                       if not agent.alive and agent.restart_at]
        self.runner.put([Restart(agent=name, delay=max(0.0, at - now)) for name, at in waiting])

    # --- the monitor and the inbox ------------------------------------------------------------

    def _start_monitor(self) -> None:
        options = dict(
            emit=self.submit,
            patterns={n: patterns_for(lc.preset, lc.status_patterns) for n, lc in self.launches.items()},
            stall_after={n: lc.stall_after for n, lc in self.launches.items()},
            holds_task=self._holds_task,
            on_reconnect=self._on_reconnect,
            exit_known=self._exit_known,
            output_cap=int(self.config.log.output_cap_mb * 1e6), output_used=self.state.output_chars,
            sample_every=duration_seconds(self.config.log.sample_every),
        )
        self._monitor = self._monitor_class(self.socket_name, **options)
        self._monitor.start()
        self.remote.start(options, self._on_host_back, self._on_remote_message)

    def _watch(self, launch: AgentLaunch) -> None:
        patterns = patterns_for(launch.preset, launch.status_patterns)
        if launch.host:
            self.remote.watch(launch, patterns, launch.stall_after)
        elif self._monitor is not None:
            self._monitor.watch(launch.name, patterns, launch.stall_after)

    def _holds_task(self, name: str) -> bool:
        """For the monitor's stall detection (on its thread: read the state under the lock)."""
        with self.pipeline.lock:
            agent = self.state.agents.get(name)
            return agent is not None and bool(agent.tasks)

    def _exit_known(self, name: str, pane: str) -> bool:
        """For the monitor: whether the log already has this dead pane's exit (adoption)."""
        with self.pipeline.lock:
            agent = self.state.agents.get(name)
            return agent is not None and agent.pane == pane and not agent.alive

    def _on_reconnect(self) -> None:
        """The monitor is back on a tmux server it had lost: adopt the agents there again."""
        adopt(self.ops, self.local_driver.list_agent_panes(), hosts={""} if self.remote.hosts else None)

    def _on_host_back(self, host: str) -> None:
        """A remote host's monitor is back over its link: adopt that host's agents again, and
        start the ones it should run that never started (it was down when the fleet began)."""
        with self._host_back_lock:  # the host's keeper and its monitor both call this
            adopt(self.ops, self.remote.hosts[host].driver.list_agent_panes(), hosts={host})
            for launch in resolve_agents(self.config, self.loaded.base_dir) if self._spawn else []:
                if launch.host == host and launch.name not in self.state.agents:
                    self.ops.spawn(launch)

    def _on_remote_message(self, raw: bytes) -> None:
        """A message from an agent on a remote host: into the local inbox, checked like a file."""
        try:
            drop_message(paths.inbox_dir(self.session_id), msgspec.json.decode(raw, type=InboxMessage))
        except (msgspec.DecodeError, msgspec.ValidationError, OSError) as exc:
            self.submit(ev.Error(kind="inbox", message=f"a message from a remote host: {exc}"))

    def apply_message(self, msg: InboxMessage) -> None:
        """Apply one inbox message (on the inbox thread); raises InboxRejected to refuse it."""
        if msg.id in self._applied:
            return
        events = message_to_events(msg)
        with self.pipeline.lock:
            if msg.agent not in self.state.agents:
                raise InboxRejected(f"unknown agent {msg.agent!r}")
            if msg.task and msg.type != "task.created" and msg.task not in self.state.tasks:
                raise InboxRejected(f"unknown task {msg.task!r}")
            for event in events:
                self.submit(event)
            self._applied.add(msg.id)

    def _files_of(self, agent: str) -> Files:
        """Where an agent's transcripts are: on its host (read over the link), or here."""
        launch = self.launches.get(agent)
        host = self.remote.hosts.get(launch.host) if launch is not None and launch.host else None
        return host.files if host is not None else LOCAL

    def _on_costs(self, events: list[ev.CostReported]) -> None:
        """Costs read from transcripts (on the watcher's thread), charged to the agent's task;
        one at a time, so budgets react before the next one."""
        for event in events:
            with self.pipeline.lock:
                agent = self.state.agents.get(event.agent)
                if agent is None:
                    continue
                event.task = agent.task
                self.submit(event)

    def _on_inbox_error(self, message: str) -> None:
        self.submit(ev.Error(kind="inbox", message=message))

    def _on_log_problem(self, problem: str | None) -> None:
        """The log cannot be written (disk full...) or can again (on the log's flusher thread)."""
        log = self.pipeline.log
        dropped = log.dropped if log is not None else 0
        self.submit(ev.Alert(kind=ev.ALERT_LOG, key="problem" if problem else "cleared",
                             message=problem or "the event log is written again (output events "
                             f"dropped so far: {dropped})"))

    def _on_inbox_reject(self, path: Path, reason: str, security: bool) -> None:
        self.submit(ev.Error(kind="security" if security else "inbox", detail=str(path),
                             message=f"inbox file {path.name} rejected: {reason}"))
