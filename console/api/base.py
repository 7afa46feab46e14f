"""The base of every ``console/v1`` endpoint: key authentication, the project the key belongs to,
the acting identity, body limits, per-project mutation rate limits and Statsig's envelopes."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from console import ratelimit
from console.actors import Actor
from console.api.authentication import (
    MUTATING_METHODS,
    ConsoleKeyAuthentication,
    check_scopes,
    console_key_role,
)
from console.api.pagination import PageRequest, page_request, pagination_block
from console.api.review_shape import review_output
from console.jsonbody import discard_unread_body
from console.models import ApiKey, Project
from console.services.reviews import ChangeOutcome

FALSY_HEADER_VALUES = frozenset({"", "0", "false", "no", "off"})
REVIEW_SUBMITTED_MESSAGE = "Change submitted for review."


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."


def respects_review_settings(request: Request) -> bool:
    value = request.headers.get("x-respect-review-settings")
    return value is not None and value.strip().lower() not in FALSY_HEADER_VALUES


def _refuse_nul_characters(request: Request, path_values: dict[str, Any]) -> None:
    """A NUL character can name nothing stored (PostgreSQL text refuses it): 400 naming the
    path or query parameter, before any lookup."""
    for name, value in [*path_values.items(), *request.query_params.lists()]:
        values = value if isinstance(value, list) else [value]
        if any("\x00" in str(item) for item in values):
            raise exceptions.ValidationError({name: ["Must not contain NUL characters."]})


class ConsoleAPIView(APIView):
    authentication_classes = [ConsoleKeyAuthentication]
    permission_classes: list = []
    max_body_bytes: int | None = None
    # An ApiKeyScope the calling key must hold (beyond read/write), e.g. can_access_keys.
    required_scope: str | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        limit = self.max_body_bytes or settings.CONSOLE_API_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            discard_unread_body(request)
            raise RequestTooLarge(f"Request body is too large: at most {limit} bytes.")
        super().initial(request, *args, **kwargs)
        _refuse_nul_characters(request, kwargs)
        check_scopes(request.auth, method=request.method, required_scope=self.required_scope)
        if request.method in MUTATING_METHODS:
            wait = ratelimit.hit(
                f"console-api:{request.auth.project_id}",
                limit=settings.CONSOLE_API_MUTATIONS_PER_WINDOW,
                window_seconds=settings.CONSOLE_API_MUTATION_WINDOW_SECONDS,
            )
            if wait is not None:
                raise exceptions.Throttled(wait=wait)

    @cached_property
    def project(self) -> Project:
        return Project.objects.get(pk=self.request.auth.project_id)

    @cached_property
    def actor(self) -> Actor:
        api_key = ApiKey.objects.get(pk=self.request.auth.pk)
        return Actor.for_console_key(
            api_key,
            role=console_key_role(api_key),
            respects_reviews=respects_review_settings(self.request),
        )

    # -- input -----------------------------------------------------------------------------
    def validated(self, serializer_class: type[Serializer], data: Any = None, **kwargs) -> Any:
        serializer = serializer_class(
            data=self.request.data if data is None else data, context={"view": self}, **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def page(self) -> PageRequest:
        return page_request(self.request.query_params)

    # -- output ----------------------------------------------------------------------------
    @staticmethod
    def respond(message: str, data: Any = None, status_code: int = 200) -> Response:
        body: dict[str, Any] = {"message": message}
        if data is not None:
            body["data"] = data
        return Response(body, status=status_code)

    def respond_page(
        self, message: str, items: list[Any], page: PageRequest, total: int
    ) -> Response:
        return Response(
            {
                "message": message,
                "data": items,
                "pagination": pagination_block(
                    path=self.request.path,
                    params=self.request.query_params,
                    page=page,
                    total=total,
                ),
            }
        )

    def respond_outcome(
        self,
        outcome: ChangeOutcome,
        message: str,
        render: Any,
        status_code: int = 200,
    ) -> Response:
        """A change either applied (``render(result)`` under ``message``) or filed for review (202)."""
        if outcome.review is not None:
            return self.respond(REVIEW_SUBMITTED_MESSAGE, review_output(outcome.review), 202)
        return self.respond(message, render(outcome.result), status_code)
