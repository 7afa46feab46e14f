from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the segments' review change kinds, how the review screen reads a segment,
        # the privacy eraser and the segment specs of every compiled ruleset.
        from ruleset.compiler import register_gate_specs
        from segments import erasers, review_states, ruleset, services  # noqa: F401

        erasers.register()
        review_states.register()
        register_gate_specs(lambda project: ruleset.segment_specs(project=project))
