"""Projects, their environments and members."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from console.actors import Actor
from console.errors import NotFound, PermissionDenied, ValidationError
from console.models import (
    DEFAULT_ENVIRONMENTS,
    PRODUCTION,
    ApiKey,
    ApiKeyKind,
    Environment,
    Membership,
    Project,
    Role,
)
from console.services.api_keys import api_key_create
from console.services.audit import audit_record, field_changes


def _unique_slug(name: str) -> str:
    base = slugify(name)[:90] or "project"
    slug, n = base, 2
    while Project.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def project_create(*, name: str, owner=None) -> tuple[Project, dict[str, tuple[ApiKey, str]]]:
    """A project with the default environments, the owner as admin, and one key of each kind.
    Returns the project and ``{kind: (key, secret)}``."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError.for_field("name", "A project name has 1 to 100 characters.")
    with transaction.atomic():
        project = Project.objects.create(name=name, slug=_unique_slug(name))
        for position, env_name in enumerate(DEFAULT_ENVIRONMENTS):
            Environment.objects.create(
                project=project,
                name=env_name,
                position=position,
                requires_review=env_name == PRODUCTION,
                is_production=env_name == PRODUCTION,
            )
        if owner is not None:
            Membership.objects.create(user=owner, project=project, role=Role.ADMIN)
        actor = Actor.for_user(owner, Role.ADMIN) if owner is not None else Actor.system()
        audit_record(
            project=project,
            actor=actor,
            action_type="project_create",
            entity_type="project",
            entity_id=project.slug,
            entity_name=project.name,
            changes={"name": {"old": None, "new": project.name}},
        )
        keys = {
            kind: api_key_create(
                project=project,
                actor=actor,
                kind=kind,
                description=f"Default {ApiKeyKind(kind).label.lower()} key",
            )
            for kind in ApiKeyKind.values
        }
    return project, keys


def environment_create(
    *, project: Project, actor: Actor, name: str, requires_review: bool = False
) -> Environment:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins manage environments.")
    name = _environment_name(name, "name")
    with transaction.atomic():
        if Environment.objects.filter(project=project, name=name).exists():
            raise ValidationError.for_field("name", "Name is already in use")
        position = Environment.objects.filter(project=project).count()
        environment = Environment.objects.create(
            project=project,
            name=name,
            position=position,
            requires_review=requires_review or name == PRODUCTION,
            is_production=name == PRODUCTION,
        )
        audit_record(
            project=project,
            actor=actor,
            action_type="environment_create",
            entity_type="environment",
            entity_id=name,
            changes={"name": {"old": None, "new": name}},
        )
    return environment


def _environment_name(value: str, field: str) -> str:
    name = value.strip().lower()
    if not name or len(name) > 64 or not slugify(name) == name.replace("_", "-"):
        raise ValidationError.for_field(
            field, "Environment names are 1–64 lowercase letters, digits, - or _."
        )
    return name


ENVIRONMENT_FLAGS = ("is_production", "requires_review", "requires_release_pipeline")


def environment_id(env: Environment) -> str:
    return env.public_id or env.name


