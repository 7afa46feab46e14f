"""The foundation screens in real headless Chromium: log in, create an API key and see its
secret once, and approve and commit a review as a second user."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from console.keycache import hash_secret
from console.models import ApiKey, AuditLog, Project, Review, ReviewStatus, Role
from console.services.audit import audit_record
from console.services.reviews import register_change, submit_or_apply
from console.web.review_states import register_review_state
from tests.conftest import PASSWORD

# A reviewable change for these tests (no entity services exist in the foundation): renaming
# the project.


def _project_version(project: Project, entity_id: str) -> int:
    return Project.objects.get(pk=project.pk).name.count("!") + 1


@register_change("e2e_project_rename", entity_type="project", current_version=_project_version)
def _apply_rename(*, project, actor, entity_id, change, review=None):
    locked = Project.objects.select_for_update().get(pk=project.pk)
    old = locked.name
    locked.name = change["name"]
    locked.save(update_fields=["name"])
    audit_record(
        project=locked,
        actor=actor,
        action_type="project_rename",
        entity_type="project",
        entity_id=entity_id,
        changes={"name": {"old": old, "new": locked.name}},
        review=review,
    )
    return locked


def _project_state(project, entity_id):
    return {"name": Project.objects.get(pk=project.pk).name}


register_review_state("project", current=_project_state)


def test_login__form__lands_on_dashboard_and_logs_out(page, world):
    # Given an anonymous visitor
    page.goto("/")
    # Then they are asked to log in
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    # When they log in with a wrong password, then they are told
    page.get_by_label("Username").fill(world.users[Role.ADMIN].username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    # When they log in for real
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Then the project dashboard opens with the navigation
    expect(page).to_have_url(re.compile(rf"/p/{world.project.slug}/$"))
    expect(page.get_by_role("heading", name=world.project.name, level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Project")
    for label in ("Reviews", "Audit log", "Keys", "Members", "Settings"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    # And logging out ends the session
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_skip_link__first_tab_stop__moves_focus_to_main(logged_in_page, world):
    page = logged_in_page(world.users[Role.VIEWER])
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))


def test_api_key_create__secret_shown_once(logged_in_page, world):
    # Given the admin on the keys screen
    page = logged_in_page(world.users[Role.ADMIN])
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Keys").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    # When they create a client key for production
    page.get_by_label(re.compile(r"^Client SDK")).check()
    page.get_by_label("Description").fill("Checkout web app")
    page.get_by_label("production").check()
    page.get_by_role("button", name="Create key").click()
    # Then the secret is shown, once
    expect(page.get_by_role("heading", name="Key created")).to_be_visible()
    secret = page.get_by_label("Secret").input_value()
    assert secret.startswith("client-")
    key = ApiKey.objects.get(secret_hash=hash_secret(secret))
    assert key.description == "Checkout web app"
    assert key.environments == ["production"]
    assert AuditLog.objects.filter(action_type="key_create", entity_id=key.public_id).exists()
    # And the list shows only its hint afterwards
    page.get_by_role("link", name=re.compile("back to keys")).click()
    row = page.locator(f'tr[data-key="{key.public_id}"]')
    expect(row).to_contain_text(key.hint)
    expect(row).to_contain_text("Checkout web app")
    assert secret not in page.content()


def test_api_key_rotate__confirmed__new_secret_and_old_key_deactivated(logged_in_page, world):
    key = ApiKey.objects.filter(project=world.project, kind="server").first()
    page = logged_in_page(world.users[Role.ADMIN], path=f"/p/{world.project.slug}/keys/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'tr[data-key="{key.public_id}"]').get_by_role("button", name="Rotate").click()
    expect(page.get_by_role("heading", name="Key rotated")).to_be_visible()
    secret = page.get_by_label("Secret").input_value()
    assert ApiKey.objects.get(secret_hash=hash_secret(secret)).rotated_from_id == key.pk
    key.refresh_from_db()
    assert not key.is_active


def test_viewer__no_edit_controls(logged_in_page, world):
    page = logged_in_page(world.users[Role.VIEWER], path=f"/p/{world.project.slug}/keys/")
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.get_by_role("button", name="Create key")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Rotate|Deactivate"))).to_have_count(0)


def test_review__approved_and_committed_by_second_user(logged_in_page, world):
    # Given a member filed a review renaming the project
    author = world.users[Role.MEMBER]
    review = submit_or_apply(
        project=world.project,
        actor=world.actor(Role.MEMBER),
        change_type="e2e_project_rename",
        entity_id=world.project.slug,
        entity_name=world.project.name,
        change={"name": "Acme Industries"},
        needs_review=True,
        description="Rename the project to Acme Industries",
    ).review

    # The author may not approve it: the page says why and offers no Approve button
    author_page = logged_in_page(author, path=f"/p/{world.project.slug}/reviews/")
    author_page.get_by_role("link", name="Rename the project to Acme Industries").click()
    expect(author_page.locator("#self-approval-note")).to_be_visible()
    expect(author_page.get_by_role("button", name="Approve")).to_have_count(0)

    # When the admin opens the review queue from the dashboard
    page = logged_in_page(world.users[Role.ADMIN])
    page.get_by_role("link", name="Open the review queue").click()
    page.get_by_role("link", name="Rename the project to Acme Industries").click()
    # Then they see the change against the current state
    diff = page.get_by_role("region", name="name")
    expect(diff.locator(".diff-value-old")).to_have_text("Acme")
    expect(diff.locator(".diff-value-new")).to_have_text("Acme Industries")
    # When they approve it with a comment
    page.get_by_label("Comment").fill("Marketing signed off")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("review-status")).to_have_text("Approved")
    expect(page.get_by_text("Marketing signed off")).to_be_visible()
    assert Project.objects.get(pk=world.project.pk).name == "Acme"
    # And commit it
    page.get_by_role("button", name="Commit change").click()
    expect(page.get_by_test_id("review-status")).to_have_text("Committed")
    expect(page.get_by_role("status")).to_contain_text("the change is applied")

    # Then the change is applied once, through the registered change, with its audit trail
    review.refresh_from_db()
    assert review.status == ReviewStatus.COMMITTED
    assert Project.objects.get(pk=world.project.pk).name == "Acme Industries"
    assert list(
        AuditLog.objects.filter(review=review).order_by("id").values_list("action_type", flat=True)
    ) == [
        "project_review_create",
        "project_review_approve",
        "project_rename",
        "project_review_commit",
    ]
    assert Review.objects.filter(project=world.project).count() == 1


def test_audit_filter__htmx__updates_results_and_url(logged_in_page, world):
    page = logged_in_page(world.users[Role.ADMIN], path=f"/p/{world.project.slug}/audit/")
    results = page.locator("#audit-results")
    expect(results).to_contain_text("member_add")
    page.evaluate("window.__notReloaded = true")
    page.get_by_label("Action").select_option("project_create")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"action_type=project_create"))
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("project_create")
    # htmx swapped the results: the page itself was not reloaded
    assert page.evaluate("window.__notReloaded === true")
    assert page.evaluate("document.querySelectorAll('#audit-results').length") == 1


def test_htmx_post__csrf_token_from_hx_headers__accepted(logged_in_page, world):
    # Given an admin's page, whose <body hx-headers> carries the CSRF token
    page = logged_in_page(world.users[Role.ADMIN], path=f"/p/{world.project.slug}/settings/")
    # When htmx posts without a token in the body
    page.evaluate(
        """path => htmx.ajax("POST", path, {
               values: {is_config_review_required: "on"}, target: "#main", swap: "none"})""",
        f"/p/{world.project.slug}/settings/reviews/",
    )
    # Then Django's CSRF check passes and the write goes through its service
    expect(page.locator("body")).to_be_visible()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    world.project.refresh_from_db()
    assert world.project.requires_review
    assert AuditLog.objects.filter(action_type="project_review_settings_update").exists()
