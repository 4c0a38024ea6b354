"""Build (once) and cache the kernel + initramfs the real-QEMU tests boot.

The kernel is Debian's ``linux-image-cloud-amd64`` (small, virtio drivers as modules); the
initramfs is busybox-static plus the six modules the balloon needs. Everything is built by an
unprivileged user (``apt-get download`` + ``dpkg -x``, no root, no mknod: the kernel's built-in
initramfs already provides ``/dev/console``) and cached under ``tests/.guest-cache/<key>/``.

Two pytest processes may race to build: a lock file serialises them, and the image is built in a
temporary directory that is renamed into place, so a half-built image is never seen.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import lzma
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

KERNEL_META_PACKAGE = "linux-image-cloud-amd64"

MODULES = (
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "virtio_balloon",
)
"""Loaded in this order: each needs the ones before it."""

READY_MARKER = "BALLOONTUI-GUEST-READY"
FAILED_MARKER = "BALLOONTUI-GUEST-FAILED"

# panic_on_oom: without deflate-on-oom, memory pressure must kill the guest deterministically
# (with `panic=1 -no-reboot` QEMU then reports SHUTDOWN guest-reset and exits) instead of the
# OOM killer picking a victim, maybe the test's own shell.
INIT_SCRIPT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in {" ".join(MODULES)}; do
  insmod /lib/modules/$m.ko || echo {FAILED_MARKER} insmod $m
done
echo 1 > /proc/sys/vm/panic_on_oom
echo {READY_MARKER}
exec sh
"""

DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / ".guest-cache"


class GuestImageError(RuntimeError):
    """The guest image cannot be built; the message says what is missing."""


@dataclass(frozen=True)
class GuestImage:
    """A bootable guest: ``-kernel`` and ``-initrd`` for QEMU."""

    kernel: Path
    initrd: Path
    kernel_package: str


def ensure_guest_image(cache_dir: Path | None = None) -> GuestImage:
    """Return the cached guest image, building it first if needed (takes ~10–30 s once)."""
    cache_dir = Path(os.environ.get("BALLOONTUI_GUEST_CACHE", cache_dir or DEFAULT_CACHE_DIR))
    cache_dir.mkdir(parents=True, exist_ok=True)
    busybox = _static_busybox()
    package = _resolve_kernel_package(cache_dir)
    key = _cache_key(package, busybox)
    final = cache_dir / key
    if not _complete(final):
        with _locked(cache_dir / ".lock"):
            if not _complete(final):  # another process may have built it while we waited
                _build(final, package, busybox)
    return _load(final)


def _complete(image_dir: Path) -> bool:
    return (image_dir / "image.json").is_file()


def _load(image_dir: Path) -> GuestImage:
    meta = json.loads((image_dir / "image.json").read_text())
    return GuestImage(
        kernel=image_dir / "vmlinuz",
        initrd=image_dir / "initrd.gz",
        kernel_package=meta["kernel_package"],
    )


def _cache_key(package: str, busybox: Path) -> str:
    digest = hashlib.sha256()
    digest.update(INIT_SCRIPT.encode())
    digest.update(busybox.read_bytes())
    return f"{package}-{digest.hexdigest()[:12]}"


@contextlib.contextmanager
def _locked(lock_path: Path):
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(argv: list[str], *, cwd: Path | None = None, what: str) -> str:
    if shutil.which(argv[0]) is None:
        raise GuestImageError(f"{what}: `{argv[0]}` is not installed (tests/run installs it)")
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise GuestImageError(
            f"{what}: `{' '.join(argv)}` failed ({result.returncode}):\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout


def _resolve_kernel_package(cache_dir: Path) -> str:
    """``linux-image-cloud-amd64`` is a meta package; return the real one it depends on."""
    try:
        out = _run(["apt-cache", "depends", KERNEL_META_PACKAGE], what="resolving the kernel")
    except GuestImageError as error:
        # Offline or no apt lists: an image built earlier is still good enough.
        built = sorted(p for p in cache_dir.glob("linux-image-*") if _complete(p))
        if built:
            return built[-1].name.rsplit("-", 1)[0]
        raise GuestImageError(
            f"{error}\nThe apt package lists may be missing: run `apt-get update` "
            "(tests/run does when needed)."
        ) from None
    for line in out.splitlines():
        kind, _, name = line.strip().partition(":")
        name = name.strip()
        if kind.endswith("Depends") and name.startswith("linux-image-"):
            return name
    raise GuestImageError(f"`apt-cache depends {KERNEL_META_PACKAGE}` names no kernel:\n{out}")


def _static_busybox() -> Path:
    found = shutil.which("busybox")
    if found is None:
        raise GuestImageError("busybox is not installed: install busybox-static (tests/run does)")
    path = Path(found).resolve()
    if _has_interpreter(path):
        raise GuestImageError(
            f"{path} is dynamically linked and cannot run alone in the guest: "
            "install busybox-static instead of busybox"
        )
    return path


def _has_interpreter(elf: Path) -> bool:
    """True if a 64-bit ELF has a PT_INTERP header, i.e. needs a dynamic loader."""
    with open(elf, "rb") as f:
        header = f.read(64)
        if header[:5] != b"\x7fELF\x02":
            return True  # not a 64-bit ELF: treat as unusable
        phoff, = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(
        struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum)
    )


