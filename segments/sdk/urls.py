"""Mounted at ``/v1/``."""

from django.urls import path

from segments.sdk import views

urlpatterns = [
    path("get_id_lists", views.get_id_lists, name="sdk-get-id-lists"),
    path("id_list_file/<str:file_id>", views.id_list_file, name="sdk-id-list-file"),
]
