"""Local evaluation of Statsig ``download_config_specs`` (v1) rulesets, answering as the official
Python SDK (0.72.1) does. Pure Python: no Django, no I/O on the evaluation path.

    ruleset = CompiledRuleset.from_specs(specs, id_lists={"beta_users": {"Krhxyf0V"}})
    user = EvaluationUser.from_dict({"userID": "42", "email": "a@example.com"})
    evaluate_gate(ruleset, user, "new_checkout").value

A request that evaluates many specs for one user uses one ``UserEvaluation`` (its results are
shared with other evaluations: read-only):

    evaluation = UserEvaluation(ruleset, user)
    [evaluation.gate(name).value for name in ("new_checkout", "dark_mode")]
"""

from evaluation.evaluator import (
    SpecEntry,
    UserEvaluation,
    evaluate_config,
    evaluate_gate,
    evaluate_layer,
)
from evaluation.hashing import bucket_hash, id_list_hash
from evaluation.result import EvaluationResult, Reason
from evaluation.ruleset import CompiledRuleset
from evaluation.user import EvaluationUser, InvalidUserError

__all__ = [
    "CompiledRuleset",
    "EvaluationResult",
    "EvaluationUser",
    "InvalidUserError",
    "Reason",
    "SpecEntry",
    "UserEvaluation",
    "bucket_hash",
    "evaluate_config",
    "evaluate_gate",
    "evaluate_layer",
    "id_list_hash",
]
