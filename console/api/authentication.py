"""Console API authentication: the ``STATSIG-API-KEY`` header with an active console key, and the
key's scopes (Statsig's: ``omni_read_only`` keys only read, ``can_access_keys`` is needed to manage
keys, ``personal_*`` keys act with their holder's role)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from console.keycache import ResolvedKey, resolve_api_key, resolve_api_key_from_database
from console.models import ApiKey, ApiKeyKind, ApiKeyScope, Membership, Role
from console.services.api_keys import mask_secret

API_KEY_HEADER = "HTTP_STATSIG_API_KEY"
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_ONLY_SCOPES = frozenset({ApiKeyScope.OMNI_READ_ONLY, ApiKeyScope.PERSONAL_READ_ONLY})
PERSONAL_SCOPES = frozenset({ApiKeyScope.PERSONAL_READ_ONLY, ApiKeyScope.PERSONAL_READ_WRITE})


def invalid_console_key_message(secret: str) -> str:
    return (
        "This endpoint only accepts an active CONSOLE key, but an invalid key was sent. "
        f"Key: {mask_secret(secret) if secret else '(none)'}"
    )


class ConsoleKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request) -> tuple[None, ResolvedKey]:
        secret = request.META.get(API_KEY_HEADER, "").strip()
        # A write asks the database, not this process's cache: a key revoked a moment ago in
        # another process must not create keys or approve changes in the meantime.
        if request.method in MUTATING_METHODS:
            key = resolve_api_key_from_database(secret)
        else:
            key = resolve_api_key(secret)
        if key is None or not key.is_active or key.kind != ApiKeyKind.CONSOLE:
            raise exceptions.AuthenticationFailed(invalid_console_key_message(secret))
        return None, key

    def authenticate_header(self, request) -> str:
        return "STATSIG-API-KEY"


def has_scope(key: ResolvedKey, scope: str) -> bool:
    """A console key stored without scopes predates them and keeps every console scope."""
    return not key.scopes or scope in key.scopes


def check_scopes(key: ResolvedKey, *, method: str, required_scope: str | None) -> None:
    """403 for a write with a read-only key, or an endpoint needing a scope the key lacks."""
    read_only = READ_ONLY_SCOPES.intersection(key.scopes)
    if method in MUTATING_METHODS and read_only:
        raise exceptions.PermissionDenied(
            f"This key is read-only (scope {sorted(read_only)[0]}): {method} is not allowed."
        )
    if required_scope is not None and not has_scope(key, required_scope):
        raise exceptions.PermissionDenied(
            f"This key lacks the scope this endpoint needs: {required_scope}."
        )


def console_key_role(api_key: ApiKey) -> str:
    """The role a console key acts with: admin, or its holder's role for a personal key (viewer
    when the holder has left the project)."""
    if not PERSONAL_SCOPES.intersection(api_key.scopes or ()):
        return Role.ADMIN
    membership = Membership.objects.filter(
        project_id=api_key.project_id, user_id=api_key.created_by_id
    ).first()
    return membership.role if membership is not None else Role.VIEWER
