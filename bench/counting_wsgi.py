"""``console.wsgi.application`` with a count of the SQL statements each request ran, in the
``X-Bench-SQL`` response header (``bench/http_floor.py`` sums it in wrk). Queries made by
background threads (the exposure flusher) are not a request's and are not counted."""

import threading

from django.db import connection

from console.wsgi import application as product

_local = threading.local()


def _count(execute, sql, params, many, context):
    _local.queries += 1
    return execute(sql, params, many, context)


def application(environ, start_response):
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)
    _local.queries = 0
    captured = []
    result = product(
        environ, lambda status, headers, exc_info=None: captured.append((status, headers))
    )
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = captured[0]
    start_response(status, [*headers, ("X-Bench-SQL", str(_local.queries))])
    return [body]
