"""The flags and segments screens in real headless Chromium: log in, build a gate with two rules
in the rule editor, "Test a user" and ``/v1/check_gate`` agreeing for the same users, starting an
experiment, and uploading a 10,000-ID segment file. Pages are screenshotted on failure by the
harness (``tests/browser/conftest.py``)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from console.models import Role
from flags.models import ExperimentStatus, Gate
from flags.services import experiments as experiment_services
from segments import services as segment_services
from segments.models import Segment, SegmentType
from tests.conftest import PASSWORD


@pytest.fixture
def media_in_tmp(settings, tmp_path):
    """Uploaded files go to a temporary folder (the live server runs in this process)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path


def _log_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _add_rule(page, index: int, name: str) -> None:
    page.get_by_role("button", name="+ Add rule").click()
    rule = page.locator(f'.rule[data-rule-index="{index}"]')
    # The new rule's name field has the focus.
    expect(rule.get_by_label(f"Name of rule {index + 1}")).to_be_focused()
    rule.get_by_label(f"Name of rule {index + 1}").fill(name)


def _panel_answer(page, user_id: str, email: str) -> tuple[str, str]:
    panel = page.locator("#test-panel")
    panel.get_by_label("User ID").fill(user_id)
    panel.get_by_label("Email").fill(email)
    panel.get_by_role("button", name="Evaluate").click()
    result = page.locator("#test-panel [data-test-result]")
    # The panel is replaced by the answer for this user (not the previous one).
    expect(result).to_contain_text(f'"email": "{email}", "userID": "{user_id}"')
    value = result.locator("[data-test-value] .status-badge").inner_text()
    rule_id = result.locator("[data-test-rule-id]").inner_text()
    return value, rule_id


def test_gate__two_rules_in_the_editor__test_user_matches_check_gate(page, world, live_server):
    # Given a member who logs in
    _log_in(page, world.users[Role.MEMBER])
    expect(page).to_have_url(re.compile(rf"/p/{world.project.slug}/$"))
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Gates").click()
    page.get_by_role("link", name="Create a gate").first.click()

    # When they build a gate with two rules in the rule editor
    page.get_by_label("Name", exact=True).fill("New checkout")
    _add_rule(page, 0, "Employees")
    first = page.locator('.rule[data-rule-index="0"]')
    first.get_by_role("button", name="+ Add condition").click()
    condition = first.locator('[data-condition-index="0"]')
    condition.locator("[data-condition-type]").select_option("email")
    condition.locator("[data-condition-operator]").select_option("str_ends_with_any")
    chips = condition.get_by_label(re.compile("Values of condition 1 of rule 1"))
    chips.fill("@example.com")
    chips.press("Enter")
    expect(condition.locator(".chip")).to_have_text(["@example.com×"])
    _add_rule(page, 1, "Ten percent")
    second = page.locator('.rule[data-rule-index="1"]')
    second.locator("[data-pass-percentage]").fill("10")
    second.get_by_label("All").uncheck()
    second.get_by_label("production").check()
    # reorder and back: the move buttons keep the rules' content
    second.get_by_role("button", name="Move rule 2 up").click()
    page.locator('.rule[data-rule-index="0"]').get_by_role(
        "button", name="Move rule 1 down"
    ).click()
    page.get_by_role("button", name="Create gate").click()

    # Then the gate is stored with both rules, in order
    expect(page.get_by_role("heading", name="New checkout", level=1)).to_be_visible()
    gate = Gate.objects.get(project=world.project, slug="new_checkout")
    assert [rule["name"] for rule in gate.rules] == ["Employees", "Ten percent"]
    assert gate.rules[0]["conditions"] == [
        {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@example.com"]}
    ]
    assert (gate.rules[1]["passPercentage"], gate.rules[1]["environments"]) == (10, ["production"])

    # And "Test a user" answers as /v1/check_gate does for the same users
    for user_id, email in (("42", "ada@example.com"), ("7", "bob@elsewhere.org")):
        value, rule_id = _panel_answer(page, user_id, email)
        response = page.request.post(
            live_server.url + "/v1/check_gate",
            data=json.dumps({"user": {"userID": user_id, "email": email}, "gateName": gate.slug}),
            headers={"statsig-api-key": world.keys["server"], "content-type": "application/json"},
        )
        assert response.status == 200, response.text()
        api = response.json()
        assert (value == "Pass", rule_id) == (api["value"], api["rule_id"] or "—")
    assert value  # the last user: either answer, as long as both agree
    first_rule = gate.rules[0]["id"]
    assert _panel_answer(page, "42", "ada@example.com") == ("Pass", first_rule)


def test_experiment__started_from_its_page(page, world, live_server):
    # Given an experiment in setup
    experiment = experiment_services.experiment_create(
        project=world.project, actor=world.actor(Role.ADMIN), name="Button color"
    )
    _log_in(page, world.users[Role.MEMBER])
    page.goto(f"/p/{world.project.slug}/experiments/{experiment.slug}/")
    expect(page.locator("[data-size-total]")).to_contain_text("Total 100%")
    # When the member starts it (and confirms)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Start experiment").click()
    # Then it runs, and the page offers the decision
    expect(page.locator("[data-experiment-status]")).to_have_attribute(
        "data-experiment-status", ExperimentStatus.ACTIVE
    )
    expect(page.get_by_role("heading", name="Make a decision")).to_be_visible()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.ACTIVE


def test_segment__10000_id_file_uploaded__count_shown(page, world, live_server, media_in_tmp):
    # Given an ID-list segment and a file of 10,000 ids
    segment = segment_services.segment_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        name="Beta users",
        type=SegmentType.ID_LIST,
    )
    ids_file = media_in_tmp / "beta-users.txt"
    ids_file.write_text("\n".join(f"user-{n}" for n in range(10_000)) + "\n")
    _log_in(page, world.users[Role.MEMBER])
    page.goto(f"/p/{world.project.slug}/segments/{segment.key}/")
    expect(page.locator("[data-id-count]")).to_have_text("0")
    # When the member uploads it
    page.get_by_label("File of IDs").set_input_files(str(ids_file))
    page.get_by_role("button", name="Upload file").click()
    # Then the upload finishes in the background and the count follows it, with no reload
    expect(page.locator("#upload-progress")).to_have_attribute(
        "data-upload-status", "done", timeout=30_000
    )
    expect(page.locator("[data-upload-added]")).to_have_text("10000")
    expect(page.locator("[data-id-count]")).to_have_text("10000")
    assert Segment.objects.get(pk=segment.pk).id_count == 10_000
    # And a member is found by the lookup
    page.get_by_label("Is this ID a member?").fill("user-9999")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("[data-lookup-result]")).to_have_attribute("data-lookup-result", "member")
