import pytest

from balloontui.core.sizes import (
    GiB,
    MiB,
    PAGE_SIZE,
    SizeError,
    Units,
    align_target,
    format_size,
    parse_size,
    resolve_target,
)

MEMORY = 4 * GiB


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2G", 2 * GiB),
        ("2GiB", 2 * GiB),
        ("2 gib", 2 * GiB),
        ("1536M", 1536 * MiB),
        ("1.5g", 1536 * MiB),
        ("512MiB", 512 * MiB),
        ("536870912", 512 * MiB),
        ("536870912b", 512 * MiB),
        ("2GB", 2_000_000_000),
        ("1000KB", 1_000_000),
        ("131072p", 512 * MiB),
        ("131072 pages", 512 * MiB),
        ("75%", 3 * GiB),
        ("100%", MEMORY),
        ("1_024M", GiB),
        (".5G", 512 * MiB),
    ],
)
def test_absolute_sizes(text, expected):
    assert parse_size(text, memory=MEMORY) == expected


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [("+256M", 2 * GiB, 2 * GiB + 256 * MiB), ("-10%", 2 * GiB, 2 * GiB - round(MEMORY / 10)),
     ("-1G", 3 * GiB, 2 * GiB), ("+1024p", GiB, GiB + 4 * MiB)],
)
def test_relative_sizes_move_from_the_current_one(text, current, expected):
    assert parse_size(text, memory=MEMORY, current=current) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no size given"),
        ("lots", "is not a size"),
        ("2X", "unknown unit 'x'"),
        ("2 G B", "is not a size"),
        ("--2G", "is not a size"),
        ("1e9", "is not a size"),
        ("9" * 40, "far larger"),
        ("\x1b[31m2G", "is not a size"),
    ],
)
def test_bad_text_says_what_is_wrong(text, message):
    with pytest.raises(SizeError, match=message):
        parse_size(text, memory=MEMORY, current=GiB)


def test_percent_needs_the_memory_and_relative_needs_a_current_size():
    with pytest.raises(SizeError, match="memory, which is not known"):
        parse_size("50%")
    with pytest.raises(SizeError, match="no current size"):
        parse_size("+1G", memory=MEMORY)


def test_a_target_must_fit_the_vm():
    with pytest.raises(SizeError, match="more than the VM's memory"):
        resolve_target("5G", memory=MEMORY)
    with pytest.raises(SizeError, match="at least 1 MiB"):
        resolve_target("0", memory=MEMORY)
    with pytest.raises(SizeError, match="at least 1 MiB"):
        resolve_target("-5G", memory=MEMORY, current=GiB)


def test_growing_past_the_top_means_all_of_it():
    assert resolve_target("+1G", memory=MEMORY, current=MEMORY - 100 * MiB) == MEMORY


def test_targets_are_aligned_like_qemu_aligns_them():
    # QEMU balloons whole 4 KiB pages: num_pages = (ram - target) >> 12.
    assert resolve_target("1000000000", memory=MEMORY) % PAGE_SIZE == MEMORY % PAGE_SIZE
    odd_memory = 512 * MiB + 1000
    aligned = align_target(200 * MiB, odd_memory)
    assert (odd_memory - aligned) % PAGE_SIZE == 0 and aligned >= 200 * MiB


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "–"), (512 * MiB, "512 MiB"), (1536 * MiB, "1.50 GiB"), (1000, "1000 B"),
     (12 * MiB + 512 * 1024, "12.5 MiB"), (16 * GiB, "16 GiB"), (-256 * MiB, "-256 MiB")],
)
def test_format(value, text):
    assert format_size(value) == text


def test_format_pages():
    assert format_size(512 * MiB, Units.PAGES) == "131072 p"
