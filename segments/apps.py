from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the segments' review change kinds, the privacy eraser and the segment specs
        # of every compiled ruleset.
        from ruleset.compiler import register_gate_specs
        from segments import erasers, ruleset, services  # noqa: F401

        erasers.register()
        register_gate_specs(lambda project: ruleset.segment_specs(project=project))
