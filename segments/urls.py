"""Browser screens of segments, under ``p/<project_slug>/segments/``."""

from django.urls import path

from flags.urls import version_urls
from flags.views.generic import VersionsScreen
from segments import views
from segments.services import SEGMENTS

P = "p/<slug:project_slug>/segments/"

urlpatterns = [
    path(P, views.segment_list, name="segment-list"),
    path(P + "new/", views.segment_create, name="segment-create"),
    path(P + "<str:segment_id>/", views.segment_detail, name="segment-detail"),
    path(P + "<str:segment_id>/rules/", views.segment_rules, name="segment-rules"),
    path(P + "<str:segment_id>/ids/<slug:action>/", views.segment_ids, name="segment-ids"),
    path(P + "<str:segment_id>/upload/", views.segment_upload, name="segment-upload"),
    path(
        P + "<str:segment_id>/upload/<str:job_id>/",
        views.segment_upload_status,
        name="segment-upload-status",
    ),
    path(P + "<str:segment_id>/lookup/", views.segment_lookup, name="segment-lookup"),
    path(P + "<str:segment_id>/archive/", views.segment_archive, name="segment-archive"),
    path(P + "<str:segment_id>/delete/", views.segment_delete, name="segment-delete"),
    *version_urls(P.rstrip("/"), VersionsScreen(SEGMENTS, "segment", "segment")),
]
