"""Console API authentication: the ``STATSIG-API-KEY`` header with an active console key."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from console.keycache import ResolvedKey, resolve_api_key
from console.models import ApiKeyKind
from console.services.api_keys import mask_secret

API_KEY_HEADER = "HTTP_STATSIG_API_KEY"


def invalid_console_key_message(secret: str) -> str:
    return (
        "This endpoint only accepts an active CONSOLE key, but an invalid key was sent. "
        f"Key: {mask_secret(secret) if secret else '(none)'}"
    )


class ConsoleKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request) -> tuple[None, ResolvedKey]:
        secret = request.META.get(API_KEY_HEADER, "").strip()
        key = resolve_api_key(secret)
        if key is None or not key.is_active or key.kind != ApiKeyKind.CONSOLE:
            raise exceptions.AuthenticationFailed(invalid_console_key_message(secret))
        return None, key

    def authenticate_header(self, request) -> str:
        return "STATSIG-API-KEY"
