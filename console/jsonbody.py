"""What a failed ``json.loads`` of a request body can raise. Deep nesting raises RecursionError
rather than ValueError; every endpoint must answer it with a 400 like any other malformed body."""

JSON_PARSE_ERRORS: tuple[type[Exception], ...] = (ValueError, UnicodeDecodeError, RecursionError)
