"""Which API keys may send events: a project's active server secret or client key (for PostHog
clients the client key is the "project API key"). Resolved without SQL after warm-up."""

from __future__ import annotations

from console.keycache import ResolvedKey, resolve_api_key
from console.models import ApiKeyKind

INGEST_KEY_KINDS = frozenset({ApiKeyKind.SERVER, ApiKeyKind.CLIENT})


def ingest_key(secret: object) -> ResolvedKey | None:
    if not isinstance(secret, str) or not secret:
        return None
    key = resolve_api_key(secret.strip())
    if key is None or not key.is_active or key.kind not in INGEST_KEY_KINDS:
        return None
    return key
