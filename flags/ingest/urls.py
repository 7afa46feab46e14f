from django.urls import path

from flags.ingest import views

urlpatterns = [
    path("log_event", views.log_event, name="statsig-log-event"),
    path("log_custom_exposure", views.log_custom_exposure, name="statsig-log-custom-exposure"),
]
