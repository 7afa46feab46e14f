"""Browser forms of the shared console screens. They only shape input: every rule lives in the
services, whose errors ``console.web.add_domain_errors`` shows next to the field they name, so
field names follow the services' error properties (``type``, ``environments``, ``email``...)."""

from __future__ import annotations

from datetime import date

from django import forms

from console.models import ApiKeyKind, ApiKeyScope, Project, ReviewStatus, Role
from console.selectors import environment_names

KEY_KIND_HELP = {
    ApiKeyKind.SERVER: "For your servers: evaluates, downloads rulesets, submits deletion requests.",
    ApiKeyKind.CLIENT: "For browsers and apps: evaluates and logs events only.",
    ApiKeyKind.CONSOLE: "For automation of this console (console/v1 API).",
}


class ProjectCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Shown in the project switcher; you can have several projects.",
    )


class ApiKeyCreateForm(forms.Form):
    type = forms.ChoiceField(
        label="Kind",
        choices=[(kind.value, f"{kind.label}: {KEY_KIND_HELP[kind]}") for kind in ApiKeyKind],
        widget=forms.RadioSelect,
        initial=ApiKeyKind.SERVER,
    )
    description = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Where the key is used, so that you know what breaks if you deactivate it.",
    )
    environments = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unchecked for a key that acts in every environment.",
    )
    scopes = forms.MultipleChoiceField(
        required=False,
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Console keys: omni_* act as an admin, personal_* as you, *_read_only only "
        "read, can_access_keys manages keys. None checked: every console scope. Client keys: "
        "the client SDK scopes.",
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environments"].choices = [
            (name, name) for name in environment_names(project=project)
        ]


class MemberAddForm(forms.Form):
    email = forms.EmailField(
        help_text="Someone with an account is added at once; anyone else gets an invitation "
        "link to choose their password."
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class InvitationAcceptForm(forms.Form):
    """Choosing the password of an invited account (the rules are checked by the service)."""

    name = forms.CharField(
        label="Your name",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text="Shown to your team beside your changes.",
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password, not like your email.",
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("password")
            and cleaned.get("password_again")
            and cleaned["password"] != cleaned["password_again"]
        ):
            self.add_error("password_again", "The two passwords differ.")
        return cleaned


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


REVIEW_FILTERS = {
    "open": ("Open", [ReviewStatus.PENDING, ReviewStatus.APPROVED]),
    ReviewStatus.PENDING.value: ("Pending", [ReviewStatus.PENDING]),
    ReviewStatus.APPROVED.value: ("Approved", [ReviewStatus.APPROVED]),
    ReviewStatus.COMMITTED.value: ("Committed", [ReviewStatus.COMMITTED]),
    ReviewStatus.REJECTED.value: ("Rejected", [ReviewStatus.REJECTED]),
    ReviewStatus.CANCELLED.value: ("Cancelled", [ReviewStatus.CANCELLED]),
    "all": ("All", []),
}


class ReviewApproveForm(forms.Form):
    reason = forms.CharField(
        label="Comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReviewRejectForm(forms.Form):
    # Required by the service (its error is shown here); not required by the browser so that the
    # service stays the one place the rule lives.
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to reject: tell the author what to change.",
    )


class ReviewBypassForm(forms.Form):
    # Required by the service, like the reject reason.
    reason = forms.CharField(
        label="Why it cannot wait",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required. Recorded in the audit log with your name.",
    )


class ReviewSettingsForm(forms.Form):
    is_config_review_required = forms.BooleanField(
        label="Changes require review",
        required=False,
        help_text="Changes to production (or to a whole entity) made in the browser become "
        "reviews that another member approves before they apply.",
    )


class EnvironmentCreateForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="Lowercase letters, digits, - or _.")
    requires_review = forms.BooleanField(
        required=False,
        label="Changes here require review",
        help_text="When review is on, changes touching this environment go through review.",
    )


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(forms.Form):
    entity_id = forms.CharField(label="Entity id", required=False, max_length=100)
    entity_type = forms.ChoiceField(label="Entity type", required=False)
    action_type = forms.ChoiceField(label="Action", required=False)
    start_date = forms.DateField(label="From", required=False, widget=DateInput)
    end_date = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, *args, entity_types: list[str], action_types: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity_type"].choices = [("", "Any"), *((t, t) for t in entity_types)]
        self.fields["action_type"].choices = [("", "Any"), *((t, t) for t in action_types)]

    def clean(self):
        cleaned = super().clean()
        start: date | None = cleaned.get("start_date")
        end: date | None = cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        return cleaned
