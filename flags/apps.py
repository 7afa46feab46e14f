from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Gates, configs, experiments and events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The change types of every entity kind, so that any process (a worker, a shell) can
        # commit a review of any of them without loading the URLs; how the review screen reads
        # each kind; and the eraser the user-data deletion job runs for this app's stores.
        from console.services.audit import register_tag_source
        from flags import erasers, review_states, selectors  # noqa: F401
        from flags.services import kernel
        from flags.services.kinds import FLAG_KINDS

        for kind in FLAG_KINDS:
            kernel.register_kind(kind)
            review_states.register(kind, url_name=review_states.DETAIL_URL_NAMES[kind.entity_type])
        # Audit entries of gates, configs, experiments, layers and holdouts carry their tags.
        register_tag_source(selectors.tagged_entities)
