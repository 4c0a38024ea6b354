"""Tiny real Linux guests under QEMU (TCG) for end-to-end tests of balloontui.

``guest_image`` builds, once, a Debian cloud kernel plus a busybox initramfs that loads the
virtio balloon driver; ``guest`` boots it as a :class:`~.guest.RealGuest` with two QMP sockets
(one for the program under test, one for the test's own checks) and a serial console the test
can type into. ``conftest.py`` wraps both in fixtures (``guest_image``, ``real_guest``).
"""
