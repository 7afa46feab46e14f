"""Statsig's user-data deletion endpoints, served by the data plane's dispatcher."""

from console import wire
from privacy.api import views

_DELETION = {
    "database": True,
    "method_note": "Deletion requests cannot be cancelled or edited.",
}

ROUTES = [
    wire.Route("/v1/delete_user_data", views.delete_user_data, **_DELETION),
    wire.Route(
        "/v1/get_delete_user_data_request_status",
        views.get_delete_user_data_request_status,
        **_DELETION,
    ),
]
