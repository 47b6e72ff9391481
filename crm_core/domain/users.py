"""People who sign in, and their roles. Pure: no SQL, no hashing (``passwords``), no HTTP.

A user with role ``agent`` or ``answering`` acts as one ACD agent (``agent``); supervisors and admins may
act as one too, or as none. Usernames are compared exactly as stored, after trimming and case-folding
on the way in, so ``Alice`` and ``alice`` are one user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crm_core.domain.errors import Conflict, NotFound, ValidationFailed

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 takes any length; this bounds the work one request can ask for


class Role(StrEnum):
    AGENT = "agent"
    ANSWERING = "answering"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLES_WITH_AGENT = frozenset({Role.AGENT, Role.ANSWERING})  # these must act as an agent


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    username: str
    name: str
    role: Role
    agent: str | None
    disabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Standing:
    """What the console's sweep of open sockets reads of every user, and no more: whether they may still
    be signed in (``disabled``), as what (``role``), and when their row last changed."""

    username: str
    role: Role
    disabled: bool
    updated_at: datetime


class UserNotFound(NotFound):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user {username!r}")
        self.username = username


class DuplicateUsername(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} already exists")
        self.username = username


def username(raw: str) -> str:
    name = raw.strip().casefold()
    if not USERNAME.fullmatch(name):
        raise ValidationFailed(
            "username", "1 to 64 of a-z, 0-9, '.', '_', '@', '-', starting with a letter or digit"
        )
    return name


def role(raw: str) -> Role:
    try:
        return Role(raw)
    except ValueError:
        raise ValidationFailed("role", f"one of {', '.join(Role)}") from None


def agent_for(role_: Role, agent: str | None) -> str | None:
    agent = (agent or "").strip() or None
    if agent is None and role_ in ROLES_WITH_AGENT:
        raise ValidationFailed("agent", f"a user with role {role_} must act as an agent id")
    if agent is not None and len(agent) > 64:
        raise ValidationFailed("agent", "at most 64 characters")
    return agent


def password(raw: str) -> str:
    if not MIN_PASSWORD <= len(raw) <= MAX_PASSWORD:
        raise ValidationFailed("password", f"{MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return raw
