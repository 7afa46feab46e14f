from django.urls import path

from privacy.api import views

urlpatterns = [
    path("delete_user_data", views.delete_user_data, name="statsig-delete-user-data"),
    path(
        "get_delete_user_data_request_status",
        views.get_delete_user_data_request_status,
        name="statsig-delete-user-data-status",
    ),
]
