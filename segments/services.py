"""Segment writes. Every change runs in one transaction with its audit entry, schedules the
ruleset rebuild (``ruleset.changes.schedule_rebuild``) and, for ID lists, tells every process
that the project's lists changed (``segments.idlists.notify_changed`` on commit).

Changes that may need review are registered with ``console.services.reviews.register_change``
and go through ``submit_or_apply``: the registered function is the only code path that applies
them, directly or when an approved review is committed.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from console.actors import Actor
from console.errors import FieldError, PermissionDenied, ValidationError
from console.models import Project, Review, Role
from console.selectors import environment_names
from console.services.audit import audit_record, field_changes
from console.services.reviews import (
    ChangeOutcome,
    change_needs_review,
    register_change,
    submit_or_apply,
)
from segments import listfile, members, selectors
from segments.models import (
    DEFAULT_ID_TYPE,
    DESCRIPTION_MAX_LENGTH,
    ID_MAX_LENGTH,
    ID_MIN_LENGTH,
    NAME_MAX_LENGTH,
    UNIT_ID_MAX_LENGTH,
    Segment,
    SegmentType,
)

logger = logging.getLogger(__name__)

ENTITY_TYPE = "segment"
# ID lists with at most this many ids compile inline into the ruleset; larger ones become
# ``in_segment_list`` conditions served from the id-list files and the in-memory membership.
INLINE_ID_LIMIT = 1000
MAX_IDS_PER_SEGMENT = 10_000_000
MAX_TAGS = 50
TAG_MAX_LENGTH = 100
BAD_IDS_REPORTED = 50

_KEY_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_RULE_ID_ALPHABET = string.ascii_letters + string.digits


class ChangeType:
    UPDATE = "segment_update"
    CONDITIONAL = "segment_conditional_update"
    ARCHIVE = "segment_archive"
    UNARCHIVE = "segment_unarchive"
    DELETE = "segment_delete"
    IDS_ADD = "segment_id_list_add"
    IDS_REMOVE = "segment_id_list_remove"
    IDS_RESET = "segment_id_list_reset"


@dataclass(frozen=True, slots=True)
class IdListChange:
    """What an ID-list change did."""

    segment: Segment
    added: int = 0
    removed: int = 0


# -- validation ----------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, prop: str, message: str) -> None:
        self.items.append(FieldError(prop, message))

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise ValidationError(f"{first.property}: {first.message}", errors=self.items)


def key_from_name(name: str) -> str:
    """Statsig's id for a name: lower case, runs of other characters as ``_``."""
    return re.sub(r"[^a-z0-9_.\-]+", "_", name.strip().lower()).strip("_")


def _text(
    errors: _Errors, prop: str, value: Any, *, max_length: int, min_length: int = 0
) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(prop, f"{prop} must be a string.")
        return None
    value = value.strip()
    if not min_length <= len(value) <= max_length:
        if min_length:
            errors.add(prop, f"{prop} must have {min_length} to {max_length} characters.")
        else:
            errors.add(prop, f"{prop} must have at most {max_length} characters.")
        return None
    return value