def environments_replace(
    *, project: Project, actor: Actor, environments: list[dict[str, Any]]
) -> list[Environment]:
    """Statsig's ``POST /environments``: the list sent becomes the project's environments, in
    its order; an environment left out is deleted. Each entry carries ``name``, the
    ``ENVIRONMENT_FLAGS`` and maybe an ``id``: an entry is the environment with that id, else the
    one with that name (which then keeps the id sent), else a new one. Renaming is refused (rules
    and keys name environments), and so is deleting one that an API key is limited to."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins manage environments.")
    if not environments:
        raise ValidationError.for_field("environments", "A project keeps at least one environment.")
    with transaction.atomic():
        current = list(Environment.objects.select_for_update().filter(project=project))
        by_id = {environment_id(env): env for env in current}
        by_name = {env.name: env for env in current}
        wanted: dict[str, dict[str, Any]] = {}
        for index, entry in enumerate(environments):
            field = f"environments[{index}]"
            name = _environment_name(entry["name"], f"{field}.name")
            sent_id = (entry.get("id") or "").strip()
            known = by_id.get(sent_id) if sent_id else None
            if known is not None and known.name != name:
                raise ValidationError.for_field(
                    f"{field}.name", f"Environment '{known.name}' cannot be renamed to '{name}'."
                )
            if name in wanted:
                raise ValidationError.for_field(
                    f"{field}.name", f"Environment '{name}' is listed twice."
                )
            flags = {flag: bool(entry[flag]) for flag in ENVIRONMENT_FLAGS}
            public_id = "" if sent_id in ("", name) else sent_id
            wanted[name] = {**flags, "position": index} | (
                {"public_id": public_id} if sent_id else {}
            )
        removed = sorted(set(by_name) - set(wanted))
        for key in ApiKey.objects.filter(project=project).only("environments"):
            still_used = sorted(set(key.environments or []) & set(removed))
            if still_used:
                raise ValidationError.for_field(
                    "environments",
                    f"Environment '{still_used[0]}' cannot be removed: an API key is limited to it.",
                )
        Environment.objects.filter(project=project, name__in=removed).delete()
        changes: dict[str, Any] = {
            name: {"old": {f: getattr(by_name[name], f) for f in ENVIRONMENT_FLAGS}, "new": None}
            for name in removed
        }
        for name, values in wanted.items():
            env = by_name.get(name)
            before = {} if env is None else {f: getattr(env, f) for f in ENVIRONMENT_FLAGS}
            if env is None:
                Environment.objects.create(project=project, name=name, **values)
            else:
                Environment.objects.filter(pk=env.pk).update(**values)
            flags = {f: values[f] for f in ENVIRONMENT_FLAGS}
            if before != flags:
                changes[name] = {"old": before or None, "new": flags}
        if changes:
            audit_record(
                project=project,
                actor=actor,
                action_type="company_environments_edit",
                entity_type="project",
                entity_id=project.slug,
                entity_name=project.name,
                changes=changes,
            )
    return list(Environment.objects.filter(project=project).order_by("position", "name"))


def project_review_settings_update(
    *,
    project: Project,
    actor: Actor,
    is_config_review_required: bool,
    other_flags: dict[str, bool] | None = None,
) -> Project:
    """``is_config_review_required`` is the one that acts; ``other_flags`` (Statsig's metric and
    warehouse-native review flags) are kept as sent, merged over the ones kept before."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins change project settings.")
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        flags = {**locked.review_flags, **(other_flags or {})}
        changes = field_changes(
            {"is_config_review_required": locked.requires_review, **locked.review_flags},
            {"is_config_review_required": is_config_review_required, **flags},
        )
        if changes:
            locked.requires_review = is_config_review_required
            locked.review_flags = flags
            locked.save(update_fields=["requires_review", "review_flags"])
            audit_record(
                project=locked,
                actor=actor,
                action_type="project_review_settings_update",
                entity_type="project",
                entity_id=locked.slug,
                entity_name=locked.name,
                changes=changes,
            )
    project.requires_review = locked.requires_review
    project.review_flags = locked.review_flags
    return locked


def membership_set(*, project: Project, actor: Actor, email: str, role: str) -> Membership:
    """Adds the user with that email to the project, or changes their role."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins manage members.")
    if role not in Role.values:
        raise ValidationError.for_field("role", f"Unknown role '{role}'.")
    user = get_user_model().objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ValidationError.for_field("email", f"No user with the email '{email}'.")
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            user=user, project=project, defaults={"role": role}
        )
        old_role = None if created else membership.role
        if not created and membership.role != role:
            _refuse_removing_last_admin(project, membership, new_role=role)
            membership.role = role
            membership.save(update_fields=["role"])
        if created or old_role != role:
            audit_record(
                project=project,
                actor=actor,
                action_type="member_role_update" if not created else "member_add",
                entity_type="member",
                entity_id=str(user.pk),
                entity_name=user.email,
                changes={"role": {"old": old_role, "new": role}},
            )
    return membership


def _refuse_removing_last_admin(project: Project, membership: Membership, *, new_role) -> None:
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    admins = Membership.objects.filter(project=project, role=Role.ADMIN).count()
    if admins <= 1:
        raise ValidationError.for_field("role", "A project needs at least one admin.")


def membership_remove(*, project: Project, actor: Actor, user_id: int) -> None:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins manage members.")
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("user")
            .filter(project=project, user_id=user_id)
            .first()
        )
        if membership is None:
            raise NotFound("Member not found.")
        _refuse_removing_last_admin(project, membership, new_role=None)
        membership.delete()
        audit_record(
            project=project,
            actor=actor,
            action_type="member_remove",
            entity_type="member",
            entity_id=str(user_id),
            entity_name=membership.user.email,
            changes={"role": {"old": membership.role, "new": None}},
        )
