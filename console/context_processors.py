from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def current_project(request: HttpRequest) -> dict[str, Any]:
    """The project, role and project list of a browser request, for the shell and navigation."""
    return {
        "project": getattr(request, "project", None),
        "role": getattr(request, "role", None),
        "can_edit": getattr(request, "can_edit", False),
        "is_admin": getattr(request, "is_admin", False),
        "user_projects": getattr(request, "user_projects", ()),
    }
