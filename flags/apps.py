from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Gates, configs, experiments and events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the eraser the user-data deletion job runs for this app's stores.
        from flags import erasers  # noqa: F401
