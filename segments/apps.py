from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the segments' review change kinds and the privacy eraser.
        from segments import erasers, services  # noqa: F401

        erasers.register()
