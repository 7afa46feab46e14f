"""Dump every table of the test database as text, to search it for ids."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable

from django.db import connection


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def dump_tables() -> dict[str, list[str]]:
    """``{table: [one text line per row]}`` for every table (and partition) of the database."""
    out: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            out[table] = ["\t".join(_text(v) for v in row) for row in cursor.fetchall()]
    return out


def tables_mentioning(dump: dict[str, list[str]], needles: Iterable[str]) -> dict[str, int]:
    """``{table: rows mentioning any needle}`` for the tables where some row does."""
    needles = list(needles)
    found = {}
    for table, rows in dump.items():
        count = sum(1 for row in rows if any(needle in row for needle in needles))
        if count:
            found[table] = count
    return found


def pg_dump_text() -> str | None:
    """``pg_dump --data-only`` of the test database (committed data), or None without pg_dump
    or on another database."""
    if connection.vendor != "postgresql" or shutil.which("pg_dump") is None:
        return None
    settings = connection.settings_dict
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    command = ["pg_dump", "--data-only", "--no-owner", "--dbname", settings["NAME"]]
    if settings.get("HOST"):
        command += ["--host", settings["HOST"]]
    if settings.get("PORT"):
        command += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        command += ["--username", settings["USER"]]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"pg_dump failed: {result.stderr}")
    return result.stdout
