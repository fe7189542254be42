"""Per-agent inbox tokens: proof that an inbox message comes from the agent it names.

Each session has a secret (32 random bytes in ``sessions/<id>/secret``, 0600, made once). An
agent's token is HMAC-SHA256(secret, agent name), handed to it at spawn as
``$FLEET_AGENT_TOKEN``; ``fleet-tui emit`` and ``fleet-tui hook`` put it in every message. A
restarted fleet-tui derives the same tokens from the same file, so no map of tokens is kept.

This stops one agent from speaking for another (``emit --agent other``) and stops messages
from outside the fleet; it cannot stop a process that reads the session folder itself (agents
run as the same user), so it is a guard against impersonation, not a sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

TOKEN_ENV = "FLEET_AGENT_TOKEN"
SECRET_FILE = "secret"
SECRET_BYTES = 32


class TokenError(Exception):
    """The session's secret cannot be made or read; the message is one line."""


class AgentTokens:
    """Derives and checks the agents' tokens of one session."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def for_session(cls, session_dir: Path) -> AgentTokens:
        """The session's tokens, making its secret file on first use."""
        path = session_dir / SECRET_FILE
        try:
            return cls(_read_secret(path))
        except FileNotFoundError:
            pass
        tmp = session_dir / f".{SECRET_FILE}-{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, secrets.token_bytes(SECRET_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces a secret another process made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return cls(_read_secret(path))

    def token(self, agent: str) -> str:
        return hmac.new(self._secret, agent.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def matches(self, agent: str, token: str) -> bool:
        """True when ``token`` is ``agent``'s (compared in constant time)."""
        return hmac.compare_digest(self.token(agent).encode(), token.encode("utf-8", "surrogatepass"))


def _read_secret(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise TokenError(f"{path}: cannot read the session secret: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        data = os.read(fd, SECRET_BYTES + 1) if stat.S_ISREG(st.st_mode) else b""
    finally:
        os.close(fd)
    if len(data) != SECRET_BYTES or st.st_mode & 0o077:
        raise TokenError(f"{path}: not a private {SECRET_BYTES}-byte secret; remove it to make a new one")
    return data
