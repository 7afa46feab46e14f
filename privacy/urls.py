from django.urls import path

from privacy import views

P = "p/<slug:project_slug>/privacy/"

urlpatterns = [
    path(P, views.privacy_list, name="privacy-list"),
    path(P + "table/", views.privacy_table, name="privacy-table"),
    path(P + "process/", views.privacy_process_now, name="privacy-process-now"),
]
