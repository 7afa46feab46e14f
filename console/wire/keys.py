"""Which API keys a public endpoint accepts, resolved from process memory
(``console.keycache``: no SQL after warm-up), with one set of messages for every endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from console.keycache import ResolvedKey, resolve_api_key
from console.models import ApiKeyKind
from console.wire.errors import Refusal

KEY_HEADER = "STATSIG-API-KEY"
_CHALLENGE = {"WWW-Authenticate": KEY_HEADER}


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """The key kinds an endpoint accepts, how its messages name them, and what a key of
    another kind is told it cannot do."""

    kinds: frozenset[str]
    description: str
    refused: str = "are refused here"


SERVER_KEYS = KeyPolicy(frozenset({ApiKeyKind.SERVER}), "server secret key (secret-…)")
SDK_KEYS = KeyPolicy(
    frozenset({ApiKeyKind.SERVER, ApiKeyKind.CLIENT}),
    "server secret key (secret-…) or client SDK key (client-…)",
)


def find_key(secret: object, policy: KeyPolicy) -> ResolvedKey | None:
    """The active key of an accepted kind that ``secret`` is, or None."""
    if not isinstance(secret, str) or not secret:
        return None
    key = resolve_api_key(secret.strip())
    if key is None or not key.is_active or key.kind not in policy.kinds:
        return None
    return key


def require_key(secret: str | None, policy: KeyPolicy) -> ResolvedKey:
    """The key, or a 401 saying whether it was missing, unknown (or inactive) or of a kind
    this endpoint refuses."""
    secret = (secret or "").strip()
    if not secret:
        raise Refusal(
            401,
            f"Missing API key: send a {policy.description} in the {KEY_HEADER} header.",
            code="missing_api_key",
            headers=_CHALLENGE,
        )
    key = resolve_api_key(secret)
    if key is None or not key.is_active:
        raise Refusal(
            401,
            f"Invalid or inactive API key: send an active {policy.description}.",
            headers=_CHALLENGE,
        )
    if key.kind not in policy.kinds:
        label = ApiKeyKind(key.kind).label.split()[0].lower()
        raise Refusal(
            401,
            f"This endpoint only accepts a {policy.description}; {label} keys {policy.refused}.",
            headers=_CHALLENGE,
        )
    return key
