from django.urls import re_path

from flags.posthog import views

urlpatterns = [
    re_path(r"^batch/?$", views.capture, {"route": "batch"}, name="posthog-batch"),
    re_path(r"^(?:capture|e|i/v0/e|track)/?$", views.capture, name="posthog-capture"),
    re_path(r"^decide/?$", views.decide, name="posthog-decide"),
    re_path(r"^flags/definitions/?$", views.flag_definitions, name="posthog-flag-definitions"),
    re_path(r"^flags/?$", views.feature_flags, name="posthog-flags"),
    re_path(
        r"^api/feature_flag/local_evaluation/?$",
        views.flag_definitions,
        name="posthog-local-evaluation",
    ),
]