def _build(final: Path, package: str, busybox: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    try:
        _run(["apt-get", "download", package], cwd=work, what="downloading the kernel")
        debs = list(work.glob(f"{package}_*.deb"))
        if len(debs) != 1:
            raise GuestImageError(f"apt-get download left {debs} in {work}")
        tree = work / "kernel"
        _run(["dpkg", "-x", str(debs[0]), str(tree)], what="unpacking the kernel")

        out = work / "image"
        out.mkdir()
        vmlinuz = sorted((tree / "boot").glob("vmlinuz-*"))
        if not vmlinuz:
            raise GuestImageError(f"no boot/vmlinuz-* in {debs[0].name}")
        shutil.copyfile(vmlinuz[0], out / "vmlinuz")

        root = work / "root"
        for d in ("bin", "dev", "proc", "sys", "lib/modules"):
            (root / d).mkdir(parents=True)
        shutil.copyfile(busybox, root / "bin/busybox")
        (root / "bin/busybox").chmod(0o755)
        (root / "init").write_text(INIT_SCRIPT)
        (root / "init").chmod(0o755)
        for name in MODULES:
            _copy_module(tree, name, root / "lib/modules" / f"{name}.ko")
        _make_initramfs(root, out / "initrd.gz")

        (out / "image.json").write_text(
            json.dumps({"kernel_package": package, "deb": debs[0].name, "modules": MODULES})
        )
        try:
            os.rename(out, final)
        except OSError:
            if not _complete(final):  # anything but "someone else finished first" is an error
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _copy_module(tree: Path, name: str, dest: Path) -> None:
    for candidate in tree.glob(f"lib/modules/*/kernel/**/{name}.ko*"):
        if candidate.name == f"{name}.ko":
            shutil.copyfile(candidate, dest)
            return
        if candidate.name == f"{name}.ko.xz":  # busybox insmod cannot decompress
            dest.write_bytes(lzma.decompress(candidate.read_bytes()))
            return
    raise GuestImageError(f"module {name}.ko (or .ko.xz) not found in the kernel package")


def _make_initramfs(root: Path, dest: Path) -> None:
    """cpio newc + gzip; sorted, owned by root, mtime 0: the same image whoever builds it."""
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    for name in [".", *names]:
        os.utime(root / name, (0, 0))
    listing = "".join(f"{n}\n" for n in [".", *names])
    for tool in ("cpio", "gzip"):
        if shutil.which(tool) is None:
            raise GuestImageError(f"`{tool}` is not installed (tests/run installs it)")
    with open(dest, "wb") as out:
        cpio = subprocess.Popen(
            ["cpio", "--create", "--format=newc", "--owner=0:0", "--reproducible", "--quiet"],
            cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        gzip = subprocess.Popen(["gzip", "-9", "-n"], stdin=cpio.stdout, stdout=out)
        assert cpio.stdout is not None and cpio.stdin is not None
        cpio.stdout.close()
        cpio.stdin.write(listing.encode())
        cpio.stdin.close()
        cpio_err = cpio.stderr.read().decode() if cpio.stderr else ""
        if cpio.wait() != 0 or gzip.wait() != 0:
            raise GuestImageError(f"building the initramfs failed: {cpio_err.strip()}")
