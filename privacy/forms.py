"""The Privacy screen's form: a deletion request pasted or uploaded by an admin."""

from __future__ import annotations

import re

from django import forms

from privacy.models import MAX_REQUEST_ID_LENGTH

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Pasted or uploaded ids are split on commas and line breaks unless a delimiter is given.
_DEFAULT_SPLIT = re.compile(r"[,\r\n]+")


class DeletionRequestForm(forms.Form):
    unit_type = forms.CharField(
        max_length=100,
        initial="user_id",
        help_text="user_id, or a custom unit type this project uses (e.g. companyID).",
    )
    ids = forms.CharField(
        label="IDs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
        help_text="One per line or separated by commas; up to 10,000 per request.",
    )
    ids_file = forms.FileField(
        label="Or upload a file of IDs",
        required=False,
        help_text="A text or CSV file, one ID per line (UTF-8).",
    )
    delimiter = forms.CharField(
        max_length=8,
        required=False,
        strip=False,
        help_text="Only if your IDs contain commas: the character that separates them.",
    )
    request_id = forms.CharField(
        label="Request ID",
        max_length=MAX_REQUEST_ID_LENGTH,
        required=False,
        help_text="Your reference (e.g. the ticket number); generated when left empty.",
    )
    confirm = forms.BooleanField(
        label="I understand that a deletion request cannot be cancelled or edited.",
    )

    def __init__(self, *args, unit_types: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unit_types = unit_types or ["user_id"]
        self.fields["unit_type"].widget.attrs["list"] = "unit-type-options"

    def clean_ids_file(self):
        upload = self.cleaned_data.get("ids_file")
        if not upload:
            return ""
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is too large (at most 5 MB).")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file must be UTF-8 text.") from None

    def id_values(self) -> list[str] | str:
        """The ids for the service: a delimited string when a delimiter was given, else a list."""
        pasted = self.cleaned_data.get("ids") or ""
        uploaded = self.cleaned_data.get("ids_file") or ""
        delimiter = self.cleaned_data.get("delimiter") or ""
        if delimiter:
            return delimiter.join(part for part in (pasted, uploaded) if part)
        return [
            value.strip()
            for value in _DEFAULT_SPLIT.split(f"{pasted}\n{uploaded}")
            if value.strip()
        ]
