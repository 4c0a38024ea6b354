"""The README stays true: its screenshots are the screens the snapshot tests check, not an
older look, and the two commands at its top are the ones CI and a newcomer run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SNAPSHOTS = ROOT / "tests" / "ui" / "__snapshots__" / "test_snapshots"

SCREENSHOTS = {
    "docs/screenshots/main-screen-160x48.svg": "test_main_screen_160x48.svg",
    "docs/screenshots/main-screen-80x24.svg": "test_main_screen_80x24.svg",
    "docs/screenshots/zoom-deflate-on-oom.svg": "test_zoom_on_the_vm_that_deflated_on_oom.svg",
}


def test_the_readme_shows_the_screens_the_snapshot_tests_check():
    shown = set(re.findall(r"\]\((docs/screenshots/[^)]+\.svg)\)", README))
    assert shown == set(SCREENSHOTS), "README screenshots and this list differ"
    for picture, snapshot in SCREENSHOTS.items():
        assert (ROOT / picture).read_bytes() == (SNAPSHOTS / snapshot).read_bytes(), (
            f"{picture} is older than the snapshot it shows: after --snapshot-update, "
            f"cp {SNAPSHOTS.relative_to(ROOT)}/{snapshot} {picture}")


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.+?)\n```", README)
    run, test = commands[0], commands[1]
    assert "balloontui demo" in run
    assert test == "bash tests/run"
    assert test in (ROOT / ".ci" / "run").read_text()
