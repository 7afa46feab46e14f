"""The WSGI entry point (``console.wsgi:application``) of every server: ``manage.py serve``
(granian), gunicorn, the test live server. The data-plane routes are answered by
``console.wire``'s dispatcher, everything else by Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

django_application = get_wsgi_application()

# The route tables import models: only once Django is set up.
from console.routes import DATA_PLANE_ROUTES  # noqa: E402
from console.wire import Application  # noqa: E402

application = Application(DATA_PLANE_ROUTES, fallback=django_application)
