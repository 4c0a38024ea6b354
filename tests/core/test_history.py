from balloontui.core.history import DEFAULT_TIERS, Tier, VMHistory
from balloontui.core.sizes import GiB, MiB


def test_recent_samples_come_back_at_full_resolution():
    history = VMHistory()
    for second in range(120):
        history.record(1000.0 + second, GiB - second * MiB, GiB // 2, None, None, None)
    points = history.points(since=1060.0, max_points=1000)
    assert points.times[0] == 1060.0 and points.times[-1] == 1119.0
    assert len(points.times) == 60
    assert points.values["actual"][-1] == GiB - 119 * MiB
    assert points.values["target"][0] == GiB // 2
    assert points.values["available"] == [None] * 60  # unknown stays unknown


def test_last_sample_in_a_bucket_wins():
    history = VMHistory()
    history.record(10.1, 100 * MiB, None, None, None, None)
    history.record(10.9, 200 * MiB, None, None, None, None)
    assert history.points(0, 10).values["actual"] == [200 * MiB]


def test_thinning_keeps_the_newest_point():
    history = VMHistory()
    for second in range(500):
        history.record(float(second), second * MiB, None, None, None, None)
    points = history.points(since=0, max_points=50)
    assert len(points.times) == 50 and points.times[-1] == 499.0


def test_old_windows_use_coarser_tiers_and_memory_stays_bounded():
    history = VMHistory()
    day = 24 * 3600
    for second in range(0, day, 1):
        history.record(float(second), GiB, GiB, 500 * MiB, 400 * MiB, 100 * MiB)
    full = history.nbytes()
    for second in range(day, day + 3600):
        history.record(float(second), GiB, GiB, 500 * MiB, 400 * MiB, 100 * MiB)
    assert history.nbytes() == full  # flat once every ring is full
    slots = sum(t.slots for t in DEFAULT_TIERS)
    assert full <= slots * (8 + 5 * 4) + 1024
    hour = history.points(since=day + 3600 - 3600, max_points=10_000)
    assert 200 <= len(hour.times) <= 241  # the 15 s tier
    whole_day = history.points(since=3600.0, max_points=10_000)
    assert whole_day.times[0] <= 3600.0 + 120 and len(whole_day.times) <= 720


def test_marks_are_bounded():
    history = VMHistory(tiers=(Tier(1, 10),), max_marks=3)
    for i in range(10):
        history.mark(float(i), "stall", f"stall {i}")
    assert [m.label for m in history.marks] == ["stall 7", "stall 8", "stall 9"]
    assert [m.at for m in history.marks_since(8.0)] == [8.0, 9.0]
