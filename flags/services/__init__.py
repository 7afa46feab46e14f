"""Writes to gates, dynamic configs, experiments, layers and holdouts.

Every service is keyword-only, checks the actor's role and the project, validates (400 naming the
field through ``console.errors``), writes its audit entry in the same transaction as the change,
bumps the entity's ``version`` and schedules a ruleset rebuild on commit. Changes that may need
review return a ``console.services.reviews.ChangeOutcome`` (``result`` = the entity, or ``review``
when it was filed for review instead); creates return the new entity.

Sub-modules: ``gates``, ``configs``, ``experiments`` (a package: groups, overrides, the lifecycle
table, the kind), ``layers``, ``holdouts``, each a descriptor of its kind and thin named services
over the entity core: ``descriptor`` (``EntityKind``) and ``kernel`` (the generic path);
``allocation`` (layer buckets), ``rules`` (rule lists and overrides), ``rule_changes`` (a rule
list edited one rule at a time, partial updates of the kinds with rules), ``tags``.
"""
