"""Browser forms of the analysis screens. They shape input only; ``analysis.services`` validates
(the same rules as the console API) and its errors are shown next to the field they name."""

from __future__ import annotations

from typing import Any

from django import forms

from analysis.models import Directionality, MetricType
from flags.forms import JSONTextField

EVENTS_HELP = (
    'A list of events: [{"name": "purchase", "type": "count"}]. type is count, count_distinct '
    "(with metadataKey) or value (the event's value, or metadataKey's); criteria: "
    '[{"column": "sku", "condition": "in", "values": ["a"]}]. A ratio has two: numerator, '
    "then denominator."
)


class MetricForm(forms.Form):
    name = forms.CharField(max_length=100)
    type = forms.ChoiceField(choices=MetricType.choices)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    directionality = forms.ChoiceField(choices=Directionality.choices)
    unitTypes = forms.CharField(
        required=False, initial="userID", label="Unit types", help_text="Comma separated."
    )
    metricEvents = JSONTextField(
        kind=list,
        empty=[],
        label="Events",
        help_text=EVENTS_HELP,
        initial=[{"name": "purchase", "type": "count"}],
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The name and type make the metric's id.
            self.fields["name"].disabled = True
            self.fields["type"].disabled = True

    def definition(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "type": data["type"],
            "description": data["description"],
            "directionality": data["directionality"],
            "unitTypes": [t.strip() for t in data["unitTypes"].split(",") if t.strip()],
            "metricEvents": data["metricEvents"],
        }


class ResultsForm(forms.Form):
    """What the results section shows: the groups compared, CUPED, the confidence level."""

    control = forms.ChoiceField(required=False)
    cuped = forms.ChoiceField(
        required=False, choices=[("on", "CUPED on"), ("off", "CUPED off")], label="CUPED"
    )
    confidence = forms.TypedChoiceField(
        required=False,
        coerce=int,
        choices=[(level, f"{level}%") for level in (80, 90, 95, 98, 99)],
    )

    def __init__(self, *args: Any, groups: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["control"].choices = [(name, name) for name in groups]
