"""The review queue and a review's page: the change against the entity's current state, approve,
reject, commit.

Every write goes through a console service; its domain errors are shown next to the form field
they name. Viewers see no edit controls, and the server refuses their writes with 403 whatever the
page showed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from console import selectors
from console.errors import DomainError, NotFound
from console.forms import (
    REVIEW_FILTERS,
    ReviewApproveForm,
    ReviewRejectForm,
)
from console.models import (
    OPEN_REVIEW_STATUSES,
    Project,
    Review,
    ReviewStatus,
    Role,
)
from console.services import reviews as review_services
from console.web.shell import (
    add_domain_errors,
    paginate,
    project_view,
)

# How the review screen reads an entity's current state, to show a review's change against it.
# Apps register one loader per entity type, returning the entity in the shape their changes
# use (e.g. the console API output), or None when it does not exist:
#
#     @register_review_state("gate")
#     def _gate_state(project, entity_id): ...
ReviewStateLoader = Callable[[Project, str], Mapping[str, Any] | None]
_REVIEW_STATE_LOADERS: dict[str, ReviewStateLoader] = {}


def register_review_state(entity_type: str) -> Callable[[ReviewStateLoader], ReviewStateLoader]:
    def decorator(loader: ReviewStateLoader) -> ReviewStateLoader:
        _REVIEW_STATE_LOADERS[entity_type] = loader
        return loader

    return decorator


_MISSING = object()


def _dump(value: Any) -> str | None:
    return None if value is _MISSING else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _diff_into(path: str, old: Any, new: Any, rows: list[dict[str, Any]]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping) and old and new:
        for key in [*new, *(k for k in old if k not in new)]:
            _diff_into(f"{path}.{key}", old.get(key, _MISSING), new.get(key, _MISSING), rows)
        return
    if isinstance(old, list) and isinstance(new, list) and old and new:
        for index in range(max(len(old), len(new))):
            _diff_into(
                f"{path}[{index}]",
                old[index] if index < len(old) else _MISSING,
                new[index] if index < len(new) else _MISSING,
                rows,
            )
        return
    if old is _MISSING:
        kind = "added"
    elif new is _MISSING:
        kind = "removed"
    elif old == new:
        kind = "unchanged"
    else:
        kind = "changed"
    rows.append({"path": path, "old": _dump(old), "new": _dump(new), "kind": kind})


def review_diff(
    change: Mapping[str, Any], current: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Rows ``{path, old, new, kind}`` comparing each field the change sets with the entity's
    current value, down to the leaves where both sides have the same shape
    (``rules[0].conditions[1].operator``). ``old``/``new`` are JSON, None when absent."""
    rows: list[dict[str, Any]] = []
    for field, proposed in change.items():
        existing = current.get(field, _MISSING) if current is not None else _MISSING
        _diff_into(str(field), existing, proposed, rows)
    return rows


def _current_state(review: Review) -> tuple[Mapping[str, Any] | None, bool]:
    """The entity's state and whether it could be read."""
    loader = _REVIEW_STATE_LOADERS.get(review.entity_type)
    if loader is None:
        return None, False
    try:
        return loader(review.project, review.entity_id), True
    except DomainError:
        return None, True


def _current_version(review: Review) -> int | None:
    try:
        kind = review_services.change_kind(review.change_type)
    except DomainError:
        return None
    return kind.current_version(review.project, review.entity_id)


@project_view(Role.VIEWER)
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    current = request.GET.get("status", "open")
    if current not in REVIEW_FILTERS:
        current = "open"
    reviews = selectors.review_list(
        project=request.project, statuses=[s.value for s in REVIEW_FILTERS[current][1]]
    )
    open_count = selectors.review_list(
        project=request.project, statuses=list(OPEN_REVIEW_STATUSES)
    ).count()
    return render(
        request,
        "console/review_list.html",
        {
            "page": paginate(request, reviews),
            "current": current,
            "tabs": [(key, label) for key, (label, _statuses) in REVIEW_FILTERS.items()],
            "open_count": open_count,
        },
    )


def _review_context(
    request: HttpRequest,
    review: Review,
    *,
    approve_form: ReviewApproveForm | None = None,
    reject_form: ReviewRejectForm | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    is_open = review.status in OPEN_REVIEW_STATUSES
    is_author = review.author_user_id is not None and review.author_user_id == request.user.pk
    current_state, state_known = _current_state(review)
    current_version = _current_version(review)
    return {
        "review": review,
        "decisions": review.decisions.all(),
        "diff": review_diff(review.change, current_state)
        if isinstance(review.change, dict)
        else [],
        "state_known": state_known,
        "is_stale": is_open
        and review.base_version is not None
        and current_version != review.base_version,
        "current_version": current_version,
        "is_author": is_author,
        "can_decide": request.can_edit and is_open,
        "can_approve": request.can_edit and is_open and not is_author,
        "can_commit": request.can_edit and review.status == ReviewStatus.APPROVED,
        "can_cancel": is_open and (is_author or request.is_admin),
        "approve_form": approve_form or ReviewApproveForm(prefix="approve"),
        "reject_form": reject_form or ReviewRejectForm(prefix="reject"),
        "action_error": error,
    }


def _get_review(request: HttpRequest, review_id: str) -> Review:
    try:
        return selectors.review_get(project=request.project, review_id=review_id)
    except NotFound as error:
        raise Http404(error.message) from error


@project_view(Role.VIEWER)
@require_GET
def review_detail(request: HttpRequest, review_id: str) -> HttpResponse:
    review = _get_review(request, review_id)
    return render(request, "console/review_detail.html", _review_context(request, review))


REVIEW_ACTIONS = ("approve", "reject", "commit", "cancel")
REVIEW_DONE = {
    "approve": "Review approved. It can now be committed.",
    "reject": "Review rejected.",
    "commit": "Review committed: the change is applied.",
    "cancel": "Review cancelled.",
}


@project_view(Role.MEMBER)
@require_POST
def review_action(request: HttpRequest, review_id: str, action: str) -> HttpResponse:
    if action not in REVIEW_ACTIONS:
        raise Http404("No such action.")
    review = _get_review(request, review_id)
    form: Form | None = None
    project, actor = request.project, request.actor
    try:
        if action == "approve":
            form = ReviewApproveForm(request.POST, prefix="approve")
            form.is_valid()
            review_services.review_approve(
                project=project,
                actor=actor,
                review_id=review.public_id,
                reason=form.cleaned_data.get("reason", ""),
            )
        elif action == "reject":
            form = ReviewRejectForm(request.POST, prefix="reject")
            form.is_valid()
            review_services.review_reject(
                project=project,
                actor=actor,
                review_id=review.public_id,
                reason=form.cleaned_data.get("reason", ""),
            )
        elif action == "commit":
            review_services.review_commit(project=project, actor=actor, review_id=review.public_id)
        else:
            review_services.review_cancel(project=project, actor=actor, review_id=review.public_id)
    except DomainError as error:
        if form is not None:
            add_domain_errors(form, error)
        review.refresh_from_db()
        context = _review_context(
            request,
            review,
            approve_form=form if action == "approve" else None,
            reject_form=form if action == "reject" else None,
            error=None if form is not None and error.errors else error.message,
        )
        return render(request, "console/review_detail.html", context, status=error.status_code)
    messages.success(request, REVIEW_DONE[action])
    return redirect("review-detail", project_slug=project.slug, review_id=review.public_id)
