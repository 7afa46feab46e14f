"""The floor of an HTTP server: a bare WSGI hello-world answering a small JSON body, served by
gunicorn and by granian in ``bench/http_floor.py`` next to the product's endpoints. A request
body is read (and ignored), so the same POST the product answers can be timed against it."""

BODY = b'{"ok":true}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    length = environ.get("CONTENT_LENGTH")
    if length:
        environ["wsgi.input"].read(int(length))
    start_response("200 OK", HEADERS)
    return [BODY]
