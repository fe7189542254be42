"""The board's keys: new task, move it, assign it to the focused agent, approve or deny its
gate. A part of ``FleetApp``: each action reads the board's selection and sends the daemon a
request through the app's ``run_command`` (the daemon decides, under its lock)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleet_tui.ui.board import TaskBoard
from fleet_tui.ui.dialogs import PromptScreen
from fleet_tui.ui.task_dialogs import MoveTaskScreen, NewTask, NewTaskScreen

if TYPE_CHECKING:
    from fleet_tui.ui.app import FleetApp

    _Base = FleetApp
else:
    _Base = object


class BoardActions(_Base):
    def _selected_task(self) -> str | None:
        task_id = self.main.query_one(TaskBoard).selected_task()
        if task_id is None:
            self.notify("select a task on the board first (2, then arrows)", severity="warning")
        return task_id

    def action_new_task(self) -> None:
        if not self._writable("create tasks"):
            return
        config = self.fleet.config
        stages = self._stages()
        roles = sorted({r for s in config.routing.stages for r in s.roles}
                       | {r for a in config.agents for r in a.roles})
        column = stages[1] if len(stages) > 1 else stages[0]

        def create(request: NewTask | None) -> None:
            if request is not None:
                self.run_command("new task", "task_add", request.title, request.role,
                                 request.description, request.column)

        self.push_screen(NewTaskScreen(roles, stages, column), create)

    def action_move_task(self) -> None:
        if not self._writable("move tasks") or not (task_id := self._selected_task()):
            return
        task = self.fleet.state.tasks[task_id]

        def move(column: str | None) -> None:
            if column:
                self.run_command("move", "task_move", task_id, column)

        self.push_screen(MoveTaskScreen(task_id, self.main.query_one(TaskBoard).columns, task.column), move)

    def action_assign_task(self) -> None:
        if not self._writable("assign tasks") or not (task_id := self._selected_task()):
            return
        if agent := self.focused_agent():
            self.run_command("assign", "task_assign", task_id, agent,
                             done=f"{task_id} assigned to {agent}")

    def _selected_approval(self) -> tuple[str, str] | None:
        task_id = self.main.query_one(TaskBoard).selected_task()
        tasks = self.fleet.state.tasks
        candidates = [tasks[task_id]] if task_id in tasks else list(tasks.values())
        for task in candidates:
            if task.pending_approvals:
                return task.id, task.pending_approvals[0].id
        self.notify("no pending approval on the selected task", severity="warning")
        return None

    def action_approve(self) -> None:
        if self._writable("approve") and (chosen := self._selected_approval()):
            self.run_command("approve", "decide", chosen[0], chosen[1], True, "")

    def action_deny(self) -> None:
        if not self._writable("deny") or not (chosen := self._selected_approval()):
            return

        def deny(comment: str | None) -> None:
            if comment is not None:
                self.run_command("deny", "decide", chosen[0], chosen[1], False, comment)

        self.push_screen(PromptScreen(f"denying {chosen[0]}: why?"), deny)
