"""The floor of an HTTP server: a bare WSGI hello-world answering a small JSON body, served by
gunicorn and by granian in ``bench/http_floor.py`` next to the product's endpoints."""

BODY = b'{"ok":true}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
