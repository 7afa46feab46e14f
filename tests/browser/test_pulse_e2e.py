"""Experiment results on the experiment page in real headless Chromium: the results section
(loaded with htmx), the CUPED toggle, the lift history, Recompute, and the results next to
"Ship this group"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from analysis.services import pulse_compute
from console.models import Role
from tests.analysis.traffic import experiment, traffic  # noqa: F401  (fixtures)


def test_results__experiment_page__lift_history_cuped_recompute(
    logged_in_page,
    world,
    live_server,
    capi,
    traffic,  # noqa: F811  (the fixture)
    screenshot,
):
    # Given a running experiment whose results were computed yesterday and today
    assert capi.put("experiments/checkout_test/start").status_code == 200
    traffic.refresh_from_db()
    pulse_compute(experiment=traffic, now=datetime.now(UTC) - timedelta(days=1))
    pulse_compute(experiment=traffic)

    # When a member opens the experiment page
    page = logged_in_page(
        world.users[Role.MEMBER], path=f"/p/{world.project.slug}/experiments/checkout_test/"
    )
    results = page.get_by_role("region", name="Results")

    # Then each metric shows Test against Control with its lift, interval, units and means
    purchases = results.locator('[data-metric-result="purchases::event_count"]')
    expect(purchases).to_contain_text("Test vs Control")
    expect(purchases.locator('[data-comparison="Test"] .lift-bar')).to_be_visible()
    expect(purchases).to_contain_text("2 / 3")  # units: Test / Control
    expect(purchases.locator("[data-lift-history]")).to_be_visible()
    expect(results).to_contain_text("1 seen in several groups, left out")
    expect(results.locator("[data-srm-warning]")).to_have_count(0)
    expect(results.locator("[data-computed-at]")).to_contain_text("Computed")
    expect(purchases).to_contain_text("CUPED")
    screenshot(page, "experiment-results")

    # When CUPED is turned off, the section reloads without it
    results.get_by_label("CUPED").select_option("off")
    expect(purchases.locator("thead")).not_to_contain_text("CUPED")
    expect(purchases).to_contain_text("+200.0%")

    # And the decision card shows the primary metrics' results next to "Ship this group"
    decision = page.get_by_role("region", name="Make a decision")
    expect(decision.locator("[data-decision-results]")).to_contain_text("purchases")

    # When Recompute is pressed, the page comes back to the results with a note
    results.get_by_role("button", name="Recompute").click()
    expect(page.locator(".messages")).to_contain_text("Results are being recomputed")
    expect(page.get_by_role("region", name="Results")).to_contain_text("Test vs Control")
