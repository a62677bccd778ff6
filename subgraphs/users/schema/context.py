"""What the users resolvers find on ``info.context.state``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from setrum_common.service_app import ServiceContext
from setrum_common.sessions import SessionGuard

from ..passwords import Passwords
from ..settings import UsersSettings
from ..throttle import SigninThrottle

if TYPE_CHECKING:
    import strawberry

__all__ = ["UsersState", "context_of", "state_of"]


@dataclass(frozen=True, slots=True)
class UsersState:
    settings: UsersSettings
    passwords: Passwords
    throttle: SigninThrottle
    sessions: SessionGuard


def context_of(info: strawberry.Info) -> ServiceContext:
    return info.context


def state_of(info: strawberry.Info) -> UsersState:
    return info.context.state
