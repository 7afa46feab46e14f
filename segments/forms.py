"""Browser forms of the segments screens. They only shape input (text into lists of ids, JSON
text into rules); ``segments.services`` validates, and its errors are shown next to the field
they name (field names follow the service's error properties: ``name``, ``idType``, ``rules``,
``ids``)."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from flags.forms import JSONTextField, TagsField
from segments.models import SegmentType

# Uploads: text or CSV, one id per line (the first column of a CSV). Files up to this size are
# accepted; they are read in the background (segments.tasks).
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_PASTED_IDS = 10_000
_SPLIT = re.compile(r"[\s,;]+")


def split_ids(text: str) -> list[str]:
    return [part.strip().strip('"').strip("'") for part in _SPLIT.split(text or "") if part.strip()]


class SegmentFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    tag = forms.ChoiceField(required=False, label="Tag")
    type = forms.ChoiceField(required=False, label="Type")
    status = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[("", "Active"), ("archived", "Archived"), ("all", "All")],
    )
    sort = forms.ChoiceField(
        required=False,
        label="Sort",
        choices=[
            ("-modified", "Recently changed"),
            ("name", "Name A–Z"),
            ("-created", "Newest"),
            ("-count", "Most IDs"),
        ],
    )

    def __init__(self, *args: Any, tags: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", "Any tag"), *((tag, tag) for tag in tags)]
        self.fields["type"].choices = [("", "Any type"), *SegmentType.choices]

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {"q": "", "tag": "", "type": "", "status": "", "sort": "-modified"}
        data = self.cleaned_data
        return {
            "q": data["q"].strip(),
            "tag": data["tag"],
            "type": data["type"],
            "status": data["status"],
            "sort": data["sort"] or "-modified",
        }


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    tags = TagsField()


class SegmentCreateForm(SegmentForm):
    id = forms.CharField(
        label="ID",
        required=False,
        max_length=100,
        help_text="What gates and experiments refer to. Made from the name when left empty.",
    )
    type = forms.ChoiceField(
        choices=[
            (SegmentType.RULE_BASED, "Rule based: users matching conditions"),
            (SegmentType.ID_LIST, "ID list: a list of IDs you upload or paste"),
        ],
        initial=SegmentType.RULE_BASED,
        widget=forms.RadioSelect,
    )
    idType = forms.CharField(
        label="ID type",
        initial="userID",
        max_length=100,
        help_text="userID, or a custom unit type such as companyID.",
    )
    field_order = ["name", "id", "type", "idType", "description", "tags"]


class SegmentRulesForm(forms.Form):
    rules = JSONTextField(
        kind=list,
        empty=[],
        required=False,
        label="Rules",
        help_text="A user is in the segment when any rule matches (all conditions of the rule).",
        widget=forms.Textarea(attrs={"rows": 8, "data-rules-input": ""}),
    )


class IdsForm(forms.Form):
    ids = forms.CharField(
        label="Paste IDs",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=f"Separated by commas, spaces or line breaks; up to {MAX_PASTED_IDS:,} at once.",
    )

    def clean_ids(self) -> list[str]:
        ids = split_ids(self.cleaned_data["ids"])
        if not ids:
            raise forms.ValidationError("Enter at least one ID.")
        if len(ids) > MAX_PASTED_IDS:
            raise forms.ValidationError(
                f"At most {MAX_PASTED_IDS:,} IDs at once; upload a file for more."
            )
        return ids


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File of IDs",
        help_text="A .txt or .csv file, one ID per line (the first column of a CSV), UTF-8; up "
        "to 1,000,000 IDs. Large files are added in the background.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.csv,text/plain,text/csv"}),
    )
    replace = forms.BooleanField(
        required=False,
        label="Replace the current members with the file's IDs",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is too large (at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB)."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class LookupForm(forms.Form):
    id = forms.CharField(label="ID", max_length=256)
