"""Mounted under ``/console/v1/``."""

from django.urls import path

from console.api.reviews import review_urlpatterns
from segments import services
from segments.api import reviews, views

urlpatterns = [
    path("segments", views.SegmentListCreateView.as_view(), name="capi-segments"),
    path("segments/<str:segment_id>", views.SegmentDetailView.as_view(), name="capi-segment"),
    path(
        "segments/<str:segment_id>/archive",
        views.SegmentArchiveView.as_view(),
        name="capi-segment-archive",
    ),
    path(
        "segments/<str:segment_id>/conditional",
        views.SegmentConditionalView.as_view(),
        name="capi-segment-conditional",
    ),
    path(
        "segments/<str:segment_id>/id_list",
        views.SegmentIdListView.as_view(),
        name="capi-segment-id-list",
    ),
    path(
        "segments/<str:segment_id>/id_list/reset",
        views.SegmentIdListResetView.as_view(),
        name="capi-segment-id-list-reset",
    ),
    path(
        "segments/<str:segment_id>/idlist_metadata",
        views.SegmentIdListMetadataView.as_view(),
        name="capi-segment-idlist-metadata",
    ),
    *review_urlpatterns(
        "segments",
        entity_type=services.ENTITY_TYPE,
        entity_label="Segment",
        list_view=reviews.SegmentReviewListView,
    ),
]
