"""A review in real headless Chromium: the reviewer sees the gate's rules now beside the rules
after the change, the changed percentage and the new condition marked, the stored JSON folded
away without the services' bookkeeping, and a warning once the gate moved on."""

from __future__ import annotations

from playwright.sync_api import expect

from console.models import AuditLog, Review, Role
from console.services.projects import project_review_settings_update
from console.services.reviews import review_forced
from flags.models import Gate
from flags.services import configs as config_services
from flags.services import gates as gate_services


def _rule(rule_id: str, percentage: int, domains: list[str]) -> dict:
    return {
        "id": rule_id,
        "name": "Staff",
        "passPercentage": percentage,
        "conditions": [{"type": "email", "operator": "str_ends_with_any", "targetValue": domains}],
    }


def test_review__rule_change__old_and_new_percentages_side_by_side(
    logged_in_page, world, screenshot
):
    # Given a gate passing 10 % of staff, and a member's review raising it to 60 % of two domains
    member = world.actor(Role.MEMBER)
    gate = gate_services.gate_create(
        project=world.project,
        actor=member,
        name="New checkout",
        rules=[_rule("staff", 10, ["@acme.com"])],
    )
    with review_forced("Roll the checkout out to 60 % of staff"):
        review = gate_services.gate_update(
            project=world.project,
            actor=member,
            gate_id=gate.slug,
            rules=[_rule("staff", 60, ["@acme.com", "@acme.org"])],
            expected_version=gate.version,
        ).review
    # When an admin opens it
    page = logged_in_page(
        world.users[Role.ADMIN], path=f"/p/{world.project.slug}/reviews/{review.public_id}/"
    )
    # Then the rule is shown as it is and as it would be, the percentages marked
    pair = page.locator('.rule-pair[data-rule-id="staff"]')
    expect(pair).to_have_attribute("data-kind", "changed")
    expect(pair.locator(".rule-card-old .rule-percentage.changed")).to_have_text(
        "10% pass (before)"
    )
    expect(pair.locator(".rule-card-new .rule-percentage.changed")).to_have_text("60% pass (after)")
    # And the added domain is marked, the unchanged condition is not
    expect(pair.locator(".rule-card-new .condition-added")).to_contain_text(
        "Email ends with any of @acme.com, @acme.org"
    )
    expect(pair.locator(".rule-card-old .condition-removed")).to_contain_text(
        "Email ends with any of @acme.com"
    )
    # And the stored JSON is folded away, without the services' bookkeeping
    raw = page.locator("pre.raw-change")
    expect(raw).to_be_hidden()
    page.get_by_text("Stored change (JSON)").click()
    expect(raw).to_contain_text('"passPercentage": 60')
    expect(raw).not_to_contain_text("expected_version")
    expect(raw).not_to_contain_text("salt")
    expect(page.get_by_text("changed since this review was filed")).to_have_count(0)
    expect(page.get_by_role("link", name="New checkout")).to_have_attribute(
        "href", f"/p/{world.project.slug}/gates/{gate.slug}/"
    )
    screenshot(page, "review-rule-change")

    # When the gate changes after the review was filed
    gate_services.gate_update(
        project=world.project, actor=world.actor(Role.ADMIN), gate_id=gate.slug, description="x"
    )
    page.reload()
    # Then the reviewer is told
    expect(page.get_by_text("changed since this review was filed")).to_be_visible()


def test_review__disable_of_a_config__shows_enabled_before_and_after(logged_in_page, world):
    # Given a config whose disabling waits for review
    admin = world.actor(Role.ADMIN)
    config = config_services.dynamic_config_create(
        project=world.project, actor=admin, name="Banner", default_value={"color": "red"}
    )
    with review_forced():
        review = config_services.dynamic_config_disable(
            project=world.project, actor=world.actor(Role.MEMBER), config_id=config.slug
        ).review
    # When the admin opens the review
    page = logged_in_page(
        world.users[Role.ADMIN], path=f"/p/{world.project.slug}/reviews/{review.public_id}/"
    )
    # Then is_enabled goes from true to false
    enabled = page.locator('.audit-diff-field[data-field="is_enabled"]')
    expect(enabled.locator(".diff-value-old")).to_have_text("true")
    expect(enabled.locator(".diff-value-new")).to_have_text("false")


def test_bypass__member_disable_waiting__admin_applies_it_now_with_reason(
    logged_in_page, world, screenshot
):
    # Given reviews are on and a member's kill switch on the payments gate waits in the queue
    project_review_settings_update(
        project=world.project, actor=world.actor(Role.ADMIN), is_config_review_required=True
    )
    gate = gate_services.gate_create(
        project=world.project, actor=world.actor(Role.ADMIN), name="Payments"
    )
    member = logged_in_page(
        world.users[Role.MEMBER], path=f"/p/{world.project.slug}/gates/{gate.slug}/"
    )
    member.once("dialog", lambda dialog: dialog.accept())
    member.get_by_role("button", name="Disable").click()
    expect(member.locator(".messages")).to_contain_text("This change needs review")
    review = Review.objects.get(entity_id=gate.slug)
    # When an admin opens the review and bypasses it without a reason
    page = logged_in_page(
        world.users[Role.ADMIN], path=f"/p/{world.project.slug}/reviews/{review.public_id}/"
    )
    page.get_by_text("Emergency: bypass review").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Bypass review and apply now").click()
    # Then they are asked why
    expect(page.get_by_text("A reason is required to bypass review.")).to_be_visible()
    assert Gate.objects.get(pk=gate.pk).is_enabled is True
    # When they give the reason
    page.get_by_label("Why it cannot wait").fill("Payments are failing in production")
    screenshot(page, "review-bypass")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Bypass review and apply now").click()
    # Then the gate is disabled now, the review committed, the reason in the audit log
    expect(page.get_by_test_id("review-status")).to_have_text("Committed")
    assert Gate.objects.get(pk=gate.pk).is_enabled is False
    entry = AuditLog.objects.get(action_type="gate_review_bypass")
    assert entry.changes["reason"]["new"] == "Payments are failing in production"
