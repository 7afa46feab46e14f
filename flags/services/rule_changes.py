"""Changes of a kind's rule list (gates and dynamic configs: ``EntityKind.rule_list``) one edit at a
time, as the console API's rule endpoints make them: replace the list, append rules, change or
delete one rule. Each edit builds the new list (``flags.services.rules``) and submits it through
the kernel as the kind's rules change, so validation (the kind's ``rules`` validator and its
cross-field rules), review handling, the version and the audit entry are the kernel's. A
validation error is named after the request's own fields (``rule.<field>``, not
``rules[3].<field>``).

For a partial update of such a kind, the same descriptor says which fields the entity's state
freezes (``refuse_while_frozen``) and which change type the update is stored as
(``update_action``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project
from console.services.reviews import ChangeOutcome
from flags.services import kernel
from flags.services import rules as rule_lists
from flags.services.descriptor import EntityKind, RuleList

Rules = list[dict[str, Any]]


def _rule_list(kind: EntityKind) -> RuleList:
    if kind.rule_list is None:
        raise ValidationError.for_field("rules", f"{kind.label} has no rules.")
    return kind.rule_list


def refuse_while_frozen(kind: EntityKind, entity: Any, fields: Collection[str]) -> None:
    """Refuses a change of the fields the entity's state freezes (an archived gate's rules),
    naming the state field."""
    rule_list, lifecycle = _rule_list(kind), kind.lifecycle
    if lifecycle is None or not rule_list.frozen_fields & set(fields):
        return
    if lifecycle.state(entity) in rule_list.frozen_states:
        raise ValidationError.for_field(lifecycle.state_field, rule_list.frozen_refusal)


def update_action(kind: EntityKind, fields: Collection[str]) -> str:
    """The change type of an update: the kind's rules change when it sends only rules, its
    overrides change when it sends only overrides (kept as a field), its update otherwise."""
    sent = set(fields)
    if sent == {"rules"} and kind.rule_list is not None:
        return kind.rule_list.action
    if sent == {"overrides"} and kind.overrides is not None and kind.overrides.as_field:
        return kind.overrides.action
    return kind.update_action


@transaction.atomic
def _submit_edit(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    edit: Callable[[Rules], rule_lists.RuleListEdit],
) -> ChangeOutcome:
    """The rule list ``edit`` makes of the entity's current one, submitted as its rules change."""
    rule_list = _rule_list(kind)
    entity = kernel.locked(kind, project=project, actor=actor, entity_id=entity_id)
    edited = edit(entity.rules)
    refuse_while_frozen(kind, entity, ("rules",))
    try:
        return kernel.submit(
            kind,
            project=project,
            actor=actor,
            entity=entity,
            fields={"rules": edited.rules},
            action=rule_list.action,
        )
    except ValidationError as exc:
        if edited.rename is None:
            raise
        raise rule_lists.renamed_rule_errors(exc, edited.rename) from None


def rules_replace(
    kind: EntityKind, *, project: Project, actor: Actor, entity_id: str, rules: Any
) -> ChangeOutcome:
    """Replaces the rule list; rules keep their salts by id."""
    return _submit_edit(
        kind,
        project=project,
        actor=actor,
        entity_id=entity_id,
        edit=lambda current: rule_lists.RuleListEdit(rules),
    )


def rules_add(
    kind: EntityKind, *, project: Project, actor: Actor, entity_id: str, rules: Any
) -> ChangeOutcome:
    """Appends rules; errors are named ``rules[i].<field>`` after the rules sent."""
    edit = partial(rule_lists.rules_appended, added=rules)
    return _submit_edit(kind, project=project, actor=actor, entity_id=entity_id, edit=edit)


def rule_add(
    kind: EntityKind, *, project: Project, actor: Actor, entity_id: str, rule: Any
) -> ChangeOutcome:
    """Appends one rule; errors are named ``rule.<field>``."""
    edit = partial(rule_lists.rule_appended, rule=rule)
    return _submit_edit(kind, project=project, actor=actor, entity_id=entity_id, edit=edit)


def rule_update(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    rule_id: str,
    rule: Mapping[str, Any],
) -> ChangeOutcome:
    """Changes the given fields of one rule; errors are named ``rule.<field>``."""
    edit = partial(rule_lists.rule_updated, rule_id=rule_id, patch=rule)
    return _submit_edit(kind, project=project, actor=actor, entity_id=entity_id, edit=edit)


def rule_delete(
    kind: EntityKind, *, project: Project, actor: Actor, entity_id: str, rule_id: str
) -> ChangeOutcome:
    edit = partial(rule_lists.rule_removed, rule_id=rule_id)
    return _submit_edit(kind, project=project, actor=actor, entity_id=entity_id, edit=edit)
