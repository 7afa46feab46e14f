"""Projects, their environments and members."""

from __future__ import annotations

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
    name = name.strip().lower()
    if not name or len(name) > 64 or not slugify(name) == name.replace("_", "-"):
        raise ValidationError.for_field(
            "name", "Environment names are 1–64 lowercase letters, digits, - or _."
        )
    with transaction.atomic():
        if Environment.objects.filter(project=project, name=name).exists():
            raise ValidationError.for_field("name", "Name is already in use")
        position = Environment.objects.filter(project=project).count()
        environment = Environment.objects.create(
            project=project,
            name=name,
            position=position,
            requires_review=requires_review or name == PRODUCTION,
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


def project_review_settings_update(
    *, project: Project, actor: Actor, is_config_review_required: bool
) -> Project:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins change project settings.")
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        changes = field_changes(
            {"is_config_review_required": locked.requires_review},
            {"is_config_review_required": is_config_review_required},
        )
        if changes:
            locked.requires_review = is_config_review_required
            locked.save(update_fields=["requires_review"])
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
