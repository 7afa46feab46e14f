"""Every data-plane route, in one table: what ``console.urls`` is to Django. Each package lists
its own in ``routes.py``; add a package's table here."""

from events.ingest.routes import ROUTES as INGEST_ROUTES
from privacy.api.routes import ROUTES as PRIVACY_ROUTES
from serving.routes import ROUTES as SERVING_ROUTES

DATA_PLANE_ROUTES = [*SERVING_ROUTES, *INGEST_ROUTES, *PRIVACY_ROUTES]
