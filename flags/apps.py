from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Gates, configs, experiments and events"
    default_auto_field = "django.db.models.BigAutoField"
