"""What an evaluation answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    RECOGNIZED = "Recognized"
    UNRECOGNIZED = "Unrecognized"
    UNSUPPORTED = "Unsupported"
    ERROR = "error"


# Rule ids the evaluator writes when no rule of the spec decided.
RULE_ID_DEFAULT = "default"
RULE_ID_DISABLED = "disabled"
RULE_ID_ERROR = "error"


@dataclass(slots=True)
class EvaluationResult:
    """The answer for one gate, config or layer.

    ``json_value`` and ``explicit_parameters`` are shared with the ruleset: treat them as
    read-only. ``rule_index`` is the
    position, in its spec's ``rules``, of the rule named by ``rule_id`` (for an allocated layer,
    a rule of the allocated experiment); None when no rule decided.

    The evaluator writes into one result while it walks nested gates, the way the SDK does, so
    after an ``error`` the other fields hold what was last written (the SDK answers the same).
    """

    value: bool = False
    json_value: Any = field(default_factory=dict)
    rule_id: str = ""
    group_name: str | None = None
    is_experiment_group: bool = False
    secondary_exposures: list[dict[str, str]] = field(default_factory=list)
    undelegated_secondary_exposures: list[dict[str, str]] = field(default_factory=list)
    explicit_parameters: list[str] = field(default_factory=list)
    allocated_experiment: str | None = None
    id_type: str = ""
    reason: Reason = Reason.RECOGNIZED
    rule_index: int | None = None
