from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Console: projects, members, keys, audit log and reviews"
    default_auto_field = "django.db.models.BigAutoField"
