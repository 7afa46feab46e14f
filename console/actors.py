"""Who is acting: a team member in the browser, an API key, or the system (scheduled jobs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from console.models import ActorType, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from console.models import ApiKey

ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}
CONSOLE_API_ACTOR_NAME = "CONSOLE API"


@dataclass(frozen=True, slots=True)
class Actor:
    type: str
    name: str
    email: str = ""
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None
    role: str = Role.VIEWER
    # Browser changes always follow review settings; the console API only with
    # `x-respect-review-settings`; the system never files reviews.
    respects_reviews: bool = True

    @property
    def id(self) -> str:
        if self.user is not None:
            return str(self.user.pk)
        if self.api_key is not None:
            return self.api_key.public_id
        return "system"

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]

    @classmethod
    def for_user(cls, user: AbstractBaseUser, role: str) -> Actor:
        return cls(
            type=ActorType.USER,
            name=user.get_full_name() or user.get_username(),
            email=getattr(user, "email", "") or "",
            user=user,
            role=role,
            respects_reviews=True,
        )

    @classmethod
    def for_console_key(
        cls, api_key: ApiKey, *, respects_reviews: bool, role: str = Role.ADMIN
    ) -> Actor:
        # Statsig shows changes made with a console key as made by "CONSOLE API"; a console key
        # acts with admin rights within its project (a personal key with its holder's role).
        return cls(
            type=ActorType.API_KEY,
            name=CONSOLE_API_ACTOR_NAME,
            api_key=api_key,
            role=role,
            respects_reviews=respects_reviews,
        )

    @classmethod
    def system(cls, name: str = "System") -> Actor:
        return cls(type=ActorType.SYSTEM, name=name, role=Role.ADMIN, respects_reviews=False)
