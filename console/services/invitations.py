"""Bringing people into a project: someone with an account is added at once; someone without
one gets an invitation whose one-time link sets their password and makes them a member.

The link's token is shown (or mailed) once; only its SHA-256 is stored, as for API keys."""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from console.actors import Actor
from console.errors import FieldError, NotFound, PermissionDenied, ValidationError
from console.keycache import hash_secret
from console.models import Invitation, Membership, Project, Role
from console.services.audit import audit_record
from console.services.projects import membership_set

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32
MAX_NAME_LENGTH = 150


@dataclass(frozen=True, slots=True)
class MemberAdded:
    """What inviting an email did: added an existing account, or made an invitation (whose
    token is here, the only time it can be read)."""

    membership: Membership | None = None
    invitation: Invitation | None = None
    token: str = ""


def _normalised_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError.for_field("email", "Enter a valid email address.") from None
    return email


def _account_with_email(email: str):
    return get_user_model()._default_manager.filter(email__iexact=email).order_by("pk").first()


def member_add_or_invite(*, project: Project, actor: Actor, email: str, role: str) -> MemberAdded:
    """Adds the account with that email to the project (or changes its role), or, when nobody
    has that email, invites them."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins manage members.")
    email = _normalised_email(email)
    if _account_with_email(email) is not None:
        return MemberAdded(
            membership=membership_set(project=project, actor=actor, email=email, role=role)
        )
    invitation, token = invitation_create(project=project, actor=actor, email=email, role=role)
    return MemberAdded(invitation=invitation, token=token)


def invitation_create(
    *, project: Project, actor: Actor, email: str, role: str
) -> tuple[Invitation, str]:
    """A new invitation (replacing the open one for that email) and its token."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins invite members.")
    email = _normalised_email(email)
    if role not in Role.values:
        raise ValidationError.for_field("role", f"Unknown role '{role}'.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        replaced = Invitation.objects.select_for_update().filter(
            project=project, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        )
        replaced.update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            project=project,
            email=email,
            role=role,
            token_hash=hash_secret(token),
            invited_by=actor.user,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
        )
        audit_record(
            project=project,
            actor=actor,
            action_type="member_invite",
            entity_type="member",
            entity_id=email,
            entity_name=email,
            changes={"role": {"old": None, "new": role}},
        )
    return invitation, token


def invitation_revoke(*, project: Project, actor: Actor, invitation_id: int) -> Invitation:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins manage invitations.")
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(project=project, pk=invitation_id, accepted_at__isnull=True)
            .first()
        )
        if invitation is None:
            raise NotFound("Invitation not found.")
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            audit_record(
                project=project,
                actor=actor,
                action_type="member_invite_revoke",
                entity_type="member",
                entity_id=invitation.email,
                entity_name=invitation.email,
                changes={"role": {"old": invitation.role, "new": None}},
            )
    return invitation


def invitation_send(*, invitation: Invitation, link: str) -> bool:
    """Mails the link when a mail server is configured. False when no mail went out (none
    configured, or the server refused): the admin then passes the link on themselves."""
    if not settings.EMAIL_CONFIGURED:
        return False
    inviter = invitation.invited_by
    by = (
        f" by {inviter.get_full_name() or inviter.email or inviter.get_username()}"
        if inviter
        else ""
    )
    body = (
        f"You have been invited{by} to the project “{invitation.project.name}” on the flag "
        f"console, as {invitation.get_role_display().lower()}.\n\n"
        f"Open this link to choose your password and join:\n{link}\n\n"
        f"The link works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
    )
    try:
        send_mail(
            f"Join {invitation.project.name} on the flag console",
            body,
            None,
            [invitation.email],
        )
    except (smtplib.SMTPException, OSError) as error:
        logger.warning(
            "invitation mail failed invitation=%s error=%s", invitation.pk, type(error).__name__
        )
        return False
    return True


def _open_invitation(token: str, *, lock: bool) -> Invitation:
    invitations = Invitation.objects.select_related("project")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_hash=hash_secret(token)).first()
    if invitation is None or not invitation.is_open or invitation.expires_at <= timezone.now():
        raise NotFound(
            "This invitation link is no longer valid: it was used, replaced, withdrawn or has "
            "expired. Ask an admin of the project for a new one."
        )
    return invitation


def invitation_for_token(*, token: str) -> Invitation:
    """The open invitation of a link, or NotFound."""
    return _open_invitation(token, lock=False)


def _username_for(email: str) -> str:
    users = get_user_model()._default_manager
    base = email[:140]
    username, n = base, 2
    while users.filter(username=username).exists():
        username, n = f"{base}-{n}", n + 1
    return username


def invitation_accept(
    *, token: str, user=None, password: str = "", name: str = ""
) -> tuple[object, Membership]:
    """Accepts an invitation: as ``user`` (logged in with the invited email), or by creating the
    account with ``password``. Returns the account and its membership."""
    with transaction.atomic():
        invitation = _open_invitation(token, lock=True)
        if user is not None:
            if (user.email or "").lower() != invitation.email:
                raise PermissionDenied(
                    f"This invitation is for {invitation.email}; log out and open it again."
                )
        else:
            user = _create_account(invitation.email, password=password, name=name)
        membership, created = Membership.objects.get_or_create(
            user=user, project=invitation.project, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if created:
            audit_record(
                project=invitation.project,
                actor=Actor.for_user(user, membership.role),
                action_type="member_join",
                entity_type="member",
                entity_id=str(user.pk),
                entity_name=user.email,
                changes={"role": {"old": None, "new": membership.role}},
            )
    return user, membership


def _create_account(email: str, *, password: str, name: str):
    if _account_with_email(email) is not None:
        raise ValidationError.for_field(
            "password", f"An account with {email} exists already: log in to accept."
        )
    name = (name or "").strip()
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError.for_field("name", f"At most {MAX_NAME_LENGTH} characters.")
    user = get_user_model()(username=_username_for(email), email=email, first_name=name)
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        messages = list(error.messages)
        raise ValidationError(
            " ".join(messages), errors=[FieldError("password", m) for m in messages]
        ) from None
    user.set_password(password)
    user.save()
    return user
