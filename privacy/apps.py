from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy and user-data deletion"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The console's erasers, and the tasks the services queue by name.
        from privacy import erasers_console, tasks  # noqa: F401
