"""Simulated QEMU 7.2 VMs with virtio balloons, served over real QMP unix sockets.

For tests and demos: ``SimulatedHost(directory, [VMSpec("web-01", memory=2 * GiB)])`` (or
``SimulatedHost(directory, seed=1, count=50)`` for a varied fleet), ``await host.start()``,
then ``host.vm("web-01")`` has the socket path, the guest (``vm.fill(...)`` makes memory
pressure), faults (``vm.inject("slow", 500)``) and the logs of commands and events. On the
command line: ``balloontui sim``.

Modules: ``qmp_server`` (the protocol), ``json_stream`` (QEMU's streaming JSON input),
``event_throttle`` (QEMU's event rate limit), ``qmp_commands`` (command handlers and argument
checks), ``qom_tree`` and ``balloon_device`` (QEMU's side of the device), ``guest_model`` and
``workloads`` (the guest's memory), ``vm`` and ``vm_spec`` (one QEMU process), ``ticker`` (time
for all guests), ``host`` and ``fleet`` (many VMs), ``faults``, ``control`` and ``command``
(``balloontui sim``), ``qemu72`` (QEMU's own strings and lists, verbatim).
Nothing here imports Textual.
"""

from balloontui.sim.faults import FaultKind
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import SimulatedVM
from balloontui.sim.vm_spec import VMSpec
from balloontui.sim.workloads import WorkloadSpec

__all__ = ["FaultKind", "SimulatedHost", "SimulatedVM", "VMSpec", "WorkloadSpec"]
