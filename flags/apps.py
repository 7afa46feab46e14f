from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Gates, configs, experiments and events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The change types of every entity kind, so that any process (a worker, a shell) can
        # commit a review of any of them without loading the URLs; how the review screen reads
        # each kind; and the eraser the user-data deletion job runs for this app's stores.
        from flags import (
            erasers,  # noqa: F401
            review_states,
        )
        from flags.services import configs, experiments, gates, holdouts, kernel, layers

        for kind in (
            gates.GATES,
            configs.DYNAMIC_CONFIGS,
            experiments.EXPERIMENTS,
            layers.LAYERS,
            holdouts.HOLDOUTS,
        ):
            kernel.register_kind(kind)
        review_states.register()
