"""The browser console's shared screens. Project screens live under ``p/<project_slug>/`` and are
named ``<area>-list`` (plus ``<area>-detail``, ``<area>-create``...): the navigation shows an
area as soon as its ``<area>-list`` name resolves (see ``console.templatetags.console_tags``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from console import views

P = "p/<slug:project_slug>/"

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # LOGIN_REDIRECT_URL: the user's first project, or the "no project yet" page.
    path("", views.home, name="dashboard"),
    path("projects/new/", views.project_create, name="project-create"),
    path(P, views.project_dashboard, name="project-dashboard"),
    path(P + "keys/", views.key_list, name="key-list"),
    path(P + "keys/<str:public_id>/deactivate/", views.key_deactivate, name="key-deactivate"),
    path(P + "keys/<str:public_id>/rotate/", views.key_rotate, name="key-rotate"),
    path(P + "members/", views.member_list, name="member-list"),
    path(P + "members/<int:user_id>/role/", views.member_role, name="member-role"),
    path(P + "members/<int:user_id>/remove/", views.member_remove, name="member-remove"),
    path(P + "audit/", views.audit_list, name="audit-list"),
    path(P + "reviews/", views.review_list, name="review-list"),
    path(P + "reviews/<str:review_id>/", views.review_detail, name="review-detail"),
    path(
        P + "reviews/<str:review_id>/<slug:action>/",
        views.review_action,
        name="review-action",
    ),
    path(P + "settings/", views.project_settings, name="project-settings"),
    path(P + "settings/reviews/", views.settings_reviews, name="settings-reviews"),
    path(P + "settings/environments/", views.environment_create, name="environment-create"),
]
