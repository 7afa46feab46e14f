from django.apps import AppConfig


class FlagEventsConfig(AppConfig):
    name = "events"
    label = "flag_events"
    verbose_name = "Events, exposures, persons and groups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from events import erasers, exposures  # noqa: F401  (exposures: the exit flush)

        erasers.register()