def _tags(errors: _Errors, value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        errors.add("tags", "tags must be a list of strings.")
        return None
    tags: list[str] = []
    for index, tag in enumerate(value):
        if not isinstance(tag, str) or not 1 <= len(tag.strip()) <= TAG_MAX_LENGTH:
            errors.add(f"tags[{index}]", f"A tag is a string of 1 to {TAG_MAX_LENGTH} characters.")
            continue
        tags.append(tag.strip())
    tags = list(dict.fromkeys(tags))
    if len(tags) > MAX_TAGS:
        errors.add("tags", f"At most {MAX_TAGS} tags.")
    return tags


def _key(errors: _Errors, value: Any, name: str | None) -> str | None:
    if value in (None, ""):
        if name is None:
            return None
        key = key_from_name(name)[:ID_MAX_LENGTH]
        if len(key) < ID_MIN_LENGTH:
            errors.add(
                "id",
                "The name does not make an id of at least 3 letters, digits, _, - or .: give an id.",
            )
            return None
        return key
    if not isinstance(value, str):
        errors.add("id", "id must be a string.")
        return None
    key = value.strip()
    if not ID_MIN_LENGTH <= len(key) <= ID_MAX_LENGTH:
        errors.add("id", f"id must have {ID_MIN_LENGTH} to {ID_MAX_LENGTH} characters.")
        return None
    if not _KEY_RE.match(key):
        errors.add("id", "id may contain only letters, digits, _, - and .")
        return None
    return key


def normalise_ids(raw: Any, *, field: str = "ids", allow_empty: bool = False) -> list[str]:
    """Unit ids as given: trimmed strings of 1–256 characters, duplicates dropped, order kept.
    One bad entry refuses the whole batch, naming (up to 50 of) the bad entries."""
    if not isinstance(raw, list):
        raise ValidationError.for_field(field, f"{field} must be a list of strings.")
    if not raw and not allow_empty:
        raise ValidationError.for_field(field, f"{field} must contain at least one id.")
    ids: list[str] = []
    bad: list[FieldError] = []
    bad_count = 0
    for index, value in enumerate(raw):
        if isinstance(value, str):
            trimmed = value.strip()
            if 1 <= len(trimmed) <= UNIT_ID_MAX_LENGTH and "\x00" not in trimmed:
                ids.append(trimmed)
                continue
            if not trimmed:
                reason = "is empty"
            elif len(trimmed) > UNIT_ID_MAX_LENGTH:
                reason = f"is longer than {UNIT_ID_MAX_LENGTH} characters"
            else:
                # PostgreSQL text cannot hold NUL; no SDK sends one in an id.
                reason = "contains a NUL character"
            shown = f"'{trimmed[:40]}…'" if trimmed else repr(value)
        else:
            reason = "is not a string"
            shown = repr(value)[:40]
        bad_count += 1
        if len(bad) < BAD_IDS_REPORTED:
            bad.append(FieldError(f"{field}[{index}]", f"{shown} {reason}."))
    if bad:
        raise ValidationError(
            f"{bad_count} of {len(raw)} ids are invalid (ids are strings of 1 to "
            f"{UNIT_ID_MAX_LENGTH} characters after trimming); none of the request was applied. "
            f"First: {bad[0].property} {bad[0].message}",
            errors=bad,
        )
    return list(dict.fromkeys(ids))


def _new_rule_id() -> str:
    return "".join(secrets.choice(_RULE_ID_ALPHABET) for _ in range(22))


def _find_cycle(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path ``start → … → start`` through segment references, if any."""
    stack: list[tuple[str, list[str]]] = [(target, [start, target]) for target in graph[start]]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == start:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((target, [*path, target]) for target in graph.get(node, ()))
    return None


def normalise_rules(
    *,
    project: Project,
    segment_key: str,
    raw_rules: Any,
    existing: Iterable[dict[str, Any]] = (),
    path: str = "rules",
) -> list[dict[str, Any]]:
    """Segment rules validated with the segment vocabulary (reference §1.6), references checked
    (existing, targetable, no cycle), and each rule with a stable ``id`` and ``salt``: a rule
    keeps the id and salt of the existing rule with the same id, else with the same name."""
    from ruleset.conditions import SEGMENT_VOCABULARY, referenced_ids, validate_rules

    def check_reference(kind: str, reference: str) -> str | None:
        if kind != "segment":
            return f"Segments cannot reference a {kind}."
        if reference == segment_key:
            return "A segment cannot target itself."
        return selectors.segment_reference_problem(project=project, segment_id=reference)

    rules = validate_rules(
        raw_rules,
        path=path,
        vocabulary=SEGMENT_VOCABULARY,
        environments=environment_names(project=project),
        check_reference=check_reference,
    )
    errors = _Errors()
    previous = list(existing)
    by_id = {rule.get("id"): rule for rule in previous if rule.get("id")}
    by_name = {rule.get("name"): rule for rule in previous if rule.get("name")}
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        match = by_id.get(rule.get("id")) or (None if rule.get("id") else by_name.get(rule["name"]))
        rule_id = rule.get("id") or (match or {}).get("id") or _new_rule_id()
        if rule_id in seen:
            errors.add(f"{path}[{index}].id", f"Rule id '{rule_id}' appears twice.")
        seen.add(rule_id)
        rule["id"] = rule_id
        rule["baseID"] = rule.get("baseID") or (match or {}).get("baseID") or rule_id
        rule["salt"] = rule.get("salt") or (match or {}).get("salt") or str(uuid.uuid4())
    errors.raise_if_any()
    graph = selectors.segment_graph(project=project)
    graph[segment_key] = referenced_ids(rules, "segment")
    cycle = _find_cycle(graph, segment_key)
    if cycle:
        raise ValidationError.for_field(
            path, "Segment references would form a cycle: " + " → ".join(cycle) + "."
        )
    return rules


# -- helpers -------------------------------------------------------------------------------


def _require_editor(actor: Actor) -> None:
    if not actor.has_role(Role.MEMBER):
        raise PermissionDenied("Viewers cannot change segments.")


def require_type(segment: Segment, kind: str) -> None:
    if segment.type != kind:
        raise ValidationError.for_field(
            "type", f"Segment must be of type '{kind}' to be modified on this endpoint."
        )


def _locked(project: Project, segment_id: str) -> Segment:
    segment = Segment.objects.select_for_update().filter(project=project, key=segment_id).first()
    if segment is None:
        from console.errors import NotFound

        raise NotFound("Segment not found.")
    return segment


def _touch(segment: Segment, actor: Actor) -> None:
    segment.last_modifier_id = actor.id
    segment.last_modifier_name = actor.name
    segment.last_modifier_email = actor.email


def _schedule_ruleset_rebuild(project_id: int) -> None:
    try:
        from ruleset.changes import schedule_rebuild
    except ImportError:  # the flags side is not built yet
        logger.debug("flags.ruleset_store unavailable; ruleset rebuild not scheduled")
        return
    schedule_rebuild(project_id)


def _after_change(project_id: int, *, ruleset: bool = True, id_lists: bool = False) -> None:
    """Inside the change's transaction: rebuild the ruleset and refresh id lists on commit."""
    if ruleset:
        _schedule_ruleset_rebuild(project_id)
    if id_lists:
        from segments.idlists import notify_changed

        transaction.on_commit(lambda: notify_changed(project_id))


def _changes_inline_spec(old_count: int, new_count: int) -> bool:
    """Whether an ID-list change alters the compiled spec (inline ids, or the switch between
    inline and ``in_segment_list``)."""
    return old_count <= INLINE_ID_LIMIT or new_count <= INLINE_ID_LIMIT


def _needs_review(project: Project, actor: Actor, segment: Segment) -> bool:
    # Segments apply in every environment at once: the change touches the whole entity.
    return change_needs_review(
        project=project,
        actor=actor,
        entity_requires_review=segment.review_required,
        environments=None,
    )


def _submit(
    *, project: Project, actor: Actor, segment: Segment, change_type: str, change: dict
) -> ChangeOutcome:
    return submit_or_apply(
        project=project,
        actor=actor,
        change_type=change_type,
        entity_id=segment.key,
        change=change,
        needs_review=_needs_review(project, actor, segment),
        entity_name=segment.name,
    )


def _definition_version(project: Project, entity_id: str) -> int | None:
    return (
        Segment.objects.filter(project=project, key=entity_id)
        .values_list("version", flat=True)
        .first()
    )


def _exists_version(project: Project, entity_id: str) -> int | None:
    """ID-list additions and removals commute: a review of them never goes stale."""
    return 0 if Segment.objects.filter(project=project, key=entity_id).exists() else None


def _snapshot(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "description": segment.description,
        "type": segment.type,
        "idType": segment.id_type,
        "tags": list(segment.tags),
        "isEnabled": segment.is_enabled,
        "team": segment.team,
        "teamID": segment.team_id,
        "archived": segment.archived,
        "rules": segment.rules,
    }


def _audit(
    segment: Segment,
    actor: Actor,
    action_type: str,
    changes: dict[str, Any],
    review: Review | None = None,
) -> None:
    audit_record(
        project=segment.project,
        actor=actor,
        action_type=action_type,
        entity_type=ENTITY_TYPE,
        entity_id=segment.key,
        entity_name=segment.name,
        changes=changes,
        review=review,
    )


# -- create --------------------------------------------------------------------------------


def segment_create(
    *,
    project: Project,
    actor: Actor,
    name: Any,
    type: Any,
    id: Any = None,
    description: Any = "",
    id_type: Any = DEFAULT_ID_TYPE,
    tags: Any = None,
    rules: Any = None,
    creator_id: Any = None,
    creator_email: Any = None,
    team: Any = None,
    team_id: Any = None,
    is_enabled: bool = True,
    review_required: bool = False,
) -> Segment:
    """Creates a segment (the body of ``POST /console/v1/segments``); every field is validated
    and every problem reported at once. Creation never needs review."""
    _require_editor(actor)
    errors = _Errors()
    if name is None:
        errors.add("name", "name is required.")
    clean_name = _text(errors, "name", name, min_length=ID_MIN_LENGTH, max_length=NAME_MAX_LENGTH)
    if type not in SegmentType.values:
        errors.add("type", f"type must be one of: {', '.join(SegmentType.values)}.")
    key = _key(errors, id, clean_name)
    clean_description = _text(errors, "description", description, max_length=DESCRIPTION_MAX_LENGTH)
    clean_id_type = _text(
        errors,
        "idType",
        DEFAULT_ID_TYPE if id_type is None else id_type,
        min_length=1,
        max_length=100,
    )
    clean_tags = _tags(errors, tags)
    clean_creator_id = _text(errors, "creatorID", creator_id, max_length=100)
    clean_creator_email = _text(errors, "creatorEmail", creator_email, max_length=254)
    clean_team = _text(errors, "team", team, max_length=200)
    clean_team_id = _text(errors, "teamID", team_id, max_length=100)
    if rules not in (None, []) and type in SegmentType.values and type != SegmentType.RULE_BASED:
        errors.add("rules", "rules can only be given for segments of type 'rule_based'.")
    errors.raise_if_any()
    assert key is not None
    assert clean_name is not None

    clean_rules: list[dict[str, Any]] = []
    if type == SegmentType.RULE_BASED and rules not in (None, []):
        clean_rules = normalise_rules(project=project, segment_key=key, raw_rules=rules)

    with transaction.atomic():
        if Segment.objects.filter(project=project, key=key).exists():
            raise ValidationError.for_field("id" if id else "name", "Name is already in use")
        segment = Segment(
            project=project,
            key=key,
            name=clean_name,
            description=clean_description or "",
            type=type,
            id_type=clean_id_type or DEFAULT_ID_TYPE,
            tags=clean_tags or [],
            is_enabled=bool(is_enabled),
            rules=clean_rules,
            salt=str(uuid.uuid4()),
            review_required=bool(review_required),
            creator_id=clean_creator_id or actor.id,
            creator_name=actor.name,
            creator_email=clean_creator_email or actor.email,
            team=clean_team or "",
            team_id=clean_team_id or "",
        )
        _touch(segment, actor)
        if segment.is_id_list:
            listfile.start_new_file(segment)
        try:
            with transaction.atomic():
                segment.save()
        except IntegrityError:  # created concurrently under the same id
            raise ValidationError.for_field(
                "id" if id else "name", "Name is already in use"
            ) from None
        _audit(segment, actor, "segment_create", field_changes({}, _snapshot(segment)))
        _after_change(project.pk, ruleset=True, id_lists=segment.is_id_list)
    return segment


# -- definition changes --------------------------------------------------------------------

_UPDATABLE = {
    "name": "name",
    "description": "description",
    "tags": "tags",
    "isEnabled": "is_enabled",
    "team": "team",
    "teamID": "team_id",
    "idType": "id_type",
}


def _clean_update(change: dict[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    clean: dict[str, Any] = {}
    for field, value in change.items():
        if field not in _UPDATABLE:
            errors.add(field, f"'{field}' cannot be changed here.")
        elif field == "name":
            clean[field] = _text(
                errors, "name", value, min_length=ID_MIN_LENGTH, max_length=NAME_MAX_LENGTH
            )
        elif field == "description":
            clean[field] = _text(
                errors, "description", value or "", max_length=DESCRIPTION_MAX_LENGTH
            )
        elif field == "tags":
            clean[field] = _tags(errors, value) or []
        elif field == "isEnabled":
            if not isinstance(value, bool):
                errors.add("isEnabled", "isEnabled must be true or false.")
            clean[field] = value
        elif field == "idType":
            clean[field] = _text(errors, "idType", value, min_length=1, max_length=100)
        else:
            clean[field] = _text(errors, field, value or "", max_length=200) or ""
    errors.raise_if_any()
    return clean


def segment_update(
    *, project: Project, actor: Actor, segment_id: str, **change: Any
) -> ChangeOutcome:
    """Changes metadata: ``name, description, tags, isEnabled, team, teamID, idType``."""
    _require_editor(actor)
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    clean = _clean_update(change)
    return _submit(
        project=project, actor=actor, segment=segment, change_type=ChangeType.UPDATE, change=clean
    )


@register_change(ChangeType.UPDATE, entity_type=ENTITY_TYPE, current_version=_definition_version)
def _apply_update(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Segment:
    clean = _clean_update(change)
    with transaction.atomic():
        segment = _locked(project, entity_id)
        before = _snapshot(segment)
        for field, value in clean.items():
            setattr(segment, _UPDATABLE[field], value)
        changes = field_changes(before, _snapshot(segment))
        if changes:
            segment.version += 1
            _touch(segment, actor)
            segment.save()
            _audit(segment, actor, "segment_update", changes, review)
            _after_change(project.pk, ruleset=True)
    return segment


def segment_update_rules(
    *, project: Project, actor: Actor, segment_id: str, rules: Any
) -> ChangeOutcome:
    """Replaces the rules of a rule-based segment (``POST /segments/{id}/conditional``)."""
    _require_editor(actor)
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    require_type(segment, SegmentType.RULE_BASED)
    clean = normalise_rules(
        project=project, segment_key=segment.key, raw_rules=rules, existing=segment.rules
    )
    return _submit(
        project=project,
        actor=actor,
        segment=segment,
        change_type=ChangeType.CONDITIONAL,
        change={"rules": clean},
    )


@register_change(
    ChangeType.CONDITIONAL, entity_type=ENTITY_TYPE, current_version=_definition_version
)
def _apply_conditional(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Segment:
    with transaction.atomic():
        segment = _locked(project, entity_id)
        require_type(segment, SegmentType.RULE_BASED)
        rules = normalise_rules(
            project=project,
            segment_key=segment.key,
            raw_rules=change.get("rules"),
            existing=segment.rules,
        )
        changes = field_changes({"rules": segment.rules}, {"rules": rules})
        segment.rules = rules
        segment.version += 1
        _touch(segment, actor)
        segment.save()
        _audit(segment, actor, "segment_conditional_update", changes, review)
        _after_change(project.pk, ruleset=True)
    return segment


def segment_archive(
    *, project: Project, actor: Actor, segment_id: str, archived: bool = True
) -> ChangeOutcome:
    """Archives (or unarchives) a segment: hidden from pickers, still evaluated where used."""
    _require_editor(actor)
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    return _submit(
        project=project,
        actor=actor,
        segment=segment,
        change_type=ChangeType.ARCHIVE if archived else ChangeType.UNARCHIVE,
        change={},
    )


def _set_archived(
    archived: bool,
) -> Callable[..., Segment]:
    def apply(
        *,
        project: Project,
        actor: Actor,
        entity_id: str,
        change: dict,
        review: Review | None = None,
    ) -> Segment:
        with transaction.atomic():
            segment = _locked(project, entity_id)
            if segment.archived != archived:
                segment.archived = archived
                segment.archived_at = timezone.now() if archived else None
                segment.version += 1
                _touch(segment, actor)
                segment.save()
                _audit(
                    segment,
                    actor,
                    "segment_archive" if archived else "segment_unarchive",
                    {"archived": {"old": not archived, "new": archived}},
                    review,
                )
                _after_change(project.pk, ruleset=True)
        return segment

    return apply


register_change(ChangeType.ARCHIVE, entity_type=ENTITY_TYPE, current_version=_definition_version)(
    _set_archived(True)
)
register_change(ChangeType.UNARCHIVE, entity_type=ENTITY_TYPE, current_version=_definition_version)(
    _set_archived(False)
)


def _refuse_if_referenced(project: Project, segment: Segment) -> None:
    referrers = selectors.segment_referrers(project=project, segment_id=segment.key)
    if referrers:
        names = ", ".join(str(referrer) for referrer in referrers)
        raise ValidationError(
            f"Segment '{segment.key}' is used by {names}. Remove it from them before deleting it.",
            errors=[
                FieldError("id", f"Used by {referrer.entity_type} '{referrer.entity_id}'.")
                for referrer in referrers
            ],
        )


def segment_delete(*, project: Project, actor: Actor, segment_id: str) -> ChangeOutcome:
    """Deletes a segment with its members and id-list file; refused while anything targets it."""
    _require_editor(actor)
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    _refuse_if_referenced(project, segment)
    return _submit(
        project=project, actor=actor, segment=segment, change_type=ChangeType.DELETE, change={}
    )


@register_change(ChangeType.DELETE, entity_type=ENTITY_TYPE, current_version=_definition_version)
def _apply_delete(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> None:
    with transaction.atomic():
        segment = _locked(project, entity_id)
        _refuse_if_referenced(project, segment)
        was_list = segment.is_id_list
        _audit(
            segment,
            actor,
            "segment_delete",
            {"deleted": {"old": False, "new": True}, "count": {"old": segment.id_count, "new": 0}},
            review,
        )
        # One set-based DELETE per table (no per-row collection of members).
        members.delete_all_members(segment.pk)
        segment.delete()
        _after_change(project.pk, ruleset=True, id_lists=was_list)


# -- ID lists ------------------------------------------------------------------------------


def _id_list_segment(project: Project, segment_id: str) -> Segment:
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    require_type(segment, SegmentType.ID_LIST)
    return segment


def segment_ids_add(*, project: Project, actor: Actor, segment_id: str, ids: Any) -> ChangeOutcome:
    """Adds ids to an ID list (adding a member again is harmless)."""
    _require_editor(actor)
    clean = normalise_ids(ids)
    segment = _id_list_segment(project, segment_id)
    return _submit(
        project=project,
        actor=actor,
        segment=segment,
        change_type=ChangeType.IDS_ADD,
        change={"ids": clean},
    )


def segment_ids_remove(
    *, project: Project, actor: Actor, segment_id: str, ids: Any
) -> ChangeOutcome:
    _require_editor(actor)
    clean = normalise_ids(ids)
    segment = _id_list_segment(project, segment_id)
    return _submit(
        project=project,
        actor=actor,
        segment=segment,
        change_type=ChangeType.IDS_REMOVE,
        change={"ids": clean},
    )


def segment_ids_reset(
    *, project: Project, actor: Actor, segment_id: str, ids: Any
) -> ChangeOutcome:
    """Replaces the members with ``ids`` and starts a new id-list file."""
    _require_editor(actor)
    clean = normalise_ids(ids, allow_empty=True)
    segment = _id_list_segment(project, segment_id)
    return _submit(
        project=project,
        actor=actor,
        segment=segment,
        change_type=ChangeType.IDS_RESET,
        change={"ids": clean},
    )


def _finish_id_list_change(
    segment: Segment,
    actor: Actor,
    *,
    action_type: str,
    old_count: int,
    added: int,
    removed: int,
    review: Review | None,
    force_list_refresh: bool = False,
) -> IdListChange:
    new_count = old_count + added - removed
    if new_count > MAX_IDS_PER_SEGMENT:
        raise ValidationError.for_field(
            "ids",
            f"An ID list holds at most {MAX_IDS_PER_SEGMENT:,} ids; this change makes {new_count:,}.",
        )
    changed = bool(added or removed) or force_list_refresh
    segment.id_count = new_count
    if changed:
        segment.list_version += 1
    _touch(segment, actor)
    segment.save()
    # Counts only: audit entries never carry the ids themselves.
    _audit(
        segment,
        actor,
        action_type,
        {"count": {"old": old_count, "new": new_count}, "added": added, "removed": removed},
        review,
    )
    if changed:
        _after_change(
            segment.project_id,
            ruleset=_changes_inline_spec(old_count, new_count),
            id_lists=True,
        )
    return IdListChange(segment=segment, added=added, removed=removed)


@register_change(ChangeType.IDS_ADD, entity_type=ENTITY_TYPE, current_version=_exists_version)
def _apply_ids_add(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> IdListChange:
    ids = normalise_ids(change.get("ids"))
    with transaction.atomic():
        segment = _locked(project, entity_id)
        require_type(segment, SegmentType.ID_LIST)
        old_count = segment.id_count
        inserted = members.insert_members(segment.pk, ids)
        listfile.append_lines(segment, op="+", unit_ids=inserted)
        return _finish_id_list_change(
            segment,
            actor,
            action_type="segment_id_list_add",
            old_count=old_count,
            added=len(inserted),
            removed=0,
            review=review,
        )


@register_change(ChangeType.IDS_REMOVE, entity_type=ENTITY_TYPE, current_version=_exists_version)
def _apply_ids_remove(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> IdListChange:
    ids = normalise_ids(change.get("ids"))
    with transaction.atomic():
        segment = _locked(project, entity_id)
        require_type(segment, SegmentType.ID_LIST)
        old_count = segment.id_count
        removed = members.delete_members(segment.pk, ids)
        listfile.append_lines(segment, op="-", unit_ids=removed)
        return _finish_id_list_change(
            segment,
            actor,
            action_type="segment_id_list_remove",
            old_count=old_count,
            added=0,
            removed=len(removed),
            review=review,
        )


@register_change(ChangeType.IDS_RESET, entity_type=ENTITY_TYPE, current_version=_exists_version)
def _apply_ids_reset(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> IdListChange:
    ids = normalise_ids(change.get("ids"), allow_empty=True)
    with transaction.atomic():
        segment = _locked(project, entity_id)
        require_type(segment, SegmentType.ID_LIST)
        old_count = segment.id_count
        members.delete_all_members(segment.pk)
        listfile.start_new_file(segment)
        inserted = members.insert_members(segment.pk, ids)
        listfile.append_lines(segment, op="+", unit_ids=inserted)
        return _finish_id_list_change(
            segment,
            actor,
            action_type="segment_id_list_reset",
            old_count=old_count,
            added=len(inserted),
            removed=old_count,
            review=review,
            force_list_refresh=True,
        )


def segment_list_file_rewrite(*, segment: Segment) -> None:
    """Starts a new id-list file holding exactly the current members (after an erasure, so no
    earlier line of an erased id survives). The caller holds the segment's row lock."""
    listfile.start_new_file(segment)
    for batch in members.iter_member_ids(segment.pk):
        listfile.append_lines(segment, op="+", unit_ids=batch)
    segment.id_count = members.member_count(segment.pk)
    segment.list_version += 1
    segment.save()
    _after_change(segment.project_id, ruleset=True, id_lists=True)
