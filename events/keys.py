"""PostHog's project API key: a token in the body or query that must be one of the project's
active server secret or client keys (for PostHog clients the client key is the "project API
key"), resolved without SQL after warm-up, refused in PostHog's words."""

from __future__ import annotations

from console import wire
from console.keycache import ResolvedKey

INVALID_API_KEY = (
    "Project API key invalid. You can find your project API key in PostHog project settings."
)
MISSING_API_KEY = (
    "API key not provided. You can find your project API key in PostHog project settings."
)
NO_API_KEY = (
    "No project API key provided. You can find your project API key in PostHog project settings."
)


def token_key(token: str | None, *, missing_code: str, missing_detail: str) -> ResolvedKey:
    """The key a token is, or a 401: capture says ``missing_api_key`` when there is none,
    the flag endpoints ``no_api_key``, as PostHog does."""
    if not token:
        raise wire.Refusal(401, missing_detail, code=missing_code)
    key = wire.find_key(token, wire.SDK_KEYS)
    if key is None:
        raise wire.Refusal(401, INVALID_API_KEY, code="invalid_api_key")
    return key
