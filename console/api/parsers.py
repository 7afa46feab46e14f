from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class ConsoleJSONParser(JSONParser):
    """DRF's JSON parser, also answering deeply nested bodies (RecursionError) with a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
