"""Gate services: validation naming the field, roles and project scoping, audit entries in the
change's transaction, versions and conflicts, reviews, references and cycles."""

from __future__ import annotations

from unittest import mock

import pytest

from console.actors import Actor
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.models import ApiKey, AuditLog, Review, ReviewStatus, Role
from console.services.projects import project_review_settings_update
from console.services.reviews import review_approve, review_commit
from flags.models import CompiledRuleset, Gate, GateStatus
from flags.services.experiments import experiment_create
from flags.services.gates import (
    gate_archive,
    gate_create,
    gate_delete,
    gate_disable,
    gate_launch,
    gate_overrides_add,
    gate_overrides_remove,
    gate_resalt,
    gate_rule_add,
    gate_rule_delete,
    gate_rule_update,
    gate_rules_add,
    gate_update,
)
from flags.services.holdouts import holdout_create
from ruleset.compiler import compile_project

EMAIL_RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [{"type": "email", "operator": "str_ends_with_any", "targetValue": ["@a.com"]}],
}


def _errors(excinfo) -> dict[str, str]:
    return {error.property: error.message for error in excinfo.value.errors}


def _console_actor(world, *, respects_reviews: bool) -> Actor:
    key = ApiKey.objects.get(project=world.project, kind="console")
    return Actor.for_console_key(key, respects_reviews=respects_reviews)


def _require_reviews(world) -> None:
    project_review_settings_update(
        project=world.project, actor=world.actor(Role.ADMIN), is_config_review_required=True
    )


def test_gate_create__valid__stored_with_ids_salts_audit_and_rebuild(world, committed):
    # Given a member
    actor = world.actor(Role.MEMBER)

    # When they create a gate
    with committed():
        gate = gate_create(
            project=world.project, actor=actor, name="New Checkout", rules=[EMAIL_RULE]
        )

    # Then it has Statsig's id, version 1, a rule id and salt, an audit entry and a ruleset
    assert gate.slug == "new_checkout"
    assert gate.version == 1
    assert gate.status == GateStatus.IN_PROGRESS
    rule = gate.rules[0]
    assert len(rule["id"]) == 22
    assert rule["salt"]
    assert rule["environments"] is None
    assert gate.creator_name == actor.name == gate.modifier_name
    entry = AuditLog.objects.get(project=world.project, action_type="gate_create")
    assert entry.entity_id == "new_checkout"
    assert entry.actor_user == actor.user
    stored = CompiledRuleset.objects.get(project=world.project)
    assert [spec["name"] for spec in stored.payload["feature_gates"]] == ["new_checkout"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "ab"}, "name"),
        ({"name": "Bad/Name"}, "name"),
        ({"name": "Fine", "id_type": "user id"}, "idType"),
        ({"name": "Fine", "type": "FOREVER"}, "type"),
        ({"name": "Fine", "is_enabled": "yes"}, "isEnabled"),
        ({"name": "Fine", "tags": "core"}, "tags"),
        (
            {"name": "Fine", "rules": [{"name": "r", "passPercentage": 101}]},
            "rules[0].passPercentage",
        ),
        (
            {"name": "Fine", "rules": [{"name": "r", "conditions": [{"type": "nope"}]}]},
            "rules[0].conditions[0].type",
        ),
        (
            {
                "name": "Fine",
                "rules": [
                    {
                        "name": "r",
                        "conditions": [{"type": "country", "operator": "gt", "targetValue": 1}],
                    }
                ],
            },
            "rules[0].conditions[0].operator",
        ),
        (
            {
                "name": "Fine",
                "rules": [{"name": "r", "conditions": [{"type": "email", "operator": "any"}]}],
            },
            "rules[0].conditions[0].targetValue",
        ),
        (
            {
                "name": "Fine",
                "rules": [
                    {"name": "r", "conditions": [{"type": "passes_gate", "targetValue": "ghost"}]}
                ],
            },
            "rules[0].conditions[0].targetValue",
        ),
        (
            {"name": "Fine", "rules": [{"name": "r", "environments": ["moon"]}]},
            "rules[0].environments[0]",
        ),
        ({"name": "Fine", "overrides": {"passingUserIDs": "u1"}}, "overrides.passingUserIDs"),
    ],
)
def test_gate_create__invalid_field__400_naming_it(world, kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), **kwargs)
    assert field in _errors(excinfo)
    assert not Gate.objects.exists()


