"""Reads shared by the console API and the browser screens."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from console.errors import NotFound, ValidationError
from console.keycache import USAGE_CACHE_PREFIX, hash_secret
from console.models import (
    API_KEY_PREFIXES,
    ApiKey,
    AuditLog,
    Environment,
    Invitation,
    Membership,
    Project,
    Review,
)


def projects_for_user(*, user) -> QuerySet[Project]:
    return Project.objects.filter(memberships__user=user).order_by("name")


def membership_for(*, user, project_slug: str) -> Membership | None:
    return (
        Membership.objects.select_related("project")
        .filter(user=user, project__slug=project_slug)
        .first()
    )


def member_role(*, user, project: Project) -> str | None:
    return (
        Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()
    )


def member_list(*, project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("user__email")


def members_by_id(*, project: Project, user_ids: Iterable[str]) -> dict[str, Any]:
    """The users among ``user_ids`` who are members of the project, by id. A person's id is
    ``str(user.pk)``, as the console API names people everywhere (``creatorID``, review authors,
    ``reviewer_ids``); an id that is no member's (or no number) is left out."""
    numeric = {int(user_id) for user_id in user_ids if user_id.isdigit()}
    if not numeric:
        return {}
    memberships = Membership.objects.filter(project=project, user_id__in=numeric)
    return {
        str(membership.user_id): membership.user
        for membership in memberships.select_related("user")
    }


def person_name(user: Any) -> str:
    """How screens and the console API name a person: their full name, else their username."""
    return user.get_full_name() or user.get_username()


def environment_list(*, project: Project) -> QuerySet[Environment]:
    return Environment.objects.filter(project=project).order_by("position", "name")


def environment_names(*, project: Project) -> list[str]:
    return list(environment_list(project=project).values_list("name", flat=True))


def api_key_list(*, project: Project, kind: str | None = None) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.filter(project=project).order_by("-created_at", "-id")
    return keys.filter(kind=kind) if kind else keys


def api_key_lookup(queryset: QuerySet[ApiKey], *, key_ref: str) -> ApiKey | None:
    """The key of ``queryset`` addressed by its public id or by the key itself (Statsig's API
    addresses keys by the key)."""
    if key_ref.startswith(tuple(API_KEY_PREFIXES.values())):
        return queryset.filter(secret_hash=hash_secret(key_ref)).first()
    return queryset.filter(public_id=key_ref).first()


def api_key_get(*, project: Project, key_ref: str) -> ApiKey:
    key = api_key_lookup(ApiKey.objects.filter(project=project), key_ref=key_ref)
    if key is None:
        raise NotFound("Key not found.")
    return key


def api_key_last_used(*, keys: Iterable[ApiKey]) -> dict[int, datetime | None]:
    """When each key was last used, as fresh as the shared cache knows (requests note a key's
    use there at once; the beat job copies it to ``last_used_at`` only every minute)."""
    keys = list(keys)
    last_used = {key.pk: key.last_used_at for key in keys}
    stamps: dict[str, int] = {}
    # An unreachable cache leaves the stored times, a minute old at most.
    with contextlib.suppress(Exception):
        stamps = cache.get_many([f"{USAGE_CACHE_PREFIX}{key.pk}" for key in keys])
    for cache_key, stamp in stamps.items():
        pk = int(cache_key.removeprefix(USAGE_CACHE_PREFIX))
        noted = datetime.fromtimestamp(int(stamp), tz=UTC)
        if last_used[pk] is None or noted > last_used[pk]:
            last_used[pk] = noted
    return last_used


def _parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError.for_field(field, f"'{field}' must be a date as YYYY-MM-DD.") from None


AUDIT_SORT_KEYS = {
    # Statsig's ``sortKey`` values and the column each sorts by.
    "id": "id",
    "name": "entity_name",
    "changeLog": "action_type",
    "actionType": "action_type",
    "date": "created_at",
    "time": "created_at",
    "updatedBy": "actor_name",
    "updatedByUserID": "actor_user_id",
}


