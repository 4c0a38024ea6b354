"""QEMU's one-per-second limit on BALLOON_CHANGE, as the simulator applies it."""

from __future__ import annotations

import asyncio

from balloontui.sim.event_throttle import EventThrottle

PERIOD = 0.2


def change(actual: int) -> dict[str, object]:
    return {"event": "BALLOON_CHANGE", "data": {"actual": actual}}


async def test_first_event_goes_out_at_once_and_the_last_one_at_the_end_of_the_period():
    loop = asyncio.get_running_loop()
    sent: list[tuple[float, int]] = []
    throttle = EventThrottle(lambda e: sent.append((loop.time(), e["data"]["actual"])),
                             period=PERIOD)
    start = loop.time()
    throttle.post(change(1))
    assert [a for _, a in sent] == [1]
    throttle.post(change(2))
    throttle.post(change(3))
    assert [a for _, a in sent] == [1], "events during the period wait"
    assert throttle.pending == change(3), "only the latest is kept"
    await asyncio.sleep(PERIOD * 1.5)
    assert [a for _, a in sent] == [1, 3]
    assert sent[1][0] - start >= PERIOD * 0.95


async def test_a_new_period_starts_with_each_delayed_event_and_the_throttle_then_idles():
    loop = asyncio.get_running_loop()
    sent: list[tuple[float, int]] = []
    throttle = EventThrottle(lambda e: sent.append((loop.time(), e["data"]["actual"])),
                             period=PERIOD)
    throttle.post(change(1))
    throttle.post(change(2))
    await asyncio.sleep(PERIOD * 1.2)  # 2 went out at the end of the first period...
    throttle.post(change(3))           # ...which opened a second one: 3 must wait for it.
    assert [a for _, a in sent] == [1, 2]
    await asyncio.sleep(PERIOD * 1.2)
    assert [a for _, a in sent] == [1, 2, 3]
    assert sent[2][0] - sent[1][0] >= PERIOD * 0.95
    await asyncio.sleep(PERIOD * 1.5)  # a period with nothing pending: idle again
    assert throttle.idle
    throttle.post(change(4))
    assert [a for _, a in sent] == [1, 2, 3, 4], "an idle throttle sends at once"


async def test_a_kept_event_keeps_the_timestamp_of_when_it_happened():
    sent: list[dict[str, object]] = []
    throttle = EventThrottle(sent.append, period=PERIOD)
    throttle.post({"event": "BALLOON_CHANGE", "timestamp": 1.0, "data": {"actual": 1}})
    throttle.post({"event": "BALLOON_CHANGE", "timestamp": 1.05, "data": {"actual": 2}})
    await asyncio.sleep(PERIOD * 1.5)
    assert sent[-1]["timestamp"] == 1.05


async def test_cancel_drops_the_pending_event():
    sent: list[dict[str, object]] = []
    throttle = EventThrottle(sent.append, period=PERIOD)
    throttle.post(change(1))
    throttle.post(change(2))
    throttle.cancel()
    await asyncio.sleep(PERIOD * 1.5)
    assert sent == [change(1)]
    assert throttle.idle