def test_gate_create__name_in_use__refused_also_across_holdouts(world):
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Checkout")
    holdout_create(project=world.project, actor=actor, name="Global HO")
    for name in ("Checkout", "checkout", "Global HO"):
        with pytest.raises(ValidationError) as excinfo:
            gate_create(project=world.project, actor=actor, name=name)
        assert _errors(excinfo) == {"name": "Name is already in use"}


def test_gate_create__viewer__permission_denied(world):
    with pytest.raises(PermissionDenied):
        gate_create(project=world.project, actor=world.actor(Role.VIEWER), name="Checkout")


def test_gate_update__other_project__not_found(world, other_world):
    gate_create(project=world.project, actor=world.actor(), name="Checkout")
    with pytest.raises(NotFound):
        gate_update(
            project=other_world.project,
            actor=other_world.actor(),
            gate_id="checkout",
            description="x",
        )


def test_gate_update__partial__bumps_version_keeps_salts_and_audits_changes(world):
    actor = world.actor(Role.MEMBER)
    gate = gate_create(project=world.project, actor=actor, name="Checkout", rules=[EMAIL_RULE])
    rule = gate.rules[0]

    # When the rules come back without salt (as a client would send them) plus a new rule
    outcome = gate_update(
        project=world.project,
        actor=actor,
        gate_id="checkout",
        description="Now documented",
        rules=[
            {key: value for key, value in rule.items() if key != "salt"} | {"passPercentage": 50},
            {"name": "Everyone else", "passPercentage": 10, "conditions": []},
        ],
    )

    # Then the existing rule keeps its salt, the new one gets its own, the version moves on
    gate = outcome.result
    assert not outcome.submitted_for_review
    assert gate.version == 2
    assert gate.rules[0]["salt"] == rule["salt"]
    assert gate.rules[0]["passPercentage"] == 50
    assert gate.rules[1]["salt"] not in (None, rule["salt"])
    entry = AuditLog.objects.get(action_type="gate_update")
    assert set(entry.changes) == {"description", "rules"}
    assert entry.changes["description"] == {"old": "", "new": "Now documented"}


def test_gate_update__stale_expected_version__conflict(world):
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Checkout")
    gate_update(project=world.project, actor=actor, gate_id="checkout", description="one")
    with pytest.raises(Conflict):
        gate_update(
            project=world.project,
            actor=actor,
            gate_id="checkout",
            description="two",
            expected_version=1,
        )
    outcome = gate_update(
        project=world.project,
        actor=actor,
        gate_id="checkout",
        description="two",
        expected_version=2,
    )
    assert outcome.result.version == 3


