from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Console: projects, members, keys, audit log and reviews"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the STATSIG-API-KEY security scheme with drf-spectacular.
        from console.api import schema  # noqa: F401
