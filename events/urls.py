"""Browser screen of the event store, under ``p/<project_slug>/events/``."""

from django.urls import path

from events import views

P = "p/<slug:project_slug>/"

urlpatterns = [
    path(P + "events/", views.event_list, name="event-list"),
    path(P + "events/", views.event_list, name="events"),
    path(P + "events/tail/", views.event_tail, name="event-tail"),
]
