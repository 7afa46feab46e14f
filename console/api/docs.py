"""The console API's reference page: Redoc from a static file shipped with the console (works
offline, no CDN), reading the OpenAPI document of this server."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

# Redoc renders with styled-components (style elements it creates at run time) and runs its
# search in a worker made from a blob: URL; nothing is loaded from another origin.
API_DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'none'; "
    "frame-ancestors 'none'"
)


class ApiDocsView(SpectacularRedocView):
    template_name = "console/api_docs.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = API_DOCS_CSP
        return response
