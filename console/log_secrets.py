"""Keeping server secrets out of logs. Imports nothing of Django's models, so ``LOGGING`` can
name ``MaskSecrets`` (logging is configured before the apps load)."""

from __future__ import annotations

import logging
import re

# The server secret travels in the path of download_config_specs/<key>.json, and a careless
# client may put a key in any URL.
_SECRET_IN_PATH = re.compile(r"(/download_config_specs/)[^/?\s]+?(\.json)")
_SERVER_SECRET = re.compile(r"secret-[^\s/?&#\"']+")


def masked(text: str) -> str:
    """``text`` with every server secret (and the key part of a download path) as ``***``."""
    return _SERVER_SECRET.sub("secret-***", _SECRET_IN_PATH.sub(r"\1***\2", text))


class MaskSecrets(logging.Filter):
    """A logging filter (``LOGGING`` puts it on ``django.server``, the log of Django's own
    development server) that masks server secrets in the line, as the access log does."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        line = masked(message)
        if line != message:
            record.msg, record.args = line, None
        return True
