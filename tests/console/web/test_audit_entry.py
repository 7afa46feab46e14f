"""Each audit entry opens to its whole before/after change (the list shows ~120 characters)."""

from __future__ import annotations

import html
import json

from django.urls import reverse

from console.models import AuditLog, Role
from console.web.diffs import ADDED, REMOVED, SAME, change_diffs

EMAILS = [f"person-{n}@example.com" for n in range(30)]


def rule(percentage: int, emails: list[str]) -> dict:
    return {
        "name": "Employees",
        "passPercentage": percentage,
        "conditions": [{"type": "email", "operator": "any", "targetValue": emails}],
    }


def gate_with_a_long_rule_change(capi) -> AuditLog:
    """A gate whose rules change from 10 % of 30 emails to 60 % of 31 (JSON far over 120
    characters), through the console API; returns the update's audit entry."""
    assert capi.post(
        "gates", {"name": "new_checkout", "rules": [rule(10, EMAILS)]}
    ).status_code in (
        200,
        201,
    )
    response = capi.patch(
        "gates/new_checkout", {"rules": [rule(60, [*EMAILS, "last-added@example.com"])]}
    )
    assert response.status_code == 200
    return AuditLog.objects.filter(entity_id="new_checkout").order_by("-id").first()


def entry_url(world, entry) -> str:
    return reverse("audit-entry", args=[world.project.slug, entry.pk])


def test_change_diffs__nested_value__every_line_of_both_sides_marked():
    old = {"rules": [{"passPercentage": 10, "emails": ["a", "b"]}]}
    new = {"rules": [{"passPercentage": 60, "emails": ["a", "b", "c"]}]}
    (diff,) = change_diffs({"rules": {"old": old["rules"], "new": new["rules"]}})
    assert diff.field == "rules"
    removed = [line.text.strip() for line in diff.lines if line.kind == REMOVED]
    added = [line.text.strip() for line in diff.lines if line.kind == ADDED]
    assert removed == ['"b"', '"passPercentage": 10']
    assert added == ['"b",', '"c"', '"passPercentage": 60']
    # Reading only the unchanged and old lines gives the old value back, and likewise the new
    assert "\n".join(line.text for line in diff.lines if line.kind != ADDED) == json.dumps(
        old["rules"], indent=2, sort_keys=True
    )
    assert "\n".join(line.text for line in diff.lines if line.kind != REMOVED) == json.dumps(
        new["rules"], indent=2, sort_keys=True
    )
    assert (diff.added, diff.removed) == (3, 2)


def test_change_diffs__scalars_and_created_values():
    diffs = change_diffs(
        {
            "description": {"old": "Old text", "new": "New text"},
            "tags": {"old": None, "new": ["a", "b"]},
            "plain": "value",
        }
    )
    assert [(d.field, d.old, d.new, d.lines) for d in diffs[::2]] == [
        ("description", "Old text", "New text", []),
        ("plain", "—", "value", []),
    ]
    created = diffs[1]
    assert created.old == "—"
    assert {line.kind for line in created.lines} == {ADDED}
    assert SAME not in {line.kind for line in created.lines}


def test_audit_entry__full_page__whole_change_no_truncation(capi, browser_client, world):
    entry = gate_with_a_long_rule_change(capi)
    response = browser_client(world.users[Role.VIEWER]).get(entry_url(world, entry))
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "<html" in body
    # Every email of both versions, the old and new percentages, as marked lines
    for email in [*EMAILS, "last-added@example.com"]:
        assert email in body
    assert '<span class="diff-line diff-removed">' in body
    assert '"passPercentage": 10' in body
    assert '"passPercentage": 60' in body
    assert "last-added@example.com" in body.split('class="diff-line diff-added"', 1)[1]


def test_audit_entry__htmx__fragment_only(capi, browser_client, world):
    entry = gate_with_a_long_rule_change(capi)
    response = browser_client(world.users[Role.ADMIN]).get(
        entry_url(world, entry), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'data-field="rules"' in body


def test_audit_list__each_entry_offers_its_full_change(capi, browser_client, world):
    entry = gate_with_a_long_rule_change(capi)
    body = (
        browser_client(world.users[Role.MEMBER])
        .get(reverse("audit-list", args=[world.project.slug]))
        .content.decode()
    )
    assert f'hx-get="{entry_url(world, entry)}"' in body
    assert "last-added@example.com" not in body  # the list itself stays short


def test_audit_entry__other_projects_entry_or_unknown__404(browser_client, world, other_world):
    other_entry = AuditLog.objects.filter(project=other_world.project).first()
    client = browser_client(world.users[Role.ADMIN])
    assert client.get(entry_url(world, other_entry)).status_code == 404
    assert client.get(reverse("audit-entry", args=[world.project.slug, 999999])).status_code == 404
