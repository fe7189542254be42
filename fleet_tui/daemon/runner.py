"""The command runner: carries out the rules' commands (prompts, budget pauses, restarts: tmux
I/O) in order on one thread, off the threads that submit events, and checks budgets whenever
``TICK`` seconds pass without a command (running minutes grow with no event). A command that
fails becomes an ``error`` event; the runner keeps going."""

from __future__ import annotations

import queue
import threading

from fleet_tui.core import events as ev
from fleet_tui.core.budgets import Pause, check_budgets
from fleet_tui.core.failures import Restart
from fleet_tui.core.routing import Prompt
from fleet_tui.core.rules import Command
from fleet_tui.daemon.agents import AgentOps
from fleet_tui.daemon.queue_worker import QueueWorker

#: Seconds between budget checks when no command comes.
TICK = 1.0
#: The error kind and verb reported when a command fails.
_FAILED = {Prompt: ("routing", "prompt"), Pause: ("budget", "pause"), Restart: ("restart", "restart")}


class CommandRunner(QueueWorker[Command]):
    thread_name = "fleet-commands"

    def __init__(self, ops: AgentOps) -> None:
        super().__init__()
        self.ops = ops

    def put(self, commands: list[Command]) -> None:
        for command in commands:
            self._queue.put(command)

    def _run(self) -> None:
        while True:
            try:
                command = self._queue.get(timeout=TICK)
            except queue.Empty:
                self._check_budgets()
                continue
            if command is None:
                return
            if isinstance(command, Restart) and command.delay > 0:  # backoff: queue it later
                later = threading.Timer(command.delay, self._queue.put, [Restart(command.agent)])
                later.daemon = True
                later.start()
                continue
            try:
                self._carry_out(command)
            except Exception as exc:  # an agent gone meanwhile: say so, keep going
                kind, verb = _FAILED[type(command)]
                self.ops.submit(ev.Error(kind=kind, agent=command.agent, task=getattr(command, "task", None),
                                         message=f"could not {verb} {command.agent}: {exc}"))

    def _carry_out(self, command: Command) -> None:
        ops = self.ops
        if isinstance(command, Prompt):
            ops.prompt(command.agent, command.text, task=command.task,
                       source=ev.SOURCE_ORCHESTRATOR, reason=command.reason)
            return
        agent = ops.state.agents.get(command.agent)
        if isinstance(command, Pause):
            if agent is not None and agent.alive and not agent.paused:
                ops.pause(command.agent, reason=command.reason, source=ev.SOURCE_ORCHESTRATOR)
        elif (agent is None or not agent.alive) and command.agent not in ops.pipeline.stopping:
            ops.spawn(ops.launch(command.agent))  # unless the user started or stopped it

    def _check_budgets(self) -> None:
        pipeline = self.ops.pipeline
        with pipeline.lock:
            if pipeline.log is None:
                return
            alerts, pauses = check_budgets(pipeline.state, pipeline.rules.budgets, pipeline.clock())
            for alert in alerts:
                pipeline.submit(alert)
            self.put(list(pauses))
