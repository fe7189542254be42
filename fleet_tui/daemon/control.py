"""The control server: the daemon's side of the control socket.

Every client command (the UI's keys, the command line, the browser) arrives here as one
``Request`` and is carried out by the agent operations on a thread of its own, so a slow kill
never holds up a ``ping``. Events it causes carry ``source: user`` and the client (its kind and
pid, from the kernel). The socket is the owner's only (0600, and the peer's uid is checked).

Gate decisions come only from a person: ``approve``/``deny`` from a process that runs inside
one of the fleet's agent panes (its ancestry reaches an agent's pane process, or it carries an
agent's ``FLEET_AGENT`` variable) are refused and logged as a security ``error``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from fleet_tui.adapters import control_socket as cs
from fleet_tui.adapters.procs import read_proc
from fleet_tui.core import events as ev
from fleet_tui.core.inbox_rules import InboxMessage, InboxRejected
from fleet_tui.daemon.pipeline import ServiceError, acting_client
from fleet_tui.daemon.service import FleetService

#: Ancestors walked at most when looking for an agent pane above a client.
_MAX_DEPTH = 64


class Refused(Exception):
    """A request the daemon will not carry out (one line for the client)."""


def _environ_has(pid: int, name: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return any(item.startswith(name + b"=") for item in fh.read().split(b"\0"))
    except OSError:
        return False


def agent_pane_above(pid: int, pane_pids: set[int]) -> bool:
    """True when ``pid`` runs inside an agent's pane: an ancestor is a pane's process, or it
    (or an ancestor) carries the ``FLEET_AGENT`` variable agents are started with."""
    for _ in range(_MAX_DEPTH):
        if pid in pane_pids or _environ_has(pid, b"FLEET_AGENT"):
            return True
        proc = read_proc(pid)
        if proc is None or proc.ppid <= 1:
            return False
        pid = proc.ppid
    return False


class ControlServer:
    def __init__(self, service: FleetService, path: Path,
                 on_stop: Callable[[bool, str], None]) -> None:
        self.service = service
        self.path = path
        #: Called (after the reply is sent) when a client asks the fleet to stop.
        self._on_stop = on_stop
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        ops = service.ops
        self._ops: dict[str, Callable[..., Any]] = {
            "ping": self._ping,
            "spawn": ops.spawn_from_template,
            "pause": ops.pause,
            "resume": ops.resume,
            "toggle_pause": ops.toggle_pause,
            "kill": ops.kill,
            "restart": ops.restart,
            "prompt": ops.prompt,
            "reply": ops.reply,
            "approve": lambda task="", approval="", comment="": self._decide(task, approval, True, comment),
            "deny": lambda task="", approval="", comment="": self._decide(task, approval, False, comment),
            "emit": self._emit,
            "task_add": ops.task_add,
            "task_move": ops.task_move,
            "task_assign": lambda task, agent: ops.task_assign(task, agent, service.policy),
            "pane_rows": ops.pane_rows,
            "workspaces_prune": service.workspaces.prune,
            "stop": lambda kill_agents=False: None,
        }

    def start(self) -> None:
        self._sock = cs.listen(self.path)
        self._thread = threading.Thread(target=self._accept, name="control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _accept(self) -> None:
        sock = self._sock
        while sock is not None and not self._closing:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="control-request",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        stop: bool | None = None
        client = ""
        with conn:
            try:
                conn.settimeout(10)
                peer = cs.peer_of(conn)
                line = cs.read_line(conn)
                if not line:
                    return
                request = cs.decode_request(line)
                reply = self._handle(request, peer)
                if request.op == "stop" and reply.ok:
                    stop = bool(request.args.get("kill_agents", False))
                    client = f"{request.client} pid {peer.pid}"
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                reply = cs.Reply(ok=False, error=f"bad request: {exc}")
            except (OSError, cs.ControlError):
                return  # the client went away
            with contextlib.suppress(OSError):
                conn.sendall(cs.encode(reply))
        if stop is not None:
            self._on_stop(stop, client)

    def _handle(self, request: cs.Request, peer: cs.Peer) -> cs.Reply:
        if peer.uid != os.getuid():
            return cs.Reply(ok=False, error="refused: the fleet belongs to another user")
        handler = self._ops.get(request.op)
        if handler is None:
            return cs.Reply(ok=False, error=f"unknown request {request.op!r}")
        token = acting_client.set(f"{request.client} pid {peer.pid}")
        try:
            if request.op in ("approve", "deny", "emit"):
                self._check_person(request, peer)
            return cs.Reply(ok=True, data=handler(**request.args))
        except (ServiceError, Refused) as exc:
            return cs.Reply(ok=False, error=str(exc))
        except TypeError as exc:
            return cs.Reply(ok=False, error=f"bad arguments for {request.op}: {exc}")
        except Exception as exc:  # tmux gone, disk trouble: one line to the client, daemon lives
            return cs.Reply(ok=False, error=f"{request.op} failed: {exc}")
        finally:
            acting_client.reset(token)

    def _check_person(self, request: cs.Request, peer: cs.Peer) -> None:
        panes = {p.pid for p in self.service.local_driver.list_agent_panes()}  # pids here
        if agent_pane_above(peer.pid, panes):
            self.service.submit(ev.Error(
                kind="security", detail=f"pid {peer.pid}",
                message=f"refused {request.op} from a process inside an agent's pane "
                        f"(pid {peer.pid}): gates are decided by a person"))
            raise Refused(f"refused: {request.op} must come from a person, not from an agent"
                          + (" (agents emit through their inbox)" if request.op == "emit" else ""))

    def _decide(self, task: str, approval: str, grant: bool, comment: str) -> dict[str, str]:
        ops = self.service.ops
        if not approval:
            task, approval = ops.first_pending(task)
        ops.decide(task, approval, grant, comment)
        return {"task": task, "approval": approval}

    def _emit(self, message: dict[str, Any]) -> None:
        """A person's ``fleet-tui emit`` from outside any agent (agents use their inbox)."""
        try:
            msg = msgspec.convert(message, InboxMessage)
            self.service.apply_message(msg)
        except msgspec.ValidationError as exc:
            raise Refused(f"not a valid message: {exc}") from None
        except InboxRejected as exc:
            raise Refused(f"refused: {exc.reason}") from None

    def _ping(self) -> dict[str, Any]:
        service = self.service
        return {"session": service.session_id, "pid": os.getpid(), "log": str(service.log_path),
                "fleet": service.config.fleet}
