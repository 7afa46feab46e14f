"""The shared browser screens through the Django client: every screen for every role, the server
refusing writes the page did not offer, validation errors next to their field, and each write
reaching the database through its service with its audit entry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.keycache import hash_secret
from console.models import (
    ApiKey,
    AuditLog,
    Environment,
    Invitation,
    Membership,
    Project,
    Review,
    ReviewStatus,
    Role,
)
from console.services.audit import audit_record
from console.services.reviews import register_change, review_forced, submit_or_apply
from console.templatetags.console_tags import (
    SECTION_PROJECT,
    Area,
    area_url,
    project_reverse,
    relative_time,
    status_badge,
)
from console.web.comparison import compare
from console.web.review_states import register_review_state, review_state
from flags.services import experiments as experiment_services
from flags.services import gates as gate_services
from flags.services import holdouts as holdout_services
from segments import services as segment_services
from tests.conftest import PASSWORD, make_user

ROLES = (Role.ADMIN, Role.MEMBER, Role.VIEWER)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Templates use ``{% static %}``; tests do not run collectstatic for the manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# A change kind of the review framework for these tests: renaming the project.


def _project_version(project: Project, entity_id: str) -> int:
    return Project.objects.get(pk=project.pk).name.count("!") + 1


@register_change("test_views_rename", entity_type="project", current_version=_project_version)
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


def file_review(world, *, author_role=Role.MEMBER, name="Acme!") -> Review:
    outcome = submit_or_apply(
        project=world.project,
        actor=world.actor(author_role),
        change_type="test_views_rename",
        entity_id=world.project.slug,
        entity_name=world.project.name,
        change={"name": name},
        needs_review=True,
        description="Rename the project",
    )
    assert outcome.review is not None
    return outcome.review


def url(name: str, world, *args) -> str:
    return reverse(name, args=[world.project.slug, *args])


def audit_actions(world) -> list[str]:
    return list(
        AuditLog.objects.filter(project=world.project)
        .order_by("id")
        .values_list("action_type", flat=True)
    )


# --- Landing, login, projects --------------------------------------------------------------


def test_home__anonymous__redirects_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login__valid_password__lands_on_first_project_dashboard(client, world):
    # Given the login page
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    # When the admin logs in
    response = client.post(
        reverse("login"),
        {"username": world.users[Role.ADMIN].username, "password": PASSWORD},
        follow=True,
    )
    # Then they land on their project's dashboard
    assert response.redirect_chain[-1][0] == url("project-dashboard", world)
    assert world.project.name in response.content.decode()


def test_login__wrong_password__says_so(client, world):
    response = client.post(
        reverse("login"), {"username": world.users[Role.ADMIN].username, "password": "nope"}
    )
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()


def test_logout__post__ends_the_session(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(url("project-dashboard", world)).status_code == 302


def test_home__user_without_project__sees_no_project_page(browser_client, db):
    client = browser_client(make_user("loner"))
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("project-create")
    assert "No project yet" in response.content.decode()


def test_project_create__valid_name__creates_project_with_admin_and_audit(browser_client, db):
    user = make_user("founder")
    client = browser_client(user)
    response = client.post(reverse("project-create"), {"name": "Initech"})
    project = Project.objects.get(name="Initech")
    assert response.status_code == 302
    assert response["Location"] == reverse("project-dashboard", args=[project.slug])
    assert Membership.objects.get(project=project, user=user).role == Role.ADMIN
    assert AuditLog.objects.filter(project=project, action_type="project_create").exists()


def test_project_create__blank_name__error_next_to_field(browser_client, db):
    client = browser_client(make_user("founder"))
    response = client.post(reverse("project-create"), {"name": ""})
    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode()
    assert not Project.objects.exists()


def test_project_pages__other_project__404(browser_client, world, other_world):
    client = browser_client(other_world.users[Role.ADMIN])
    for name in ("project-dashboard", "key-list", "member-list", "audit-list", "review-list"):
        assert client.get(url(name, world)).status_code == 404


# --- Every screen for every role -----------------------------------------------------------

SCREENS = (
    "project-dashboard",
    "key-list",
    "member-list",
    "audit-list",
    "review-list",
    "project-settings",
)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen__each_role__renders_with_navigation(browser_client, world, role, screen):
    client = browser_client(world.users[role])
    response = client.get(url(screen, world))
    body = response.content.decode()
    assert response.status_code == 200
    # The shell: skip link, landmarks, the project switcher and the navigation.
    assert 'href="#main"' in body
    assert '<main id="main"' in body
    assert 'aria-label="Project"' in body
    assert f'href="{url("key-list", world)}"' in body
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


@pytest.mark.parametrize("role", ROLES)
def test_review_detail__each_role__renders(browser_client, world, role):
    review = file_review(world)
    response = browser_client(world.users[role]).get(url("review-detail", world, review.public_id))
    assert response.status_code == 200


def test_navigation__screen_not_installed__not_linked(browser_client, world):
    body = browser_client(world.users[Role.ADMIN]).get(url("project-dashboard", world)).content
    # Screens of other issues appear once their `<area>-list` URL exists.
    for label, name in (("Gates", "gate-list"), ("Segments", "segment-list")):
        link = project_reverse(name, world.project.slug)
        if link is None:
            assert f">{label}</a>" not in body.decode()
        else:
            assert f'href="{link}"' in body.decode()


def test_project_switcher__lists_only_own_projects(browser_client, world, other_world):
    body = browser_client(world.users[Role.ADMIN]).get(url("project-dashboard", world))
    text = body.content.decode()
    assert reverse("project-dashboard", args=[world.project.slug]) in text
    assert other_world.project.name not in text


# --- Viewers see no edit controls and are refused ------------------------------------------


def test_viewer__sees_no_edit_controls(browser_client, world):
    review = file_review(world)
    client = browser_client(world.users[Role.VIEWER])
    keys = client.get(url("key-list", world)).content.decode()
    members = client.get(url("member-list", world)).content.decode()
    settings_page = client.get(url("project-settings", world)).content.decode()
    detail = client.get(url("review-detail", world, review.public_id)).content.decode()
    assert "Create key" not in keys
    assert "Rotate" not in keys
    assert "Deactivate" not in keys
    assert "Add or invite" not in members
    assert "Remove" not in members
    assert 'method="post"' not in settings_page.split("</header>")[1]
    assert "Approve" not in detail
    assert "Reject" not in detail
    assert "Commit" not in detail


def test_member__sees_review_controls_but_no_admin_controls(browser_client, world):
    review = file_review(world, author_role=Role.ADMIN)
    client = browser_client(world.users[Role.MEMBER])
    assert "Create key" not in client.get(url("key-list", world)).content.decode()
    assert "Approve" in client.get(url("review-detail", world, review.public_id)).content.decode()


def _admin_writes(world):
    key = ApiKey.objects.filter(project=world.project, kind="server").first()
    member = world.users[Role.MEMBER]
    return [
        (url("key-list", world), {"type": "server", "description": "x"}),
        (url("key-deactivate", world, key.public_id), {}),
        (url("key-rotate", world, key.public_id), {}),
        (url("member-list", world), {"email": "someone@example.com", "role": "admin"}),
        (url("member-role", world, member.pk), {"role": "admin"}),
        (url("member-remove", world, member.pk), {}),
        (url("settings-reviews", world), {"is_config_review_required": "on"}),
        (url("environment-create", world), {"name": "qa"}),
    ]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_admin_writes__non_admin__403_and_nothing_changes(browser_client, world, role):
    client = browser_client(world.users[role])
    before = audit_actions(world)
    for path, data in _admin_writes(world):
        assert client.post(path, data).status_code == 403, path
    assert audit_actions(world) == before
    assert ApiKey.objects.filter(project=world.project, is_active=False).count() == 0
    assert Membership.objects.get(user=world.users[Role.MEMBER]).role == Role.MEMBER


def test_review_actions__viewer__403(browser_client, world):
    review = file_review(world)
    client = browser_client(world.users[Role.VIEWER])
    for action in ("approve", "reject", "commit", "cancel"):
        response = client.post(url("review-action", world, review.public_id, action))
        assert response.status_code == 403
    review.refresh_from_db()
    assert review.status == ReviewStatus.PENDING


def test_writes__without_csrf_token__refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.ADMIN])
    page = client.get(url("key-list", world)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    response = client.post(url("key-list", world), {"type": "server"})
    assert response.status_code == 403
    assert (
        not AuditLog.objects.filter(project=world.project, action_type="key_create")
        .exclude(changes__description__new__startswith="Default")
        .exists()
    )


# --- API keys ------------------------------------------------------------------------------


def _secret_in(body: str) -> str:
    match = re.search(r'value="((?:secret|client|console)-[^"]+)"', body)
    assert match, "the secret is shown"
    return match.group(1)


def test_key_create__admin__secret_shown_once_and_audited(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(
        url("key-list", world),
        {"type": "client", "description": "iOS app", "environments": ["production"]},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = _secret_in(body)
    key = ApiKey.objects.get(secret_hash=hash_secret(secret))
    assert (key.kind, key.description, key.environments) == ("client", "iOS app", ["production"])
    entry = AuditLog.objects.get(
        project=world.project, action_type="key_create", entity_id=key.public_id
    )
    assert entry.actor_user == world.users[Role.ADMIN]
    # The list shows the hint, never the secret.
    listing = client.get(url("key-list", world)).content.decode()
    assert key.hint in listing
    assert secret not in listing


def test_key_create__no_kind__error_next_to_field(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    count = ApiKey.objects.count()
    response = client.post(url("key-list", world), {"description": "x"})
    assert response.status_code == 400
    assert 'id="id_type_error"' in response.content.decode()
    assert ApiKey.objects.count() == count


def test_key_create__unknown_environment__error_next_to_field(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(url("key-list", world), {"type": "server", "environments": ["moon"]})
    assert response.status_code == 400
    assert 'id="id_environments_error"' in response.content.decode()


def test_key_deactivate__admin__deactivated_and_audited(browser_client, world):
    key = ApiKey.objects.filter(project=world.project, kind="server").first()
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(url("key-deactivate", world, key.public_id), follow=True)
    key.refresh_from_db()
    assert not key.is_active
    assert "is deactivated" in response.content.decode()
    assert AuditLog.objects.filter(action_type="key_deactivate", entity_id=key.public_id).exists()


def test_key_rotate__admin__new_secret_once_old_key_deactivated(browser_client, world):
    old = ApiKey.objects.filter(project=world.project, kind="console").first()
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(url("key-rotate", world, old.public_id))
    secret = _secret_in(response.content.decode())
    new = ApiKey.objects.get(secret_hash=hash_secret(secret))
    old.refresh_from_db()
    assert new.rotated_from == old
    assert new.kind == "console"
    assert not old.is_active
    assert AuditLog.objects.filter(action_type="key_rotate", entity_id=old.public_id).exists()
    assert response["Cache-Control"] == "no-store"


def test_key_rotate__deactivated_key__message_and_no_new_key(browser_client, world):
    key = ApiKey.objects.filter(project=world.project, kind="server").first()
    client = browser_client(world.users[Role.ADMIN])
    client.post(url("key-deactivate", world, key.public_id))
    count = ApiKey.objects.count()
    response = client.post(url("key-rotate", world, key.public_id), follow=True)
    assert "cannot be rotated" in response.content.decode()
    assert ApiKey.objects.count() == count


def test_key_actions__unknown_or_other_project_key__404(browser_client, world, other_world):
    other_key = ApiKey.objects.filter(project=other_world.project).first()
    client = browser_client(world.users[Role.ADMIN])
    assert client.post(url("key-deactivate", world, "nope")).status_code == 404
    assert client.post(url("key-rotate", world, other_key.public_id)).status_code == 404
    other_key.refresh_from_db()
    assert other_key.is_active


def test_key_list__many_keys__paginated(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    for _ in range(50):
        client.post(url("key-list", world), {"type": "server"})
    page_two = client.get(url("key-list", world) + "?page=2").content.decode()
    assert 'aria-current="page"><span class="page-link">2<' in page_two


def test_key_list__get_only_once__secret_not_retrievable(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    secret = _secret_in(client.post(url("key-list", world), {"type": "server"}).content.decode())
    for screen in SCREENS:
        assert secret not in client.get(url(screen, world)).content.decode()


# --- Members -------------------------------------------------------------------------------


def test_member_add__admin__membership_and_audit(browser_client, world):
    newcomer = make_user("newcomer")
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(
        url("member-list", world), {"email": newcomer.email, "role": Role.VIEWER}, follow=True
    )
    assert Membership.objects.get(project=world.project, user=newcomer).role == Role.VIEWER
    assert f"{newcomer.email} is now viewer" in response.content.decode()
    assert audit_actions(world)[-1] == "member_add"


def test_member_add__malformed_email__error_next_to_field(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(url("member-list", world), {"email": "not-an-email", "role": "member"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_email_error"' in body
    assert not Invitation.objects.exists()


def test_member_role__admin__changed_and_audited(browser_client, world):
    member = world.users[Role.MEMBER]
    client = browser_client(world.users[Role.ADMIN])
    client.post(url("member-role", world, member.pk), {"role": Role.ADMIN})
    assert Membership.objects.get(project=world.project, user=member).role == Role.ADMIN
    assert audit_actions(world)[-1] == "member_role_update"


def test_member_role__last_admin_demoted__refused_with_message(browser_client, world):
    admin = world.users[Role.ADMIN]
    client = browser_client(admin)
    response = client.post(url("member-role", world, admin.pk), {"role": Role.VIEWER}, follow=True)
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.get(project=world.project, user=admin).role == Role.ADMIN


def test_member_remove__admin__removed_and_audited(browser_client, world):
    viewer = world.users[Role.VIEWER]
    client = browser_client(world.users[Role.ADMIN])
    client.post(url("member-remove", world, viewer.pk))
    assert not Membership.objects.filter(project=world.project, user=viewer).exists()
    assert audit_actions(world)[-1] == "member_remove"
    # The removed viewer no longer reaches the project.
    assert browser_client(viewer).get(url("project-dashboard", world)).status_code == 404


# --- Audit log -----------------------------------------------------------------------------


def test_audit_list__filters_by_entity_action_and_dates(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    key = ApiKey.objects.filter(project=world.project, kind="server").first()
    client.post(url("key-deactivate", world, key.public_id))
    base = url("audit-list", world)

    by_entity = client.get(base, {"entity_id": key.public_id}).content.decode()
    assert "<code>key_deactivate</code>" in by_entity
    assert "<code>member_add</code>" not in by_entity

    by_action = client.get(base, {"action_type": "member_add"}).content.decode()
    assert "<code>member_add</code>" in by_action
    assert "<code>key_deactivate</code>" not in by_action

    today = timezone.now().date()
    in_range = client.get(base, {"start_date": today.isoformat(), "end_date": today.isoformat()})
    assert "<code>key_deactivate</code>" in in_range.content.decode()
    tomorrow = (today + timedelta(days=1)).isoformat()
    future = client.get(base, {"start_date": tomorrow}).content.decode()
    assert "No entries match these filters" in future


def test_audit_list__invalid_dates__400_with_errors(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    response = client.get(
        url("audit-list", world), {"start_date": "2024-05-02", "end_date": "2024-05-01"}
    )
    assert response.status_code == 400
    assert "end date is before the start date" in response.content.decode()
    assert client.get(url("audit-list", world), {"start_date": "soon"}).status_code == 400


def test_audit_list__htmx_filter__returns_results_fragment(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    response = client.get(
        url("audit-list", world),
        {"action_type": "member_add"},
        headers={"HX-Request": "true", "HX-Target": "audit-results"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "<code>member_add</code>" in body


def test_audit_list__many_entries__paginated_keeping_filters(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    for _ in range(51):
        client.post(url("key-list", world), {"type": "server"})
    page = client.get(url("audit-list", world), {"action_type": "key_create"}).content.decode()
    assert "?action_type=key_create&amp;page=2" in page
    second = client.get(url("audit-list", world), {"action_type": "key_create", "page": 2})
    assert second.content.decode().count("<code>key_create</code>") == 54 - 50


# --- Reviews -------------------------------------------------------------------------------


def test_review_list__by_status(browser_client, world):
    pending = file_review(world, name="Pending!")
    cancelled = file_review(world, name="Cancelled!")
    client = browser_client(world.users[Role.ADMIN])
    client.post(url("review-action", world, cancelled.public_id, "cancel"))
    open_list = client.get(url("review-list", world)).content.decode()
    assert pending.public_id in open_list
    assert cancelled.public_id not in open_list
    cancelled_list = client.get(url("review-list", world), {"status": "cancelled"}).content.decode()
    assert cancelled.public_id in cancelled_list
    assert pending.public_id not in cancelled_list
    assert (
        cancelled.public_id
        in client.get(url("review-list", world), {"status": "all"}).content.decode()
    )


def test_review_list__none_open__empty_state(browser_client, world):
    body = browser_client(world.users[Role.VIEWER]).get(url("review-list", world)).content.decode()
    assert "Nothing to review" in body


def test_review_detail__shows_diff_against_current_state(browser_client, world):
    review = file_review(world, name="Acme Corp")
    body = (
        browser_client(world.users[Role.ADMIN])
        .get(url("review-detail", world, review.public_id))
        .content.decode()
    )
    assert 'data-field="name"' in body
    assert '<pre class="diff-value diff-value-old mb-0">Acme</pre>' in body
    assert '<pre class="diff-value diff-value-new mb-0">Acme Corp</pre>' in body


def test_review_approve__author__refused_with_message(browser_client, world):
    review = file_review(world, author_role=Role.MEMBER)
    client = browser_client(world.users[Role.MEMBER])
    page = client.get(url("review-detail", world, review.public_id)).content.decode()
    assert "another member must approve it" in page
    response = client.post(url("review-action", world, review.public_id, "approve"))
    assert response.status_code == 403
    assert "You cannot approve your own review." in response.content.decode()
    review.refresh_from_db()
    assert review.status == ReviewStatus.PENDING


def test_review_approve_then_commit__applies_change_once_with_audit(browser_client, world):
    review = file_review(world, author_role=Role.MEMBER, name="Acme Corp")
    admin = browser_client(world.users[Role.ADMIN])
    response = admin.post(
        url("review-action", world, review.public_id, "approve"),
        {"approve-reason": "Looks right"},
        follow=True,
    )
    assert "Review approved" in response.content.decode()
    review.refresh_from_db()
    assert review.status == ReviewStatus.APPROVED
    assert review.decisions.get().reason == "Looks right"
    assert Project.objects.get(pk=world.project.pk).name == "Acme"

    # The author may commit once approved.
    author = browser_client(world.users[Role.MEMBER])
    author.post(url("review-action", world, review.public_id, "commit"))
    review.refresh_from_db()
    assert review.status == ReviewStatus.COMMITTED
    assert Project.objects.get(pk=world.project.pk).name == "Acme Corp"
    assert audit_actions(world)[-4:] == [
        "project_review_create",
        "project_review_approve",
        "project_rename",
        "project_review_commit",
    ]
    again = author.post(url("review-action", world, review.public_id, "commit"))
    assert again.status_code == 400
    assert audit_actions(world).count("project_rename") == 1


def test_review_reject__without_reason__error_next_to_field(browser_client, world):
    review = file_review(world)
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(url("review-action", world, review.public_id, "reject"), {})
    assert response.status_code == 400
    assert 'id="id_reject-reason_error"' in response.content.decode()
    client.post(
        url("review-action", world, review.public_id, "reject"), {"reject-reason": "Not now"}
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.REJECTED
    assert review.decisions.get().reason == "Not now"
    assert audit_actions(world)[-1] == "project_review_reject"


def test_review_commit__stale__refused_with_clear_message(browser_client, world):
    review = file_review(world, author_role=Role.MEMBER, name="Acme Corp")
    admin = browser_client(world.users[Role.ADMIN])
    admin.post(url("review-action", world, review.public_id, "approve"))
    # The entity changes after the review was filed.
    submit_or_apply(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        change_type="test_views_rename",
        entity_id=world.project.slug,
        change={"name": "Acme!"},
        needs_review=False,
    )
    detail = admin.get(url("review-detail", world, review.public_id)).content.decode()
    assert "changed since this review was filed" in detail
    response = admin.post(url("review-action", world, review.public_id, "commit"))
    assert response.status_code == 409
    assert "This review is stale" in response.content.decode()
    assert Project.objects.get(pk=world.project.pk).name == "Acme!"


def test_review_cancel__other_member__refused_author__cancelled(browser_client, world):
    review = file_review(world, author_role=Role.MEMBER)
    other = make_user("acme-member-2")
    Membership.objects.create(user=other, project=world.project, role=Role.MEMBER)
    assert (
        browser_client(other)
        .post(url("review-action", world, review.public_id, "cancel"))
        .status_code
        == 403
    )
    browser_client(world.users[Role.MEMBER]).post(
        url("review-action", world, review.public_id, "cancel")
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.CANCELLED


def test_review__unknown_id_or_action__404(browser_client, world):
    review = file_review(world)
    client = browser_client(world.users[Role.ADMIN])
    assert client.get(url("review-detail", world, "nope")).status_code == 404
    assert client.post(url("review-action", world, review.public_id, "explode")).status_code == 404


# --- Settings ------------------------------------------------------------------------------


def test_settings_reviews__admin__toggled_and_audited(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    client.post(url("settings-reviews", world), {"is_config_review_required": "on"})
    assert Project.objects.get(pk=world.project.pk).requires_review
    assert audit_actions(world)[-1] == "project_review_settings_update"
    client.post(url("settings-reviews", world), {})
    assert not Project.objects.get(pk=world.project.pk).requires_review


def test_environment_create__admin__created_and_audited(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(url("environment-create", world), {"name": "qa"}, follow=True)
    assert Environment.objects.filter(project=world.project, name="qa").exists()
    assert audit_actions(world)[-1] == "environment_create"
    assert "<code>qa</code>" in response.content.decode()


def test_environment_create__duplicate__domain_error_next_to_field(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(url("environment-create", world), {"name": "production"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_name_error"' in body
    assert "already in use" in body


# --- Dashboard -----------------------------------------------------------------------------


def test_dashboard__counts_and_recent_activity(browser_client, world):
    file_review(world)
    body = browser_client(world.users[Role.VIEWER]).get(url("project-dashboard", world))
    text = body.content.decode()
    assert "1</strong> review waiting for approval" in text
    assert "Recent activity" in text
    assert "Project review create" in text


# --- Template helpers ----------------------------------------------------------------------


def test_status_badge__known_and_boolean_values():
    assert "text-bg-warning" in status_badge("pending")
    assert "text-bg-success" in status_badge("Launched")
    assert ">Deactivated<" in status_badge(False, "Active,Deactivated")
    assert "text-bg-secondary" in status_badge("something-new")


def test_relative_time__past_and_now():
    assert "ago" in relative_time(timezone.now() - timedelta(hours=3))
    assert "just now" in relative_time(timezone.now())
    assert relative_time(None) == "—"


def test_compare__rules_by_id__changed_percentage_and_conditions_marked():
    # Given a rule at 10 % for one email domain, and a change to 60 % with a second domain
    domain = {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@a.com"]}
    other = {"type": "country", "operator": "any", "targetValue": ["FR"]}
    current = {
        "rules": [{"id": "r1", "name": "Staff", "passPercentage": 10, "conditions": [domain]}],
        "description": "x",
    }
    proposed = {
        "rules": [
            {"id": "r1", "name": "Staff", "passPercentage": 60, "conditions": [domain, other]},
            {"id": "r2", "name": "New", "passPercentage": 5, "conditions": []},
        ],
        "description": "x",
        "expected_version": 3,
    }
    # When they are compared
    changed, unchanged = compare(current, proposed)
    # Then only the rules changed (the internal expected_version is not shown)
    assert unchanged == ["description"]
    (rules,) = changed
    assert rules.field == "rules"
    staff, new = rules.rules
    assert (staff.kind, staff.old.pass_percentage, staff.new.pass_percentage) == ("changed", 10, 60)
    assert staff.percentage_changed
    assert [(line.text, line.kind) for line in staff.new_conditions] == [
        ("Email ends with any of @a.com", "same"),
        ("Country is any of FR", "added"),
    ]
    assert (new.kind, new.old, new.new.pass_percentage) == ("added", None, 5)
    # And a value compared with an entity that does not exist is new
    (created,) = compare(None, {"name": "x"})[0]
    assert (created.kind, created.diffs[0].old, created.diffs[0].new) == ("added", "—", "x")


def test_area_url__role_below_the_screens_minimum__no_link(world):
    area = Area("Keys", ("missing-list", "key-list"), SECTION_PROJECT, minimum_role=Role.ADMIN)
    assert area_url(area, world.project.slug, Role.ADMIN) == url("key-list", world)
    assert area_url(area, world.project.slug, Role.VIEWER) is None
    assert area_url(Area("Nope", ("missing-list",), SECTION_PROJECT), world.project.slug) is None


@pytest.mark.parametrize(
    "entity_type", ["gate", "dynamic_config", "experiment", "layer", "holdout", "segment"]
)
def test_review_state__every_entity_type__registered_by_the_apps(entity_type):
    # The apps register how the review screen reads each kind in their ready(): no test or URL
    # module has to be imported for a reviewer to see the entity beside the change.
    assert review_state(entity_type) is not None


def test_review_detail__segment_rule_change__rule_cards_side_by_side(browser_client, world):
    # Given a segment of everyone at @a.com, and a review narrowing it to 25 %
    rule = {
        "id": "staff",
        "name": "Staff",
        "passPercentage": 100,
        "conditions": [
            {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@a.com"]}
        ],
    }
    admin = world.actor(Role.ADMIN)
    segment = segment_services.segment_create(
        project=world.project, actor=admin, name="Staff", type="rule_based", rules=[rule]
    )
    with review_forced():
        review = segment_services.segment_update_rules(
            project=world.project,
            actor=world.actor(Role.MEMBER),
            segment_id=segment.key,
            rules=[{**rule, "passPercentage": 25}],
        ).review
    # When an admin opens it
    body = (
        browser_client(world.users[Role.ADMIN])
        .get(url("review-detail", world, review.public_id))
        .content.decode()
    )
    # Then the rule is shown now and after, its percentage marked, with a link to the segment
    assert 'class="row g-2 mb-2 rule-pair rule-pair-changed" data-rule-id="staff"' in body
    assert "100% pass" in body
    assert "25% pass" in body
    assert f'href="/p/{world.project.slug}/segments/{segment.key}/"' in body


def test_review_detail__holdout_and_experiment_changes__values_before_and_after(
    browser_client, world
):
    # Given a holdout growing from 2 % to 8 % with a gate added, and an experiment's new
    # hypothesis, both waiting for review
    admin, member = world.actor(Role.ADMIN), world.actor(Role.MEMBER)
    gate = gate_services.gate_create(project=world.project, actor=admin, name="Checkout")
    holdout = holdout_services.holdout_create(
        project=world.project, actor=admin, name="Quarter", pass_percentage=2
    )
    experiment = experiment_services.experiment_create(
        project=world.project, actor=admin, name="Pricing", hypothesis="cheaper sells"
    )
    with review_forced():
        holdout_review = holdout_services.holdout_update(
            project=world.project,
            actor=member,
            holdout_id=holdout.slug,
            pass_percentage=8,
            gate_ids=[gate.slug],
        ).review
        experiment_review = experiment_services.experiment_update(
            project=world.project,
            actor=member,
            experiment_id=experiment.slug,
            hypothesis="dearer sells",
        ).review
    client = browser_client(world.users[Role.ADMIN])
    # When the admin opens them, then each field shows its value now and after
    body = client.get(url("review-detail", world, holdout_review.public_id)).content.decode()
    assert '<pre class="diff-value diff-value-old mb-0">2</pre>' in body
    assert '<pre class="diff-value diff-value-new mb-0">8</pre>' in body
    assert 'data-field="gate_ids"' in body
    body = client.get(url("review-detail", world, experiment_review.public_id)).content.decode()
    assert '<pre class="diff-value diff-value-old mb-0">cheaper sells</pre>' in body
    assert '<pre class="diff-value diff-value-new mb-0">dearer sells</pre>' in body


# --- Key scopes from the browser -------------------------------------------------------------


def test_key_create__read_only_scope__stored_and_enforced(browser_client, world, api):
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(
        url("key-list", world),
        {"type": "console", "description": "dashboards", "scopes": ["omni_read_only"]},
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(project=world.project, description="dashboards")
    assert key.scopes == ["omni_read_only"]
    secret = re.search(r"console-[A-Za-z0-9_-]{20,}", response.content.decode()).group(0)
    assert api.get("/console/v1/gates", key=secret).status_code == 200
    assert api.post("/console/v1/gates", {"name": "nope"}, key=secret).status_code == 403


def test_key_create__scope_of_another_kind__form_error_names_it(browser_client, world):
    client = browser_client(world.users[Role.ADMIN])
    response = client.post(
        url("key-list", world),
        {"type": "server", "description": "backend", "scopes": ["omni_read_only"]},
    )
    assert response.status_code == 400
    assert "Unknown scope &#x27;omni_read_only&#x27; for a server key" in response.content.decode()
    assert not ApiKey.objects.filter(project=world.project, description="backend").exists()
