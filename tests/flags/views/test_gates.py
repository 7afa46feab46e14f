"""Gate screens through the Django client: every screen for every role, validation errors next
to their field (and at the rule they name), writes reaching the database through the services
with their audit entry, reviews, "Test a user" and a list with a fixed number of queries."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from console.models import AuditLog, Review, Role
from console.services.projects import project_review_settings_update
from flags.models import Gate, GateStatus
from flags.services import gates as gate_services
from tests.conftest import ROLES

EMPLOYEES = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [
        {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@example.com"]}
    ],
}


def _url(world, tail: str = "") -> str:
    return f"/p/{world.project.slug}/gates/{tail}"


def _gate(world, name: str = "New checkout", **kwargs) -> Gate:
    return gate_services.gate_create(
        project=world.project, actor=world.actor(Role.ADMIN), name=name, **kwargs
    )


def _form(gate: Gate, **changes) -> dict[str, str]:
    data = {
        "name": gate.name,
        "description": gate.description,
        "tags": ", ".join(gate.tags),
        "type": gate.type,
        "rules": json.dumps(
            [{k: v for k, v in rule.items() if k != "salt"} for rule in gate.rules]
        ),
        "version": str(gate.version),
    }
    data.update(changes)
    return data


# -- screens per role ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_gate_screens__each_role__render_with_edit_controls_for_editors_only(world, as_role, role):
    # Given a gate with a rule
    gate = _gate(world, rules=[EMPLOYEES], tags=["checkout"])
    client = as_role(role)
    # When the list and the detail page are opened
    listing = client.get(_url(world))
    detail = client.get(_url(world, f"{gate.slug}/"))
    # Then both render, and only editors get the edit controls
    assert listing.status_code == 200
    assert detail.status_code == 200
    assert gate.slug in listing.content.decode()
    page = detail.content.decode()
    assert "Test a user" in page
    editor_controls = ("Create a gate" in listing.content.decode(), "Save changes" in page)
    assert editor_controls == ((True, True) if role != Role.VIEWER else (False, False))
    if role == Role.VIEWER:
        # the rules are shown as sentences instead
        assert "Email ends with any of @example.com" in page


def test_gate_create_page__viewer__is_refused(world, as_role):
    # Given a viewer
    client = as_role(Role.VIEWER)
    # When they open or post the create page
    # Then the server refuses both
    assert client.get(_url(world, "new/")).status_code == 403
    assert client.post(_url(world, "new/"), {"name": "Sneaky"}).status_code == 403
    assert not Gate.objects.filter(project=world.project).exists()


@pytest.mark.parametrize(
    "path",
    ["{slug}/", "{slug}/disable/", "{slug}/archive/", "{slug}/delete/", "{slug}/launch/"],
)
def test_gate_writes__viewer__refused_with_403(world, as_role, path):
    # Given a gate and a viewer
    gate = _gate(world)
    # When the viewer posts a change
    response = as_role(Role.VIEWER).post(_url(world, path.format(slug=gate.slug)), _form(gate))
    # Then it is refused and nothing changed
    assert response.status_code == 403
    gate.refresh_from_db()
    assert (gate.version, gate.status) == (1, GateStatus.IN_PROGRESS)


def test_gate_pages__other_project__not_found(world, other_world, as_role):
    # Given a gate of another project
    other = gate_services.gate_create(
        project=other_world.project, actor=other_world.actor(Role.ADMIN), name="Secret gate"
    )
    # When a member of this project asks for it under either project
    client = as_role(Role.ADMIN)
    # Then neither reveals it
    assert client.get(f"/p/{other_world.project.slug}/gates/{other.slug}/").status_code == 404
    assert client.get(_url(world, f"{other.slug}/")).status_code == 404


# -- create ---------------------------------------------------------------------------------------


def test_gate_create__with_two_rules__stored_through_the_service_with_audit(world, as_role):
    # Given a member
    client = as_role(Role.MEMBER)
    rules = [
        EMPLOYEES,
        {
            "name": "Beta countries",
            "passPercentage": 25,
            "conditions": [{"type": "country", "operator": "any", "targetValue": ["NL", "DE"]}],
            "environments": ["production"],
        },
    ]
    # When they create a gate with two rules
    response = client.post(
        _url(world, "new/"),
        {
            "name": "New checkout",
            "id": "",
            "idType": "userID",
            "type": "TEMPORARY",
            "tags": "checkout, beta",
            "description": "The new flow",
            "rules": json.dumps(rules),
        },
    )
    # Then the gate exists with both rules, ids and salts, and the page says so
    assert response.status_code == 302
    assert response["Location"] == _url(world, "new_checkout/")
    gate = Gate.objects.get(project=world.project, slug="new_checkout")
    assert [rule["name"] for rule in gate.rules] == ["Employees", "Beta countries"]
    assert all(rule["id"] and rule["salt"] for rule in gate.rules)
    assert gate.rules[1]["passPercentage"] == 25
    assert gate.rules[1]["environments"] == ["production"]
    assert (gate.type, gate.tags, gate.creator_name) == (
        "TEMPORARY",
        ["checkout", "beta"],
        world.users[Role.MEMBER].username,
    )
    audit = AuditLog.objects.get(project=world.project, action_type="gate_create")
    assert audit.entity_id == "new_checkout"
    assert audit.actor_user == world.users[Role.MEMBER]
    assert "created" in client.get(response["Location"]).content.decode()


def test_gate_create__duplicate_name__error_next_to_the_name(world, as_role):
    # Given a gate named "New checkout"
    _gate(world)
    # When another is created with that name
    response = as_role(Role.MEMBER).post(
        _url(world, "new/"),
        {"name": "New checkout", "idType": "userID", "type": "PERMANENT", "rules": "[]"},
    )
    # Then the form is shown again with the error under the name field
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_name_error"' in page
    assert "Name is already in use" in page
    assert Gate.objects.filter(project=world.project).count() == 1


def test_gate_create__bad_rules__errors_named_at_the_rule_and_not_saved(world, as_role):
    # Given rules whose second condition has an operator its type does not take
    rules = [
        {
            "name": "Bad",
            "conditions": [
                {"type": "email", "operator": "any", "targetValue": ["a@b.c"]},
                {"type": "country", "operator": "gt", "targetValue": 3},
            ],
        }
    ]
    # When the gate is created
    response = as_role(Role.MEMBER).post(
        _url(world, "new/"),
        {"name": "Bad rules", "idType": "userID", "type": "PERMANENT", "rules": json.dumps(rules)},
    )
    # Then the error is shown at the rules field and handed to the editor with its path
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_rules_error"' in page
    assert "rules[0].conditions[1].operator" in page
    assert not Gate.objects.filter(project=world.project).exists()


def test_gate_create__invalid_json__error_next_to_the_rules(world, as_role):
    response = as_role(Role.MEMBER).post(
        _url(world, "new/"),
        {"name": "Broken", "idType": "userID", "type": "PERMANENT", "rules": "[{"},
    )
    assert response.status_code == 400
    assert "Not valid JSON" in response.content.decode()
    assert not Gate.objects.filter(project=world.project).exists()


# -- edit -----------------------------------------------------------------------------------------


def test_gate_edit__rules_reordered_and_added__keep_ids_and_salts(world, as_role):
    # Given a gate with two rules
    gate = _gate(world, rules=[EMPLOYEES, {"name": "Everyone else", "passPercentage": 10}])
    first, second = gate.rules
    # When a member moves the second rule up and adds a third
    posted = [
        {k: v for k, v in second.items() if k != "salt"},
        {k: v for k, v in first.items() if k != "salt"},
        {"name": "Staging", "conditions": [], "environments": ["staging"], "passPercentage": 100},
    ]
    response = as_role(Role.MEMBER).post(
        _url(world, f"{gate.slug}/"), _form(gate, rules=json.dumps(posted))
    )
    # Then the rules are stored in the new order with their ids and salts kept
    assert response.status_code == 302
    gate.refresh_from_db()
    assert [rule["id"] for rule in gate.rules[:2]] == [second["id"], first["id"]]
    assert [rule["salt"] for rule in gate.rules[:2]] == [second["salt"], first["salt"]]
    assert gate.rules[2]["environments"] == ["staging"]
    assert gate.version == 2
    assert AuditLog.objects.filter(
        project=world.project, entity_id=gate.slug, action_type="gate_update"
    ).exists()


def test_gate_edit__stale_version__conflict_shown(world, as_role):
    # Given a gate someone else changed after the page was loaded
    gate = _gate(world)
    form = _form(gate, description="mine")
    gate_services.gate_update(
        project=world.project, actor=world.actor(Role.ADMIN), gate_id=gate.slug, description="x"
    )
    # When the stale form is posted
    response = as_role(Role.MEMBER).post(_url(world, f"{gate.slug}/"), form)
    # Then it is refused with the reason, and the other change stays
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    gate.refresh_from_db()
    assert gate.description == "x"


def test_gate_edit__project_requires_review__files_a_review_and_says_so(world, as_role):
    # Given a project whose changes need review
    project_review_settings_update(
        project=world.project, actor=world.actor(Role.ADMIN), is_config_review_required=True
    )
    gate = _gate(world)
    client = as_role(Role.MEMBER)
    # When a member adds a rule
    response = client.post(_url(world, f"{gate.slug}/"), _form(gate, rules=json.dumps([EMPLOYEES])))
    # Then the change is filed as a review, the gate is unchanged, and the page says so
    assert response.status_code == 302
    review = Review.objects.get(project=world.project, entity_id=gate.slug)
    gate.refresh_from_db()
    assert gate.rules == []
    page = client.get(response["Location"]).content.decode()
    assert "needs review" in page
    assert review.public_id in page
    assert "Change waiting for review" in page


# -- lifecycle -----------------------------------------------------------------------------------


def test_gate_disable_then_enable__through_the_service(world, as_role):
    gate = _gate(world)
    client = as_role(Role.MEMBER)
    assert client.post(_url(world, f"{gate.slug}/disable/")).status_code == 302
    gate.refresh_from_db()
    assert (gate.is_enabled, gate.status) == (False, GateStatus.DISABLED)
    assert client.post(_url(world, f"{gate.slug}/enable/")).status_code == 302
    gate.refresh_from_db()
    assert (gate.is_enabled, gate.status) == (True, GateStatus.IN_PROGRESS)
    actions = set(
        AuditLog.objects.filter(project=world.project, entity_id=gate.slug).values_list(
            "action_type", flat=True
        )
    )
    assert {"gate_disable", "gate_enable"} <= actions


def test_gate_archive__used_by_another_gate__confirmation_names_it_and_force_archives(
    world, as_role
):
    # Given a gate another gate depends on
    base = _gate(world, name="Internal users")
    _gate(
        world,
        name="New checkout",
        rules=[
            {"name": "Staff", "conditions": [{"type": "passes_gate", "targetValue": base.slug}]}
        ],
    )
    client = as_role(Role.MEMBER)
    # Then the archive button's confirmation names the referrer
    page = client.get(_url(world, f"{base.slug}/")).content.decode()
    assert "It is used by gate &#x27;new_checkout&#x27;" in page
    # When it is archived (confirmed)
    response = client.post(_url(world, f"{base.slug}/archive/"), {"force": "1"})
    # Then it is archived
    assert response.status_code == 302
    base.refresh_from_db()
    assert base.status == GateStatus.ARCHIVED


def test_gate_delete__referenced__confirmation_names_referrers_and_refuses(world, as_role):
    base = _gate(world, name="Internal users")
    _gate(
        world,
        name="New checkout",
        rules=[
            {"name": "Staff", "conditions": [{"type": "passes_gate", "targetValue": base.slug}]}
        ],
    )
    client = as_role(Role.MEMBER)
    confirm = client.get(_url(world, f"{base.slug}/delete/"))
    assert confirm.status_code == 200
    assert "gate &#x27;new_checkout&#x27;" in confirm.content.decode()
    refused = client.post(_url(world, f"{base.slug}/delete/"))
    assert refused.status_code == 400
    assert Gate.objects.filter(pk=base.pk).exists()


def test_gate_delete__unreferenced__deleted_with_audit(world, as_role):
    gate = _gate(world)
    response = as_role(Role.MEMBER).post(_url(world, f"{gate.slug}/delete/"))
    assert response.status_code == 302
    assert response["Location"] == _url(world)
    assert not Gate.objects.filter(pk=gate.pk).exists()
    assert AuditLog.objects.filter(
        project=world.project, entity_id=gate.slug, action_type="gate_delete"
    ).exists()


# -- Test a user ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "value", "explanation"),
    [
        ("ada@example.com", "Pass", "Rule 1 matched: “Employees”."),
        ("bob@elsewhere.org", "Fail", "No rule matched"),
    ],
)
def test_gate_test_user__htmx__answers_with_the_api_evaluator(
    world, as_role, email, value, explanation
):
    # Given a gate passing employees (the ruleset is rebuilt on commit)
    gate = _gate(world, rules=[EMPLOYEES])
    from ruleset import store as ruleset_store

    ruleset_store.rebuild(world.project.pk)
    # When a viewer tests a user from the panel
    response = as_role(Role.VIEWER).post(
        _url(world, f"{gate.slug}/test/"),
        {"test-userID": "42", "test-email": email},
        headers={"HX-Request": "true"},
    )
    # Then the panel shows the value, the rule id and which rule matched
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert f">{value}</span>" in page
    assert explanation in page
    if value == "Pass":
        assert gate.rules[0]["id"] in page


def test_gate_test_user__matched_rule_outside_rollout__says_so_beside_fail(world, as_role):
    # Given a gate passing 0 % of employees (their rule matches, nobody is in the rollout)
    gate = _gate(world, rules=[{**EMPLOYEES, "passPercentage": 0}])
    from ruleset import store as ruleset_store

    ruleset_store.rebuild(world.project.pk)
    # When an employee is tested
    response = as_role(Role.VIEWER).post(
        _url(world, f"{gate.slug}/test/"),
        {"test-userID": "42", "test-email": "ada@example.com"},
        headers={"HX-Request": "true"},
    )
    # Then the panel says Fail because the user is outside the rule's rollout
    page = response.content.decode()
    assert ">Fail</span>" in page
    assert "outside the rollout" in page
    assert (
        "Rule 1 matched: “Employees”. The user is outside its 0% rollout, so the gate fails "
        "for them." in page
    )


def test_gate_test_user__no_user_id__says_what_is_missing(world, as_role):
    gate = _gate(world)
    response = as_role(Role.MEMBER).post(
        _url(world, f"{gate.slug}/test/"), {"test-email": "a@b.c"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "a userID or at least one customID is required" in response.content.decode()


# -- the list ------------------------------------------------------------------------------------


def test_gate_list__search_tag_status_and_sort(world, as_role):
    _gate(world, name="Alpha flow", tags=["checkout"])
    _gate(world, name="Beta flow", tags=["search"])
    off = _gate(world, name="Gamma flow", tags=["checkout"], is_enabled=False)
    client = as_role(Role.VIEWER)

    def names(query: str) -> list[str]:
        page = client.get(_url(world) + query).content.decode()
        return [n for n in ("Alpha flow", "Beta flow", "Gamma flow") if n in page]

    assert names("?q=beta") == ["Beta flow"]
    assert names("?tag=checkout") == ["Alpha flow", "Gamma flow"]
    assert names(f"?status={off.status}") == ["Gamma flow"]
    page = client.get(_url(world) + "?sort=-name").content.decode()
    assert page.index("Gamma flow") < page.index("Beta flow") < page.index("Alpha flow")
    empty = client.get(_url(world) + "?q=nothing-like-this").content.decode()
    assert "Nothing matches" in empty


def test_gate_list__empty__says_what_to_do_next(world, as_role):
    assert "Create a gate, add a rule" in as_role(Role.MEMBER).get(_url(world)).content.decode()
    assert "Members of the project create" in as_role(Role.VIEWER).get(_url(world)).content.decode()


def _list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_gate_list__50_or_500_gates__same_number_of_queries(
    world, as_role, django_assert_max_num_queries
):
    # Given 50 gates with rules and tags
    actor = world.actor(Role.ADMIN)
    for i in range(50):
        gate_services.gate_create(
            project=world.project, actor=actor, name=f"Gate {i:03}", tags=[f"t{i % 5}"]
        )
    client = as_role(Role.VIEWER)
    with_50 = _list_queries(client, _url(world))
    # When there are 500
    for i in range(50, 500):
        gate_services.gate_create(
            project=world.project, actor=actor, name=f"Gate {i:03}", tags=[f"t{i % 5}"]
        )
    # Then a page costs the same queries (filtered and paginated too)
    assert _list_queries(client, _url(world)) == with_50
    with django_assert_max_num_queries(with_50):
        response = client.get(_url(world) + "?tag=t1&page=2&sort=name")
    assert response.status_code == 200
    assert "Gate 251" in response.content.decode()
