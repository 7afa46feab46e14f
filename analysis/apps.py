from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Experiment analysis"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the Pulse tasks, which services queue by name.
        from analysis import tasks  # noqa: F401
