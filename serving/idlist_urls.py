"""Signed ID-list file URLs on the server's public address (``public_url``), so every SDK can download the files the ``get_id_lists`` manifest
names: the legacy ``statsig-node`` fetches them without its ``STATSIG-API-KEY`` header.

A URL carries ``?token=<signed "project:file">`` (Django's signing with the secret key and a
timestamp), so it opens one file of one project, for ``TOKEN_MAX_AGE_SECONDS``: long after the
SDK's next manifest poll (which hands out fresh tokens), short enough that a leaked URL dies.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing

from console import wire

TOKEN_PARAMETER = "token"
UNAUTHORIZED = (
    "Send an active server secret key in the STATSIG-API-KEY header, or use the URL from "
    "get_id_lists: its token is missing, expired or made for another file."
)
TOKEN_MAX_AGE_SECONDS = 3600
_SALT = "serving.idlist-file-url"


def file_token(*, project_id: int, file_id: str) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(f"{project_id}:{file_id}")


def signed(path: str, *, project_id: int, file_id: str) -> str:
    """``path`` (a file's ``id_list_file`` path) with the token that opens it."""
    token = file_token(project_id=project_id, file_id=file_id)
    return f"{path}?{urlencode({TOKEN_PARAMETER: token})}"


def public_url(request: wire.Request, path: str) -> str:
    """``path`` on the address SDKs reach this server at: ``CONSOLE_PUBLIC_URL`` when set (so a
    forged ``Host`` header cannot point SDKs elsewhere), else the request's own address, which
    the dispatcher has checked against ``ALLOWED_HOSTS``."""
    if settings.CONSOLE_PUBLIC_URL:
        return settings.CONSOLE_PUBLIC_URL + path
    return request.absolute_url(path)


def project_for_token(token: str | None, *, file_id: str) -> int | None:
    """The project whose file ``file_id`` this token opens; None when the token is missing,
    forged, expired or made for another file."""
    if not token:
        return None
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=TOKEN_MAX_AGE_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    project, _, signed_file = value.partition(":")
    if signed_file != file_id or not project.isdigit():
        return None
    return int(project)


def project_for_request(query: Mapping[str, str], *, file_id: str) -> int:
    """The project whose file the request's token opens, or a 401 naming what to send."""
    project_id = project_for_token(query.get(TOKEN_PARAMETER), file_id=file_id)
    if project_id is None:
        raise wire.Refusal(401, UNAUTHORIZED)
    return project_id
