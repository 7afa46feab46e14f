"""API keys: the secret is shown at creation; lookups use its SHA-256. An encrypted copy is kept
(``secret_sealed``) for Statsig's full-key listing to console keys with ``can_access_keys``. A key
is addressed by its public id or by the key itself, as Statsig's API addresses it."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from console.actors import Actor
from console.errors import NotFound, PermissionDenied, ValidationError
from console.keycache import forget_api_key, hash_secret
from console.models import (
    API_KEY_PREFIXES,
    ApiKey,
    ApiKeyKind,
    ApiKeyScope,
    Environment,
    Project,
    Role,
)
from console.selectors import api_key_lookup
from console.services.audit import audit_record

SECRET_BYTES = 32
SCOPES_BY_KIND: dict[str, frozenset[str]] = {
    ApiKeyKind.CONSOLE: frozenset(
        {
            ApiKeyScope.OMNI_READ_ONLY,
            ApiKeyScope.OMNI_READ_WRITE,
            ApiKeyScope.PERSONAL_READ_ONLY,
            ApiKeyScope.PERSONAL_READ_WRITE,
            ApiKeyScope.CAN_ACCESS_KEYS,
        }
    ),
    ApiKeyKind.CLIENT: frozenset(
        {
            ApiKeyScope.CLIENT_DOWNLOAD_CONFIG_SPECS,
            ApiKeyScope.NONE_HASH_ENABLED,
            ApiKeyScope.CLIENT_CAN_WRITE_USER_STORE,
        }
    ),
    ApiKeyKind.SERVER: frozenset(),
}
# At most one of these per key: a key either only reads or also writes, as itself or its holder.
ACCESS_SCOPES = frozenset(
    {
        ApiKeyScope.OMNI_READ_ONLY,
        ApiKeyScope.OMNI_READ_WRITE,
        ApiKeyScope.PERSONAL_READ_ONLY,
        ApiKeyScope.PERSONAL_READ_WRITE,
    }
)


def seal_secret(secret: str) -> str:
    return Fernet(settings.API_KEY_SEALING_KEY.encode()).encrypt(secret.encode()).decode()


def unsealed_secret(key: ApiKey) -> str | None:
    """The key itself, or None when no readable copy is kept (older keys, a changed sealing
    key)."""
    if not key.secret_sealed:
        return None
    try:
        return Fernet(settings.API_KEY_SEALING_KEY.encode()).decrypt(key.secret_sealed).decode()
    except (InvalidToken, ValueError):
        return None


def mask_secret(secret: str) -> str:
    """What a key looks like in an error message: its kind prefix and a hint, never the secret."""
    prefix, _, rest = secret.partition("-")
    if not rest:
        return "*" * min(len(secret), 8)
    return f"{prefix}-{rest[:3]}{'*' * 12}"


def _require_admin(actor: Actor) -> None:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Insufficient permissions. Only admins manage API keys.")


def require_live_key(actor: Actor) -> None:
    """For writes a revoked key must never make: the acting key, locked as the database has it
    now (call inside the write's transaction; no-op for people and the system)."""
    if actor.api_key is None:
        return
    live = ApiKey.objects.select_for_update().filter(pk=actor.api_key.pk, is_active=True)
    if not live.exists():
        raise PermissionDenied("This key has been deactivated.")


def holder_of(actor: Actor):
    """Who a key made by ``actor`` belongs to: the person, or the holder of the acting key."""
    if actor.user is not None:
        return actor.user
    if actor.api_key is not None:
        return actor.api_key.created_by
    return None


def _validated_scopes(kind: str, scopes: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(scopes))
    allowed = SCOPES_BY_KIND[ApiKeyKind(kind)]
    for index, scope in enumerate(wanted):
        if scope not in allowed:
            choices = ", ".join(sorted(allowed)) or "none"
            raise ValidationError.for_field(
                f"scopes[{index}]",
                f"Unknown scope '{scope}' for a {kind} key. Use one of: {choices}.",
            )
    if len(ACCESS_SCOPES.intersection(wanted)) > 1:
        raise ValidationError.for_field(
            "scopes",
            "Use one of omni_read_only, omni_read_write, personal_read_only, personal_read_write.",
        )
    return wanted


def _validated_environments(project: Project, environments: Iterable[str]) -> list[str]:
    wanted = sorted(set(environments))
    known = set(Environment.objects.filter(project=project).values_list("name", flat=True))
    for index, name in enumerate(wanted):
        if name not in known:
            raise ValidationError.for_field(
                f"environments[{index}]", f"Unknown environment '{name}'."
            )
    return wanted


def _new_key(
    *,
    project: Project,
    kind: str,
    description: str,
    environments: list[str],
    scopes: list[str],
    created_by,
) -> tuple[ApiKey, str]:
    secret = API_KEY_PREFIXES[ApiKeyKind(kind)] + secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey.objects.create(
        project=project,
        public_id=secrets.token_urlsafe(12),
        kind=kind,
        description=description,
        secret_hash=hash_secret(secret),
        secret_sealed=seal_secret(secret),
        hint=secret[: len(API_KEY_PREFIXES[ApiKeyKind(kind)]) + 4],
        environments=environments,
        scopes=scopes,
        created_by=created_by,
    )
    return key, secret


def api_key_create(
    *,
    project: Project,
    actor: Actor,
    kind: str,
    description: str = "",
    environments: Iterable[str] = (),
    scopes: Iterable[str] = (),
) -> tuple[ApiKey, str]:
    """Returns the key and its secret. A key made with a console key belongs to that key's
    holder, so a holder cannot make a second key to approve their own changes."""
    _require_admin(actor)
    if kind not in ApiKeyKind.values:
        raise ValidationError.for_field(
            "type", f"Unknown key type '{kind}'. Use one of: {', '.join(ApiKeyKind.values)}."
        )
    if len(description) > 1000:
        raise ValidationError.for_field("description", "At most 1000 characters.")
    scopes = _validated_scopes(kind, scopes)
    with transaction.atomic():
        require_live_key(actor)
        key, secret = _new_key(
            project=project,
            kind=kind,
            description=description,
            environments=_validated_environments(project, environments),
            scopes=scopes,
            created_by=holder_of(actor),
        )
        audit_record(
            project=project,
            actor=actor,
            action_type="key_create",
            entity_type="key",
            entity_id=key.public_id,
            entity_name=key.hint,
            changes={
                "type": {"old": None, "new": kind},
                "description": {"old": None, "new": description},
                "scopes": {"old": None, "new": scopes},
            },
        )
    return key, secret


def _locked_key(project: Project, key_ref: str) -> ApiKey:
    key = api_key_lookup(
        ApiKey.objects.select_for_update().filter(project=project), key_ref=key_ref
    )
    if key is None:
        raise NotFound("Key not found.")
    return key


def api_key_deactivate(*, project: Project, actor: Actor, key_ref: str) -> ApiKey:
    """``key_ref``: the key's public id or the key itself."""
    _require_admin(actor)
    with transaction.atomic():
        require_live_key(actor)
        key = _locked_key(project, key_ref)
        if key.is_active:
            key.is_active = False
            key.deactivated_at = timezone.now()
            key.save(update_fields=["is_active", "deactivated_at"])
            audit_record(
                project=project,
                actor=actor,
                action_type="key_deactivate",
                entity_type="key",
                entity_id=key.public_id,
                entity_name=key.hint,
                changes={"status": {"old": "active", "new": "deactivated"}},
            )
        transaction.on_commit(lambda: forget_api_key(key.secret_hash))
    return key


def api_key_update(
    *,
    project: Project,
    actor: Actor,
    key_ref: str,
    description: str | None = None,
    environments: Iterable[str] | None = None,
    scopes: Iterable[str] | None = None,
) -> ApiKey:
    """Changes what was sent of description, environments and scopes (Statsig's PATCH)."""
    _require_admin(actor)
    with transaction.atomic():
        require_live_key(actor)
        key = _locked_key(project, key_ref)
        changes: dict[str, dict] = {}
        if description is not None:
            if len(description) > 1000:
                raise ValidationError.for_field("description", "At most 1000 characters.")
            changes["description"] = {"old": key.description, "new": description}
            key.description = description
        if environments is not None:
            new_environments = _validated_environments(project, environments)
            changes["environments"] = {"old": key.environments, "new": new_environments}
            key.environments = new_environments
        if scopes is not None:
            new_scopes = _validated_scopes(key.kind, scopes)
            changes["scopes"] = {"old": key.scopes, "new": new_scopes}
            key.scopes = new_scopes
        if changes:
            key.save(update_fields=list(changes))
            audit_record(
                project=project,
                actor=actor,
                action_type="key_update",
                entity_type="key",
                entity_id=key.public_id,
                entity_name=key.hint,
                changes=changes,
            )
        # Every process drops its copy: a narrowed scope or environment applies at once.
        transaction.on_commit(lambda: forget_api_key(key.secret_hash))
    return key


def api_key_delete(*, project: Project, actor: Actor, key_ref: str) -> None:
    """Deletes the key; it stops working everywhere within a second (see console.keycache)."""
    _require_admin(actor)
    with transaction.atomic():
        require_live_key(actor)
        key = _locked_key(project, key_ref)
        secret_hash = key.secret_hash
        audit_record(
            project=project,
            actor=actor,
            action_type="key_delete",
            entity_type="key",
            entity_id=key.public_id,
            entity_name=key.hint,
            changes={"status": {"old": "active" if key.is_active else "deactivated", "new": None}},
        )
        key.delete()
        transaction.on_commit(lambda: forget_api_key(secret_hash))


def api_key_rotate(*, project: Project, actor: Actor, key_ref: str) -> tuple[ApiKey, str]:
    """Deactivates the key and issues a new secret of the same kind, scopes and description."""
    _require_admin(actor)
    with transaction.atomic():
        require_live_key(actor)
        old = _locked_key(project, key_ref)
        if not old.is_active:
            raise ValidationError.for_field("status", "A deactivated key cannot be rotated.")
        old.is_active = False
        old.deactivated_at = timezone.now()
        old.save(update_fields=["is_active", "deactivated_at"])
        new, secret = _new_key(
            project=project,
            kind=old.kind,
            description=old.description,
            environments=list(old.environments),
            scopes=list(old.scopes),
            created_by=old.created_by,
        )
        new.rotated_from = old
        new.save(update_fields=["rotated_from"])
        audit_record(
            project=project,
            actor=actor,
            action_type="key_rotate",
            entity_type="key",
            entity_id=old.public_id,
            entity_name=old.hint,
            changes={"key": {"old": old.public_id, "new": new.public_id}},
        )
        transaction.on_commit(lambda: forget_api_key(old.secret_hash))
    return new, secret
