"""Statsig's experiment settings that nothing here evaluates (analysis options, links, team,
warehouse-native scheduling): kept as sent in ``Experiment.settings`` (``flags.services.settings``).
``SETTINGS`` is the one list of them; the console API builds its request fields from it."""

from __future__ import annotations

from flags.services.settings import Setting

SETTINGS: dict[str, Setting] = {
    "secondaryIDType": Setting("text", "The secondary ID type (warehouse native).", True),
    "links": Setting("links", "Links to documents about the experiment: {url, title}."),
    "primaryMetricTags": Setting("texts", "Tags of the primary metrics."),
    "secondaryMetricTags": Setting("texts", "Tags of the secondary metrics."),
    "targetApps": Setting("texts", "Target apps of the experiment."),
    "duration": Setting("days", "How long the experiment is expected to run, in days.", True),
    "targetExposures": Setting("count", "Target exposures.", True),
    "sequentialTesting": Setting("flag", "Apply sequential testing."),
    "bonferroniCorrectionPerMetric": Setting("flag", "Bonferroni correction per metric."),
    "benjaminiHochbergPerVariant": Setting("flag", "Benjamini-Hochberg per variant."),
    "benjaminiHochbergPerMetric": Setting("flag", "Benjamini-Hochberg per metric."),
    "benjaminiPrimaryMetricsOnly": Setting("flag", "Benjamini-Hochberg on primary metrics only."),
    "assignmentSourceName": Setting("text", "The assignment source (warehouse native)."),
    "assignmentSourceExperimentName": Setting("text", "The source experiment of assignments."),
    "isAnalysisOnly": Setting("flag", "An analysis-only experiment (warehouse native)."),
    "team": Setting("text", "The owning team.", True),
    "allocationDuration": Setting("days", "Allocation duration in days (warehouse).", True),
    "cohortedAnalysisDuration": Setting("days", "Cohorted analysis duration in days."),
    "cohortedMetricsMatureAfterEnd": Setting("flag", "Cohort metrics mature after the end."),
    "cohortWaitUntilEndToInclude": Setting("flag", "Include only completed cohorts."),
    "fixedAnalysisDuration": Setting("days", "Fixed analysis duration in days."),
    "scheduledReloadHour": Setting("hour", "UTC hour of scheduled result loads (0-23)."),
    "scheduledReloadType": Setting(
        "choice", "Reload type of scheduled loads.", choices=("full", "incremental")
    ),
    "analysisEndTime": Setting("text", "The end of the analysis window."),
    "analyticsType": Setting("text", "The analytics type.", True),
}
