"""The browser console's shared screens. Project screens live under ``p/<project_slug>/`` and are
named ``<area>-list`` (plus ``<area>-detail``, ``<area>-create``...): the navigation shows an
area as soon as its ``<area>-list`` name resolves (see ``console.templatetags.console_tags``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from console.web import audit, connect, invitations, keys, members, projects, reviews
from console.web.authentication import LoginForm

P = "p/<slug:project_slug>/"

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", invitations.invitation_accept, name="invitation-accept"),
    # LOGIN_REDIRECT_URL: the user's first project, or the "no project yet" page.
    path("", projects.home, name="dashboard"),
    path("projects/new/", projects.project_create, name="project-create"),
    path(P, projects.project_dashboard, name="project-dashboard"),
    path(P + "connect/", connect.connect_sdk, name="connect-sdk"),
    path(P + "connect/status/", connect.connect_status, name="connect-status"),
    path(P + "keys/", keys.key_list, name="key-list"),
    path(P + "keys/usage/", keys.key_usage, name="key-usage"),
    path(P + "keys/<str:public_id>/deactivate/", keys.key_deactivate, name="key-deactivate"),
    path(P + "keys/<str:public_id>/rotate/", keys.key_rotate, name="key-rotate"),
    path(P + "members/", members.member_list, name="member-list"),
    path(P + "members/<int:user_id>/role/", members.member_role, name="member-role"),
    path(P + "members/<int:user_id>/remove/", members.member_remove, name="member-remove"),
    path(
        P + "members/invitations/<int:invitation_id>/withdraw/",
        members.invitation_revoke,
        name="invitation-revoke",
    ),
    path(P + "audit/", audit.audit_list, name="audit-list"),
    path(P + "audit/<int:entry_id>/", audit.audit_entry, name="audit-entry"),
    path(P + "reviews/", reviews.review_list, name="review-list"),
    path(P + "reviews/<str:review_id>/", reviews.review_detail, name="review-detail"),
    path(
        P + "reviews/<str:review_id>/<slug:action>/",
        reviews.review_action,
        name="review-action",
    ),
    path(P + "settings/", projects.project_settings, name="project-settings"),
    path(P + "settings/reviews/", projects.settings_reviews, name="settings-reviews"),
    path(P + "settings/environments/", projects.environment_create, name="environment-create"),
]
