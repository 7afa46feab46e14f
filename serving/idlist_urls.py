"""Signed ID-list file URLs, so every SDK can download the files the ``get_id_lists`` manifest
names: the legacy ``statsig-node`` fetches them without its ``STATSIG-API-KEY`` header.

A URL carries ``?token=<signed "project:file">`` (Django's signing with the secret key and a
timestamp), so it opens one file of one project, for ``TOKEN_MAX_AGE_SECONDS``: long after the
SDK's next manifest poll (which hands out fresh tokens), short enough that a leaked URL dies.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core import signing
from django.urls import reverse

TOKEN_PARAMETER = "token"
TOKEN_MAX_AGE_SECONDS = 3600
_SALT = "serving.idlist-file-url"


def file_token(*, project_id: int, file_id: str) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(f"{project_id}:{file_id}")


def signed_file_path(*, project_id: int, file_id: str) -> str:
    """The path of a file's ``id_list_file`` URL, with the token that opens it."""
    token = file_token(project_id=project_id, file_id=file_id)
    path = reverse("sdk-id-list-file", args=[file_id])
    return f"{path}?{urlencode({TOKEN_PARAMETER: token})}"


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