def audit_log_list(
    *,
    project: Project,
    entity_id: str | None = None,
    entity_type: str | None = None,
    action_types: list[str] | None = None,
    action_condition: Q | None = None,
    entities: Iterable[tuple[str, str]] | None = None,
    after_id: int | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    sort_key: str | None = None,
    descending: bool = True,
) -> QuerySet[AuditLog]:
    """Newest first unless ``sort_key`` (one of ``AUDIT_SORT_KEYS``) says otherwise. Dates are
    inclusive calendar days in UTC; ``action_condition`` selects by action (Statsig's names,
    ``console.services.audit.statsig_action_filter``); ``entities`` keeps the entries of those
    ``(entity_type, entity_id)``; ``after_id`` the entries written after that one."""
    logs = AuditLog.objects.filter(project=project).select_related("actor_user")
    if entity_id:
        logs = logs.filter(entity_id=entity_id)
    if entity_type:
        logs = logs.filter(entity_type=entity_type)
    if action_types:
        logs = logs.filter(action_type__in=action_types)
    if action_condition is not None:
        logs = logs.filter(action_condition)
    if entities is not None:
        refs = Q(pk__in=[])
        for kind, identifier in entities:
            refs |= Q(entity_type=kind, entity_id=identifier)
        logs = logs.filter(refs)
    if after_id is not None:
        logs = logs.filter(pk__gt=after_id)
    if start_date:
        start = datetime.combine(_parse_day(start_date, "startDate"), time.min, tzinfo=UTC)
        logs = logs.filter(created_at__gte=start)
    if end_date:
        end = datetime.combine(_parse_day(end_date, "endDate"), time.max, tzinfo=UTC)
        logs = logs.filter(created_at__lte=end)
    column = AUDIT_SORT_KEYS.get(sort_key or "date", "created_at")
    sign = "-" if descending else ""
    return logs.order_by(f"{sign}{column}", f"{sign}id")


def audit_log_get(*, project: Project, entry_id: int) -> AuditLog:
    entry = AuditLog.objects.filter(project=project, pk=entry_id).select_related("review").first()
    if entry is None:
        raise NotFound("Audit entry not found.")
    return entry


def review_list(
    *,
    project: Project,
    entity_type: str | None = None,
    entity_id: str | None = None,
    statuses: list[str] | None = None,
) -> QuerySet[Review]:
    reviews = Review.objects.filter(project=project).prefetch_related("decisions")
    if entity_type:
        reviews = reviews.filter(entity_type=entity_type)
    if entity_id:
        reviews = reviews.filter(entity_id=entity_id)
    if statuses:
        reviews = reviews.filter(status__in=statuses)
    return reviews.order_by("-created_at", "-id")


def review_get(*, project: Project, review_id: str, entity_type: str | None = None) -> Review:
    reviews = Review.objects.filter(project=project, public_id=review_id)
    if entity_type:
        reviews = reviews.filter(entity_type=entity_type)
    review = reviews.prefetch_related("decisions").first()
    if review is None:
        raise NotFound("Review not found.")
    return review


def open_invitation_list(*, project: Project) -> QuerySet[Invitation]:
    """Invitations not yet accepted, withdrawn or expired, newest first."""
    return (
        Invitation.objects.filter(
            project=project,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def with_any_tag(queryset: QuerySet, tags: Iterable[str]) -> QuerySet:
    """The entities of ``queryset`` (a model with a JSON ``tags`` list) carrying any of ``tags``,
    filtered in the database: JSON containment on PostgreSQL; SQLite has none, so there the
    serialised tag is looked for in the list's JSON text."""
    wanted = [tag for tag in dict.fromkeys(tags) if tag]
    if not wanted:
        return queryset
    any_tag = Q()
    if connection.vendor == "postgresql":
        for tag in wanted:
            any_tag |= Q(tags__contains=[tag])
        return queryset.filter(any_tag)
    queryset = queryset.annotate(_tags_text=Cast("tags", TextField()))
    for tag in wanted:
        any_tag |= Q(_tags_text__contains=json.dumps(tag))
    return queryset.filter(any_tag)
