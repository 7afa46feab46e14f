"""Browser forms of the Events screen."""

from __future__ import annotations

from typing import Any

from django import forms


class EventTailForm(forms.Form):
    name = forms.CharField(required=False, label="Event name", max_length=400)
    user = forms.CharField(required=False, label="User ID", max_length=400)
    source = forms.ChoiceField(required=False, label="Source")
    after = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, sources: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "Any source"), *sources]
