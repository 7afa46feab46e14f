from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the segments' kind with the entity core (its review change types), the
        # ID-list change types, the privacy eraser and the segment specs of every compiled
        # ruleset.
        from flags.services import kernel
        from ruleset.compiler import register_gate_specs
        from segments import erasers, ruleset, services

        kernel.register_kind(services.SEGMENTS)
        erasers.register()
        register_gate_specs(lambda project: ruleset.segment_specs(project=project))
