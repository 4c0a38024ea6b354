import json
from pathlib import Path

import pytest

from balloontui.core.errors import ProtocolFault
from balloontui.core.guest_stats import NOT_REPORTED, parse_guest_stats, stat_rates

# Real QEMU 7.2 recordings, copied from ../shared/qmp-transcripts so a clean clone has them.
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "sim" / "transcripts"


def _recorded_stats(name: str) -> list[dict]:
    replies, waiting = [], False
    for line in (TRANSCRIPTS / name).read_text().splitlines():
        entry = json.loads(line)
        msg = entry["msg"]
        if entry["dir"] == "send":
            waiting = msg.get("arguments", {}).get("property") == "guest-stats"
        elif waiting and "return" in msg:
            replies.append(msg["return"])
            waiting = False
    return replies


def test_real_reports_parse():
    first, second, after_inflate = _recorded_stats("qemu-7.2-balloon.jsonl")
    stats = parse_guest_stats(first)
    assert stats.available == 462811136 and stats.free == 463171584
    assert stats.caches == 2265088 and stats.total == 492847104
    assert stats.last_update == 1796064658
    assert stats.used == 492847104 - 462811136
    assert stats.age(1796064660.5) == pytest.approx(2.5)
    rates = stat_rates(stats, parse_guest_stats(second))
    assert rates.minor_faults == pytest.approx((500 - 442) / 2)
    assert rates.swap_in == 0 and rates.major_faults == 0


def test_unreported_values_are_none_never_2_64():
    reply = {"stats": {"stat-free-memory": NOT_REPORTED, "stat-swap-in": -1,
                       "stat-oom-kills": 3}, "last-update": 0}
    stats = parse_guest_stats(reply)
    assert stats.free is None and stats.get("stat-swap-in") is None
    assert stats.last_update is None and stats.age(5.0) is None
    assert stats.get("stat-oom-kills") == 3  # keys of newer QEMUs are kept


def test_rates_need_two_distinct_reports_and_survive_counter_restarts():
    a = parse_guest_stats({"stats": {"stat-major-faults": 100}, "last-update": 10})
    same = parse_guest_stats({"stats": {"stat-major-faults": 150}, "last-update": 10})
    restarted = parse_guest_stats({"stats": {"stat-major-faults": 5}, "last-update": 20})
    assert stat_rates(None, a) is None
    assert stat_rates(a, same) is None
    assert stat_rates(a, restarted).major_faults is None


@pytest.mark.parametrize(
    "reply",
    [None, [], {"stats": []}, {"stats": {"stat-free-memory": "lots"}, "last-update": 1},
     {"stats": {}, "last-update": "now"}, {"stats": {"x": True}, "last-update": 1}],
)
def test_malformed_replies_are_protocol_faults(reply):
    with pytest.raises(ProtocolFault):
        parse_guest_stats(reply)
