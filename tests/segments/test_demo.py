"""Demo data for segments."""

from segments.demo import seed_demo_data
from segments.models import Segment


def test_seed_demo_data__twice__one_rule_based_and_one_id_list(world):
    seed_demo_data(project=world.project, actor=world.actor())
    seed_demo_data(project=world.project, actor=world.actor())
    segments = {s.key: s for s in Segment.objects.filter(project=world.project)}
    assert sorted(segments) == ["beta_testers", "employees"]
    assert segments["employees"].type == "rule_based"
    assert len(segments["employees"].rules) == 1
    assert segments["beta_testers"].id_count == 50
