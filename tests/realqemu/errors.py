"""What can go wrong with a real guest. Every message carries the console's last lines."""


class GuestError(RuntimeError):
    """Something went wrong with a real guest."""


class GuestBootError(GuestError):
    """QEMU exited or the guest never printed its ready marker."""


class GuestExited(GuestError):
    """QEMU is gone while the test still expected an answer."""


class GuestTimeout(GuestError, TimeoutError):
    """The guest did not do what was waited for in time."""
