from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the segments' kind with the entity core (its review change types) and with
        # the review screen, the ID-list change types, the privacy eraser and the segment specs
        # of every compiled ruleset; the audit log reads segments' tags from here.
        from console.services.audit import register_tag_source
        from flags import review_states
        from flags.services import kernel
        from ruleset.compiler import register_gate_specs
        from segments import erasers, ruleset, selectors, services

        kernel.register_kind(services.SEGMENTS)
        review_states.register(services.SEGMENTS, url_name="segment-detail")
        erasers.register()
        register_gate_specs(lambda project: ruleset.segment_specs(project=project))
        register_tag_source(selectors.tagged_segments)
