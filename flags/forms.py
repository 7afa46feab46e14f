"""Browser forms of the gates, dynamic configs, experiments, layers and holdouts screens.

They only shape input (text into lists, JSON text into values): every rule lives in the
``flags.services``, whose errors ``console.web.add_domain_errors`` shows next to the field they
name. Field names therefore follow the services' error properties (``idType``, ``rules``,
``defaultValue``, ``groups``...), and a form never validates what a service validates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.utils import timezone

from flags.models import GateType, ParameterType

SORTS = {
    "-modified": ("Recently changed", ("-modified_at", "-id")),
    "-created": ("Newest", ("-created_at", "-id")),
    "name": ("Name A–Z", ("name", "id")),
    "-name": ("Name Z–A", ("-name", "-id")),
}
DEFAULT_SORT = "-modified"
ID_TYPE_HELP = "userID, or a custom unit type such as companyID or stableID."


def split_tags(value: str) -> list[str]:
    """ "beta, checkout" -> ["beta", "checkout"] (order kept, blanks dropped)."""
    return [tag.strip() for tag in (value or "").split(",") if tag.strip()]


class JSONTextField(forms.CharField):
    """JSON typed into a textarea; ``kind`` (dict or list) is the shape it must have. The value
    is handed to a service as parsed JSON, which validates what it means."""

    widget = forms.Textarea

    def __init__(self, *, kind: type | None = None, empty: Any = None, **kwargs: Any) -> None:
        self.kind = kind
        self.empty = empty
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"spellcheck": "false", "autocomplete": "off", "class": "font-monospace json-input"}
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2, ensure_ascii=False)
        return value

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if text in (None, ""):
            return self.empty
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}.") from None
        if self.kind is dict and not isinstance(parsed, dict):
            raise forms.ValidationError('Must be a JSON object, e.g. {"key": "value"}.')
        if self.kind is list and not isinstance(parsed, list):
            raise forms.ValidationError("Must be a JSON list.")
        return parsed


class TagsField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Separated by commas, e.g. checkout, beta.")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def clean(self, value: Any) -> list[str]:
        return split_tags(super().clean(value))


def rules_field(help_text: str) -> JSONTextField:
    return JSONTextField(
        kind=list,
        empty=[],
        required=False,
        label="Rules",
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 8, "data-rules-input": ""}),
    )


class EntityFilterForm(forms.Form):
    """The list screens' search, tag and status filters and sort (GET)."""

    q = forms.CharField(required=False, label="Search", max_length=100)
    tag = forms.ChoiceField(required=False, label="Tag")
    status = forms.ChoiceField(required=False, label="Status")
    sort = forms.ChoiceField(
        required=False,
        label="Sort",
        choices=[(key, label) for key, (label, _order) in SORTS.items()],
    )

    def __init__(self, *args: Any, tags: list[str], statuses: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Name or id", "type": "search", "autocomplete": "off"}
        )
        self.fields["tag"].choices = [("", "Any tag"), *((tag, tag) for tag in tags)]
        self.fields["status"].choices = [("", "Any status"), *statuses]

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {"q": "", "tag": "", "status": "", "sort": DEFAULT_SORT}
        data = self.cleaned_data
        return {
            "q": data["q"].strip(),
            "tag": data["tag"],
            "status": data["status"],
            "sort": data["sort"] or DEFAULT_SORT,
        }


class _EntityForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Unique in the project.")
    description = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    tags = TagsField()
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class _CreateMixin(forms.Form):
    id = forms.CharField(
        label="ID",
        required=False,
        max_length=100,
        help_text="What SDKs ask for. Made from the name when left empty (“New checkout” → new_checkout).",
    )
    idType = forms.CharField(
        label="ID type", initial="userID", max_length=64, help_text=ID_TYPE_HELP
    )


class GateForm(_EntityForm):
    type = forms.ChoiceField(
        choices=GateType.choices,
        initial=GateType.PERMANENT,
        help_text="Temporary gates are meant to be removed once launched.",
    )
    rules = rules_field(
        "Evaluated top to bottom; the first rule whose conditions all match decides, and passes "
        "its pass percentage of users. Nobody passes when no rule matches."
    )


class GateCreateForm(_CreateMixin, GateForm):
    field_order = ["name", "id", "description", "idType", "type", "tags", "rules"]


