from django.apps import AppConfig


class RulesetConfig(AppConfig):
    name = "ruleset"
    verbose_name = "Compiled ruleset"

    def ready(self) -> None:
        # Registers the rebuild task, which ``ruleset.changes`` sends by name.
        from ruleset import tasks  # noqa: F401