def test_gate_update__audit_and_change_share_the_transaction(world):
    # Given a gate, and a failure after the audit entry was written
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Checkout")
    with (
        mock.patch("ruleset.changes.schedule_rebuild", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        gate_update(project=world.project, actor=actor, gate_id="checkout", description="lost")

    # Then neither the change nor its audit entry survived
    assert Gate.objects.get(slug="checkout").description == ""
    assert not AuditLog.objects.filter(action_type="gate_update").exists()


def test_gate_rules__dependency_cycle__refused_naming_the_condition(world):
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Gate A")
    gate_create(
        project=world.project,
        actor=actor,
        name="Gate B",
        rules=[
            {"name": "needs a", "conditions": [{"type": "passes_gate", "targetValue": "gate_a"}]}
        ],
    )
    with pytest.raises(ValidationError) as excinfo:
        gate_update(
            project=world.project,
            actor=actor,
            gate_id="gate_a",
            rules=[
                {"name": "fine", "conditions": []},
                {"name": "loop", "conditions": [{"type": "fails_gate", "targetValue": "gate_b"}]},
            ],
        )
    errors = _errors(excinfo)
    assert list(errors) == ["rules[1].conditions[0].targetValue"]
    assert "gate_a -> gate_b -> gate_a" in errors["rules[1].conditions[0].targetValue"]


def test_gate_rule_services__errors_named_as_the_caller_sent_them(world):
    actor = world.actor(Role.MEMBER)
    gate = gate_create(project=world.project, actor=actor, name="Checkout", rules=[EMAIL_RULE])
    with pytest.raises(ValidationError) as excinfo:
        gate_rule_add(
            project=world.project,
            actor=actor,
            gate_id="checkout",
            rule={"name": "x", "conditions": [{}]},
        )
    assert "rule.conditions[0].type" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        gate_rules_add(
            project=world.project,
            actor=actor,
            gate_id="checkout",
            rules=[{"name": "ok"}, {"name": "bad", "passPercentage": -1}],
        )
    assert "rules[1].passPercentage" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        gate_rule_update(
            project=world.project,
            actor=actor,
            gate_id="checkout",
            rule_id=gate.rules[0]["id"],
            rule={"passPercentage": "half"},
        )
    assert "rule.passPercentage" in _errors(excinfo)

    # And valid rule edits apply in place
    gate = gate_rule_add(
        project=world.project,
        actor=actor,
        gate_id="checkout",
        rule={"name": "Rest", "passPercentage": 5},
    ).result
    gate = gate_rule_update(
        project=world.project,
        actor=actor,
        gate_id="checkout",
        rule_id=gate.rules[1]["id"],
        rule={"passPercentage": 7},
    ).result
    assert [r["passPercentage"] for r in gate.rules] == [100, 7]
    gate = gate_rule_delete(
        project=world.project, actor=actor, gate_id="checkout", rule_id=gate.rules[0]["id"]
    ).result
    assert [r["name"] for r in gate.rules] == ["Rest"]
    assert AuditLog.objects.filter(action_type="gate_conditions_update").count() == 3


def test_gate_resalt__one_rule__only_that_salt_changes(world):
    actor = world.actor(Role.MEMBER)
    gate = gate_create(
        project=world.project, actor=actor, name="Checkout", rules=[EMAIL_RULE, {"name": "All"}]
    )
    before = [r["salt"] for r in gate.rules]
    gate = gate_resalt(
        project=world.project, actor=actor, gate_id="checkout", rule_id=gate.rules[1]["id"]
    ).result
    after = [r["salt"] for r in gate.rules]
    assert after[0] == before[0]
    assert after[1] != before[1]


def test_gate_overrides__add_and_remove__lists_merged(world):
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Checkout")
    gate = gate_overrides_add(
        project=world.project,
        actor=actor,
        gate_id="checkout",
        overrides={"passingUserIDs": ["u1", "u2"], "failingUserIDs": ["u3"]},
    ).result
    gate = gate_overrides_add(
        project=world.project,
        actor=actor,
        gate_id="checkout",
        overrides={"passingUserIDs": ["u2", "u4"]},
    ).result
    assert gate.overrides["passingUserIDs"] == ["u1", "u2", "u4"]
    gate = gate_overrides_remove(
        project=world.project, actor=actor, gate_id="checkout", overrides={"passingUserIDs": ["u1"]}
    ).result
    assert gate.overrides["passingUserIDs"] == ["u2", "u4"]
    assert gate.overrides["failingUserIDs"] == ["u3"]
    assert AuditLog.objects.filter(action_type="gate_overrides_update").count() == 3


def test_gate_delete__referenced__refused_naming_referrers(world):
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Base")
    gate_create(
        project=world.project,
        actor=actor,
        name="Dependent",
        rules=[{"name": "r", "conditions": [{"type": "passes_gate", "targetValue": "base"}]}],
    )
    experiment_create(project=world.project, actor=actor, name="Targeted", targeting_gate_id="base")
    holdout_create(project=world.project, actor=actor, name="Holdout", gate_ids=["base"])

    with pytest.raises(ValidationError) as excinfo:
        gate_delete(project=world.project, actor=actor, gate_id="base")

    message = _errors(excinfo)["id"]
    for referrer in ("gate 'dependent'", "experiment 'targeted'", "holdout 'holdout'"):
        assert referrer in message
    assert Gate.objects.filter(slug="base").exists()


def test_gate_delete__unreferenced__deleted_with_audit(world):
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Checkout")
    gate_delete(project=world.project, actor=actor, gate_id="checkout")
    assert not Gate.objects.exists()
    assert AuditLog.objects.filter(action_type="gate_delete", entity_id="checkout").exists()


def test_gate_lifecycle__launch_disable_archive__compiled_accordingly(world):
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Checkout", rules=[EMAIL_RULE])
    gate_create(
        project=world.project,
        actor=actor,
        name="User",
        rules=[{"name": "r", "conditions": [{"type": "passes_gate", "targetValue": "checkout"}]}],
    )

    gate_launch(project=world.project, actor=actor, gate_id="checkout")
    spec = compile_project(world.project, time=1)["feature_gates"][0]
    assert [r["id"] for r in spec["rules"]] == ["launched"]

    gate_disable(project=world.project, actor=actor, gate_id="checkout")
    assert Gate.objects.get(slug="checkout").status == GateStatus.DISABLED
    assert compile_project(world.project, time=2)["feature_gates"][0]["enabled"] is False

    # Archiving a gate another gate uses needs forceArchive
    with pytest.raises(ValidationError):
        gate_archive(project=world.project, actor=actor, gate_id="checkout")
    gate = gate_archive(
        project=world.project, actor=actor, gate_id="checkout", force=True, reason="done"
    ).result
    assert gate.status == GateStatus.ARCHIVED
    assert gate.archive_reason == "done"
    with pytest.raises(ValidationError):
        gate_update(project=world.project, actor=actor, gate_id="checkout", rules=[])


# -- reviews ------------------------------------------------------------------------------------


def test_review__console_key_without_header__applied_directly(world):
    _require_reviews(world)
    gate_create(project=world.project, actor=world.actor(), name="Checkout")
    outcome = gate_update(
        project=world.project,
        actor=_console_actor(world, respects_reviews=False),
        gate_id="checkout",
        rules=[EMAIL_RULE],
    )
    assert not outcome.submitted_for_review
    assert Gate.objects.get(slug="checkout").rules[0]["name"] == "Employees"


def test_review__header_and_required__review_filed_gate_unchanged(world, committed):
    # Given a project requiring reviews and a gate
    _require_reviews(world)
    gate_create(project=world.project, actor=world.actor(), name="Checkout")
    actor = _console_actor(world, respects_reviews=True)

    # When a production-wide rule change arrives with the header
    outcome = gate_update(
        project=world.project, actor=actor, gate_id="checkout", rules=[EMAIL_RULE]
    )

    # Then a review holds the change and the gate is unchanged
    assert outcome.submitted_for_review
    review = outcome.review
    assert review.status == ReviewStatus.PENDING
    assert review.change_type == "gate_conditions_update"
    assert review.base_version == 1
    gate = Gate.objects.get(slug="checkout")
    assert gate.rules == []
    assert gate.version == 1
    assert AuditLog.objects.filter(action_type="gate_review_create", review=review).exists()

    # And committing the approved review applies it through the same function
    review_approve(
        project=world.project, actor=world.actor(Role.MEMBER), review_id=review.public_id
    )
    with committed():
        _review, gate = review_commit(
            project=world.project, actor=world.actor(Role.MEMBER), review_id=review.public_id
        )
    assert gate.rules[0]["name"] == "Employees"
    assert gate.version == 2
    assert AuditLog.objects.filter(action_type="gate_conditions_update", review=review).exists()
    payload = CompiledRuleset.objects.filter(project=world.project).latest("time").payload
    assert payload["feature_gates"][0]["rules"][0]["name"] == "Employees"


def test_review__development_only_rule_change__applied_without_review(world):
    _require_reviews(world)
    gate_create(project=world.project, actor=world.actor(), name="Checkout", rules=[EMAIL_RULE])
    browser_user = world.actor(Role.MEMBER)
    gate = Gate.objects.get(slug="checkout")

    outcome = gate_update(
        project=world.project,
        actor=browser_user,
        gate_id="checkout",
        rules=[*gate.rules, {"name": "Devs", "environments": ["development"], "conditions": []}],
    )
    assert not outcome.submitted_for_review
    assert len(outcome.result.rules) == 2

    # While the same kind of rule for production needs review
    outcome = gate_update(
        project=world.project,
        actor=browser_user,
        gate_id="checkout",
        rules=[*outcome.result.rules, {"name": "Prod", "environments": ["production"]}],
    )
    assert outcome.submitted_for_review
    assert Review.objects.count() == 1


def test_review__entity_requires_review__whole_entity_changes_reviewed(world):
    gate_create(project=world.project, actor=world.actor(), name="Checkout", review_required=True)
    member = world.actor(Role.MEMBER)
    assert gate_disable(
        project=world.project, actor=member, gate_id="checkout"
    ).submitted_for_review
    # Metadata never needs review
    outcome = gate_update(project=world.project, actor=member, gate_id="checkout", description="d")
    assert not outcome.submitted_for_review
    assert gate_delete(project=world.project, actor=member, gate_id="checkout").submitted_for_review
    assert Gate.objects.filter(slug="checkout", is_enabled=True).exists()


def test_gate_versions__every_change__state_kept_per_version(world):
    from flags.selectors import gate_versions

    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Checkout")
    gate_update(project=world.project, actor=actor, gate_id="checkout", rules=[EMAIL_RULE])
    gate_disable(project=world.project, actor=actor, gate_id="checkout")

    versions = gate_versions(project=world.project, gate_id="checkout")

    assert [v.version for v in versions] == [3, 2, 1]
    assert [v.is_enabled for v in versions] == [False, True, True]
    assert [len(v.rules) for v in versions] == [1, 1, 0]
    assert versions[0].pk is None
    assert versions[2].created_at is not None


def test_review_forced__change_always_filed_as_review(world):
    from console.services.reviews import review_forced

    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Checkout")
    with review_forced("Please check"):
        outcome = gate_update(
            project=world.project, actor=actor, gate_id="checkout", description="d"
        )
    assert outcome.submitted_for_review
    assert outcome.review.description == "Please check"
    assert Gate.objects.get(slug="checkout").description == ""
    # Outside the block the same change applies directly
    outcome = gate_update(project=world.project, actor=actor, gate_id="checkout", description="d")
    assert not outcome.submitted_for_review


def test_gate_update__rules_resent_without_ids__ids_and_salts_kept_no_review(world):
    # Given a gate in a project requiring review, updated by a client that keeps rules by name
    _require_reviews(world)
    gate = gate_create(
        project=world.project, actor=world.actor(), name="Checkout", rules=[EMAIL_RULE]
    )
    member = world.actor(Role.MEMBER)

    # When the same rules come back without ids or salts, with a new description
    outcome = gate_update(
        project=world.project,
        actor=member,
        gate_id="checkout",
        rules=[dict(EMAIL_RULE)],
        description="Only the description changed",
    )

    # Then nothing about bucketing changed, so no review was needed
    assert not outcome.submitted_for_review
    assert outcome.result.rules == gate.rules
