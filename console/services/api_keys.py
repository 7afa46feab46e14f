"""API keys: the secret is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from console.actors import Actor
from console.errors import NotFound, PermissionDenied, ValidationError
from console.keycache import forget_api_key, hash_secret
from console.models import API_KEY_PREFIXES, ApiKey, ApiKeyKind, Environment, Project, Role
from console.services.audit import audit_record

SECRET_BYTES = 32


def mask_secret(secret: str) -> str:
    """What a key looks like in an error message: its kind prefix and a hint, never the secret."""
    prefix, _, rest = secret.partition("-")
    if not rest:
        return "*" * min(len(secret), 8)
    return f"{prefix}-{rest[:3]}{'*' * 12}"


def _require_admin(actor: Actor) -> None:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Insufficient permissions. Only admins manage API keys.")


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
    *, project: Project, kind: str, description: str, environments: list[str], created_by
) -> tuple[ApiKey, str]:
    secret = API_KEY_PREFIXES[ApiKeyKind(kind)] + secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey.objects.create(
        project=project,
        public_id=secrets.token_urlsafe(12),
        kind=kind,
        description=description,
        secret_hash=hash_secret(secret),
        hint=secret[: len(API_KEY_PREFIXES[ApiKeyKind(kind)]) + 4],
        environments=environments,
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
) -> tuple[ApiKey, str]:
    """Returns the key and its secret; the secret cannot be read again."""
    _require_admin(actor)
    if kind not in ApiKeyKind.values:
        raise ValidationError.for_field(
            "type", f"Unknown key type '{kind}'. Use one of: {', '.join(ApiKeyKind.values)}."
        )
    if len(description) > 1000:
        raise ValidationError.for_field("description", "At most 1000 characters.")
    with transaction.atomic():
        key, secret = _new_key(
            project=project,
            kind=kind,
            description=description,
            environments=_validated_environments(project, environments),
            created_by=actor.user,
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
            },
        )
    return key, secret


def _locked_key(project: Project, public_id: str) -> ApiKey:
    key = ApiKey.objects.select_for_update().filter(project=project, public_id=public_id).first()
    if key is None:
        raise NotFound("Key not found.")
    return key


def api_key_deactivate(*, project: Project, actor: Actor, public_id: str) -> ApiKey:
    _require_admin(actor)
    with transaction.atomic():
        key = _locked_key(project, public_id)
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


def api_key_rotate(*, project: Project, actor: Actor, public_id: str) -> tuple[ApiKey, str]:
    """Deactivates the key and issues a new secret of the same kind, scope and description."""
    _require_admin(actor)
    with transaction.atomic():
        old = _locked_key(project, public_id)
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
            created_by=actor.user,
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
