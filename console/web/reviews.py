"""The review queue and a review's page: the change against the entity's current state, approve,
reject, commit.

Every write goes through a console service; its domain errors are shown next to the form field
they name. Viewers see no edit controls, and the server refuses their writes with 403 whatever the
page showed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console import selectors
from console.errors import DomainError, NotFound
from console.forms import (
    REVIEW_FILTERS,
    ReviewApproveForm,
    ReviewBypassForm,
    ReviewRejectForm,
)
from console.models import (
    OPEN_REVIEW_STATUSES,
    Review,
    ReviewStatus,
    Role,
)
from console.services import reviews as review_services
from console.services.review_bypass import review_bypass
from console.web.comparison import compare, without_internal
from console.web.review_states import review_state
from console.web.shell import (
    add_domain_errors,
    paginate,
    project_view,
)


def _comparison(review: Review) -> dict[str, Any]:
    """The change beside the entity as it is now, as the template shows it."""
    change = review.change if isinstance(review.change, dict) else {}
    state = review_state(review.entity_type)
    current: Mapping[str, Any] | None = None
    state_known = state is not None
    if state is not None:
        try:
            current = state.current(review.project, review.entity_id)
        except DomainError:
            current = None
    proposed = state.proposal(change) if state is not None else change
    changed, unchanged = compare(current, proposed)
    entity_url = None
    if state is not None and state.url_name and current is not None:
        entity_url = reverse(state.url_name, args=[review.project.slug, review.entity_id])
    return {
        "entity_url": entity_url,
        "comparison": changed,
        "unchanged_fields": unchanged,
        "state_known": state_known,
        "entity_exists": current is not None,
        "raw_change": without_internal(change),
    }


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
    bypass_form: ReviewBypassForm | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    is_open = review.status in OPEN_REVIEW_STATUSES
    is_author = review.author_user_id is not None and review.author_user_id == request.user.pk
    current_version = _current_version(review)
    not_allowed = (
        review_services.not_allowed_to_approve(
            project=request.project, review=review, actor=request.actor
        )
        if is_open and request.can_edit and not is_author
        else None
    )
    return {
        "review": review,
        "decisions": review.decisions.all(),
        **_comparison(review),
        "is_stale": is_open
        and review.base_version is not None
        and current_version != review.base_version,
        "current_version": current_version,
        "is_author": is_author,
        "can_decide": request.can_edit and is_open,
        "can_approve": request.can_edit and is_open and not is_author and not not_allowed,
        "not_allowed_to_approve": not_allowed,
        "can_commit": request.can_edit and review.status == ReviewStatus.APPROVED,
        "can_cancel": is_open and (is_author or request.is_admin),
        "can_bypass": is_open and request.is_admin,
        "approve_form": approve_form or ReviewApproveForm(prefix="approve"),
        "reject_form": reject_form or ReviewRejectForm(prefix="reject"),
        "bypass_form": bypass_form or ReviewBypassForm(prefix="bypass"),
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


REVIEW_ACTIONS = ("approve", "reject", "commit", "cancel", "bypass")
REVIEW_DONE = {
    "approve": "Review approved. It can now be committed.",
    "reject": "Review rejected.",
    "commit": "Review committed: the change is applied.",
    "cancel": "Review cancelled.",
    "bypass": "Review bypassed: the change is applied, and your reason is in the audit log.",
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
        elif action == "bypass":
            form = ReviewBypassForm(request.POST, prefix="bypass")
            form.is_valid()
            review_bypass(
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
            bypass_form=form if action == "bypass" else None,
            # Shown at the form's field when it names one; otherwise above the page.
            error=None
            if form is not None and any(e.property in form.fields for e in error.errors)
            else error.message,
        )
        return render(request, "console/review_detail.html", context, status=error.status_code)
    messages.success(request, REVIEW_DONE[action])
    return redirect("review-detail", project_slug=project.slug, review_id=review.public_id)
