from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy and user-data deletion"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from privacy import erasers_console  # noqa: F401  (registers the console's erasers)
