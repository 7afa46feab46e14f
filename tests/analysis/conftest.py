"""The checkout experiment and its traffic (``tests.analysis.traffic``) for every analysis test."""

from tests.analysis.traffic import experiment, traffic  # noqa: F401  (fixtures)
