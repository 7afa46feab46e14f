"""Request bodies: what a failed ``json.loads`` of one can raise, and how to refuse one unread.

Deep nesting raises RecursionError rather than ValueError; every endpoint must answer it with a
400 like any other malformed body."""

JSON_PARSE_ERRORS: tuple[type[Exception], ...] = (ValueError, UnicodeDecodeError, RecursionError)

# A body refused for its declared size is still read (and dropped) up to this much: a server
# that answers and closes while the client is still sending makes the client's socket fail
# (broken pipe, reset) before it can read the refusal. Past this, the connection is simply cut.
DISCARD_AT_MOST_BYTES = 32 * 1024 * 1024
_DISCARD_CHUNK_BYTES = 64 * 1024


def discard_unread_body(request) -> None:
    """Reads and drops a body that will not be used, in small chunks (never held in memory)."""
    remaining = DISCARD_AT_MOST_BYTES
    try:
        while remaining > 0:
            chunk = request.read(min(_DISCARD_CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
    except OSError:  # the client gave up sending
        return