class ConfigForm(_EntityForm):
    defaultValue = JSONTextField(
        kind=dict,
        empty={},
        required=False,
        label="Default value",
        help_text="A JSON object returned when no rule matches (or the config is disabled).",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    schema = JSONTextField(
        kind=dict,
        empty=None,
        required=False,
        label="JSON Schema",
        help_text="Optional. The default value and every rule's value must satisfy it.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    rules = rules_field(
        "Evaluated top to bottom; the first rule whose conditions all match returns its value to "
        "its pass percentage of users, the others get the default value."
    )


class ConfigCreateForm(_CreateMixin, ConfigForm):
    field_order = ["name", "id", "description", "idType", "tags", "defaultValue", "schema", "rules"]


class AllowedReviewersForm(forms.Form):
    """Who alone may approve an entity's reviews: a choice of the project's members."""

    reviewers = forms.MultipleChoiceField(
        required=False,
        label="Allowed reviewers",
        widget=forms.CheckboxSelectMultiple,
        help_text="Only the people checked may approve this entity's reviews; with nobody "
        "checked, any member other than the author may.",
    )

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].choices = members


class ArchiveForm(forms.Form):
    reason = forms.CharField(required=False, max_length=1000, label="Reason")


class TestUserForm(forms.Form):
    """The "Test a user" panel: fields of a Statsig user, or the user's JSON as a whole."""

    userID = forms.CharField(label="User ID", required=False, max_length=400)
    email = forms.CharField(required=False, max_length=400)
    ip = forms.CharField(label="IP address", required=False, max_length=64)
    country = forms.CharField(required=False, max_length=8, help_text="Two-letter code.")
    appVersion = forms.CharField(label="App version", required=False, max_length=64)
    environment = forms.ChoiceField(required=False, label="Environment")
    custom = JSONTextField(
        kind=dict,
        empty=None,
        required=False,
        label="Custom fields",
        help_text='JSON, e.g. {"plan": "pro"}.',
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    customIDs = JSONTextField(
        kind=dict,
        empty=None,
        required=False,
        label="Custom IDs",
        help_text='JSON, e.g. {"companyID": "acme"}.',
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    user_json = JSONTextField(
        kind=dict,
        empty=None,
        required=False,
        label="Or the whole user as JSON",
        help_text="As an SDK sends it; replaces the fields above.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, environments: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = [
            ("", "Default (production)"),
            *((name, name) for name in environments),
        ]

    def user(self) -> dict[str, Any]:
        """The Statsig user object to evaluate (call after ``is_valid``)."""
        data = self.cleaned_data
        if data.get("user_json"):
            return data["user_json"]
        user: dict[str, Any] = {}
        for key in ("userID", "email", "ip", "country", "appVersion"):
            if data.get(key):
                user[key] = data[key]
        if data.get("custom"):
            user["custom"] = data["custom"]
        if data.get("customIDs"):
            user["customIDs"] = data["customIDs"]
        if data.get("environment"):
            user["statsigEnvironment"] = {"tier": data["environment"]}
        return user


# -- experiments -------------------------------------------------------------------------------


class ExperimentForm(_EntityForm):
    hypothesis = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    groups = JSONTextField(
        kind=list,
        empty=[],
        required=False,
        label="Groups",
        help_text="Sizes must add up to 100. Each group sets its own parameter values.",
        widget=forms.Textarea(attrs={"rows": 8, "data-groups-input": ""}),
    )
    allocation = forms.DecimalField(
        min_value=0,
        max_value=100,
        decimal_places=1,
        required=False,
        label="Allocation (%)",
        help_text="Share of the units (of the layer, if in one) that enter the experiment.",
    )
    layer = forms.ChoiceField(
        required=False,
        label="Layer",
        help_text="Experiments in one layer never share a user.",
    )
    targetingGate = forms.ChoiceField(
        required=False,
        label="Targeting gate",
        help_text="Only users passing this gate enter the experiment.",
    )

    def __init__(
        self,
        *args: Any,
        layers: list[tuple[str, str]] | None = None,
        gates: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["layer"].choices = [("", "No layer"), *(layers or [])]
        self.fields["targetingGate"].choices = [("", "Everyone"), *(gates or [])]


class ExperimentCreateForm(_CreateMixin, ExperimentForm):
    field_order = [
        "name",
        "id",
        "description",
        "hypothesis",
        "idType",
        "tags",
        "layer",
        "allocation",
        "targetingGate",
        "groups",
    ]


class ExperimentDecisionForm(forms.Form):
    group = forms.ChoiceField(label="Ship group")
    reason = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, groups: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = groups


class UTCDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input, which carries no time zone, read as UTC (as the page says)
    whatever the server's time zone."""

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(UTC):
            return super().to_python(value)


class ExperimentScheduleForm(forms.Form):
    scheduledTime = UTCDateTimeField(
        label="Start at (UTC)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Coordinated Universal Time, not your local time. The experiment starts within "
        "a minute of it.",
    )

    def epoch_ms(self) -> int:
        return int(self.cleaned_data["scheduledTime"].timestamp() * 1000)


class ExperimentRestartForm(forms.Form):
    name = forms.CharField(
        label="Name of the new experiment",
        max_length=100,
        help_text="The copy starts now with fresh assignments and takes over the layer space.",
    )


# -- overrides ------------------------------------------------------------------------------------

ID_SEPARATORS = re.compile(r"[\n,]")


class IDListField(forms.CharField):
    """IDs typed one per line or separated by commas; a service checks what an id may be."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        return list(dict.fromkeys(i.strip() for i in ID_SEPARATORS.split(text) if i.strip()))


class _OverridesForm(forms.Form):
    """A form replacing an entity's overrides with what its textareas hold. The service names a
    bad id by its position in a list of entries (``entries_key[k].ids[j]``); ``field_for`` turns
    that back into the textarea the entry came from."""

    error_prefix = ""
    entries_key = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sections: list[tuple[str, list[str]]] = []
        # For each entry sent, the prefix of its fields (None: an entry kept as it was).
        self.entry_prefixes: list[str | None] = []

    def add_ids_field(self, name: str, label: str, initial: Iterable[str]) -> None:
        self.fields[name] = IDListField(label=label)
        self.initial[name] = list(initial)
        self.sections[-1][1].append(name)

    def bound_sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.sections]

    def section_summaries(self) -> list[dict[str, Any]]:
        """Each section with how many IDs its lists hold (as typed, when the form was posted)
        and whether one of them has an error, for a page that shows the sections folded."""
        summaries = []
        for title, fields in self.bound_sections():
            count = 0
            for bound in fields:
                value = bound.value()
                ids = value if isinstance(value, list | tuple) else ID_SEPARATORS.split(value or "")
                count += sum(1 for unit_id in ids if str(unit_id).strip())
            summaries.append(
                {
                    "title": title,
                    "fields": fields,
                    "count": count,
                    "has_errors": any(bound.errors for bound in fields),
                }
            )
        return summaries

    def field_for(self, path: str) -> str | None:
        root, _, rest = path.removeprefix(self.error_prefix).partition("[")
        if root != self.entries_key:
            return root
        index, _, rest = rest.partition("]")
        key = rest.lstrip(".").split("[")[0]
        if not index.isdigit() or int(index) >= len(self.entry_prefixes):
            return None
        prefix = self.entry_prefixes[int(index)]
        return f"{prefix}{key}" if prefix else None


class GateOverridesForm(_OverridesForm):
    """The IDs that always pass or fail a gate, everywhere and per environment (for the gate's
    unit type). Environment overrides the form does not show (another unit type, or an
    environment the project no longer has) are kept as they are."""

    error_prefix = "overrides."
    entries_key = "environmentOverrides"

    def __init__(
        self,
        *args: Any,
        overrides: Mapping[str, Any],
        id_type: str,
        environments: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.id_type = id_type
        self.environments = environments
        entries = overrides.get("environmentOverrides") or []
        self.kept = [e for e in entries if not self._shown(e)]
        self.kept_lines = [
            f"{e.get('unitID') or 'userID'} values in {e.get('environment') or 'every environment'}"
            f": {len(e.get('passingIDs', []))} pass, {len(e.get('failingIDs', []))} fail"
            for e in self.kept
        ]
        self.sections.append(("All environments", []))
        self.add_ids_field(
            "passingUserIDs", "User IDs that always pass", overrides.get("passingUserIDs", [])
        )
        self.add_ids_field(
            "failingUserIDs", "User IDs that always fail", overrides.get("failingUserIDs", [])
        )
        if id_type != "userID":
            for outcome in ("passing", "failing"):
                self.add_ids_field(
                    f"{outcome}CustomIDs",
                    f"{id_type} values that always {outcome[:4]}",
                    overrides.get(f"{outcome}CustomIDs", []),
                )
        for environment in environments:
            self.sections.append((f"Only in {environment}", []))
            mine = [e for e in entries if self._shown(e) and e["environment"] == environment]
            for outcome in ("passing", "failing"):
                self.add_ids_field(
                    f"env-{environment}-{outcome}IDs",
                    f"{id_type} values that always {outcome[:4]} in {environment}",
                    [i for e in mine for i in e.get(f"{outcome}IDs", [])],
                )

    def _shown(self, entry: Mapping[str, Any]) -> bool:
        return (
            entry.get("environment") in self.environments
            and (entry.get("unitID") or "userID") == self.id_type
        )

    def overrides(self) -> dict[str, Any]:
        """Statsig's ``OverrideDto`` for the service (call after ``is_valid``)."""
        data = self.cleaned_data
        out: dict[str, Any] = {key: data[key] for key in self.fields if not key.startswith("env-")}
        out["environmentOverrides"] = []
        self.entry_prefixes = []
        for environment in self.environments:
            prefix = f"env-{environment}-"
            passing, failing = data[f"{prefix}passingIDs"], data[f"{prefix}failingIDs"]
            if passing or failing:
                out["environmentOverrides"].append(
                    {
                        "environment": environment,
                        "unitID": self.id_type,
                        "passingIDs": passing,
                        "failingIDs": failing,
                    }
                )
                self.entry_prefixes.append(prefix)
        out["environmentOverrides"].extend(self.kept)
        self.entry_prefixes.extend(None for _ in self.kept)
        return out


def _in_environment(override: Mapping[str, Any]) -> str:
    return f" (in {override['environment']})" if override.get("environment") else ""


class ExperimentOverridesForm(_OverridesForm):
    """The IDs (of the experiment's unit type, in every environment) put in each group whatever
    their bucket. Overrides the form does not show (by gate or segment, per environment, or of
    another unit type) are kept as they are."""

    entries_key = "userIDOverrides"

    def __init__(
        self,
        *args: Any,
        overrides: Mapping[str, Any],
        id_type: str,
        groups: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.id_type = id_type
        self.group_ids = [group["id"] for group in groups]
        self.conditional = list(overrides.get("overrides") or [])
        entries = overrides.get("userIDOverrides") or []
        self.kept = [e for e in entries if not self._shown(e)]
        names = {group["id"]: group["name"] for group in groups}
        self.kept_lines = [
            f"Users passing {o['type']} “{o['id']}” → “{names.get(o['groupID'], o['groupID'])}”"
            f"{_in_environment(o)}"
            for o in self.conditional
        ] + [
            f"{len(e['ids'])} {e.get('unitType') or id_type} values → "
            f"“{names.get(e['groupID'], e['groupID'])}”{_in_environment(e)}"
            for e in self.kept
        ]
        self.sections.append((f"{id_type} values per group", []))
        for group in groups:
            self.add_ids_field(
                f"group-{group['id']}-ids",
                f"Always in “{group['name']}”",
                [
                    i
                    for e in entries
                    if self._shown(e) and e["groupID"] == group["id"]
                    for i in e["ids"]
                ],
            )

    def _shown(self, entry: Mapping[str, Any]) -> bool:
        return (
            entry.get("environment") is None
            and (entry.get("unitType") or self.id_type) == self.id_type
            and entry.get("groupID") in self.group_ids
        )

    def overrides(self) -> dict[str, Any]:
        """Statsig's ``ExperimentOverridesDto`` for the service (call after ``is_valid``)."""
        entries = []
        self.entry_prefixes = []
        for group_id in self.group_ids:
            prefix = f"group-{group_id}-"
            if ids := self.cleaned_data[f"{prefix}ids"]:
                entries.append(
                    {"groupID": group_id, "ids": ids, "environment": None, "unitType": self.id_type}
                )
                self.entry_prefixes.append(prefix)
        entries.extend(self.kept)
        self.entry_prefixes.extend(None for _ in self.kept)
        return {"overrides": self.conditional, "userIDOverrides": entries}


# -- layers and holdouts --------------------------------------------------------------------------


class LayerForm(_EntityForm):
    parameters = JSONTextField(
        kind=list,
        empty=[],
        required=False,
        label="Parameters",
        help_text=(
            "Typed parameters with their defaults: "
            + ", ".join(ParameterType.values)
            + ". Users outside every experiment of the layer get the defaults."
        ),
        widget=forms.Textarea(attrs={"rows": 6, "data-parameters-input": ""}),
    )


class LayerCreateForm(_CreateMixin, LayerForm):
    field_order = ["name", "id", "description", "idType", "tags", "parameters"]


class HoldoutForm(_EntityForm):
    passPercentage = forms.DecimalField(
        min_value=0,
        max_value=10,
        decimal_places=2,
        label="Held-out share (%)",
        help_text="0 to 10: these users get the defaults of every gate, experiment and layer below.",
    )
    isGlobal = forms.BooleanField(
        required=False,
        label="Apply to every new gate, experiment and layer",
    )
    gates = forms.MultipleChoiceField(required=False, widget=forms.SelectMultiple)
    experiments = forms.MultipleChoiceField(required=False, widget=forms.SelectMultiple)
    layers = forms.MultipleChoiceField(required=False, widget=forms.SelectMultiple)

    def __init__(
        self,
        *args: Any,
        gates: list[tuple[str, str]] | None = None,
        experiments: list[tuple[str, str]] | None = None,
        layers: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["gates"].choices = gates or []
        self.fields["experiments"].choices = experiments or []
        self.fields["layers"].choices = layers or []


class HoldoutCreateForm(_CreateMixin, HoldoutForm):
    field_order = ["name", "id", "description", "idType", "tags", "passPercentage", "isGlobal"]


# -- events -----------------------------------------------------------------------------------------
