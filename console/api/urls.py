from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView

from console.api import keys, project
from console.api.docs import ApiDocsView

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", ApiDocsView.as_view(url_name="openapi"), name="openapi-docs"),
    path("settings/reviews", project.ReviewSettingsView.as_view(), name="capi-review-settings"),
    path("environments", project.EnvironmentListView.as_view(), name="capi-environments"),
    path("audit_logs", project.AuditLogListView.as_view(), name="capi-audit-logs"),
    path("keys", keys.KeyListCreateView.as_view(), name="capi-keys"),
    path("keys/<str:key_id>", keys.KeyDetailView.as_view(), name="capi-key"),
    path(
        "keys/<str:key_id>/deactivate", keys.KeyDeactivateView.as_view(), name="capi-key-deactivate"
    ),
    path("keys/<str:key_id>/rotate", keys.KeyRotateView.as_view(), name="capi-key-rotate"),
    path("", include("flags.api.urls")),
    path("", include("segments.api.urls")),
    path("", include("analysis.api.urls")),
]
