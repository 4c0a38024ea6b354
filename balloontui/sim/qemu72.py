"""What QEMU 7.2.22 (Debian bookworm) says, verbatim: greeting, QOM trees, virtio strings.

Copied from the recorded transcripts and from queries against a real QEMU 7.2 with
``-device virtio-balloon-pci,id=balloon0``: the simulator answers from this data so that its replies
match a real QEMU's byte for byte where they do not depend on the guest.
"""

from __future__ import annotations

from typing import Any

VERSION: dict[str, Any] = {
    "qemu": {"micro": 22, "minor": 2, "major": 7},
    "package": "Debian 1:7.2+dfsg-7+deb12u18+b3",
}

GREETING: dict[str, Any] = {"QMP": {"version": VERSION, "capabilities": ["oob"]}}

STATS_UNKNOWN = 2**64 - 1
"""What QEMU shows for a statistic the guest has not reported."""

STAT_KEYS = (
    "stat-htlb-pgalloc", "stat-swap-out", "stat-available-memory", "stat-htlb-pgfail",
    "stat-free-memory", "stat-minor-faults", "stat-major-faults", "stat-total-memory",
    "stat-swap-in", "stat-disk-caches",
)
"""The ten ``guest-stats`` keys, in the order QEMU 7.2 prints them."""

# How a qom-set of each property fails (or not):
#   ok: accepted; interval: guest-stats-polling-interval's own checks;
#   ro / ro-backend: "Property '<type>.<name>' is not writable" (ro-backend: the property is an
#   alias of the virtio-balloon-device's); realized-pci / realized-backend / realized-link: the
#   "after it was realized" errors of the PCI proxy, of its backend, of a link property.
# Values: None for the guest-dependent ones (and the unreadable legacy-iothread); "{path}" is
# the device's own QOM path, "{child}" the path of the child object of that name.
PCI_PROPERTIES: tuple[tuple[str, str, str, Any], ...] = (
    ('type', 'string', 'ro', 'virtio-balloon-pci'),
    ('parent_bus', 'link<bus>', 'ro', '/machine/i440fx/pci.0'),
    ('realized', 'bool', 'ok', True),
    ('hotplugged', 'bool', 'ro', False),
    ('hotpluggable', 'bool', 'ro', True),
    ('failover_pair_id', 'str', 'realized-pci', ''),
    ('romfile', 'str', 'realized-pci', ''),
    ('addr', 'int32', 'realized-pci', 16),
    ('romsize', 'uint32', 'realized-pci', 4294967295),
    ('x-pcie-lnksta-dllla', 'bool', 'realized-pci', True),
    ('rombar', 'uint32', 'realized-pci', 1),
    ('x-pcie-extcap-init', 'bool', 'realized-pci', True),
    ('acpi-index', 'uint32', 'realized-pci', 0),
    ('multifunction', 'bool', 'realized-pci', False),
    ('legacy-addr', 'str', 'ro', '02.0'),
    ('migrate-extra', 'bool', 'realized-pci', True),
    ('ats', 'bool', 'realized-pci', False),
    ('x-ignore-backend-features', 'bool', 'realized-pci', False),
    ('x-pcie-pm-init', 'bool', 'realized-pci', True),
    ('aer', 'bool', 'realized-pci', False),
    ('x-pcie-flr-init', 'bool', 'realized-pci', True),
    ('x-pcie-lnkctl-init', 'bool', 'realized-pci', True),
    ('x-ats-page-aligned', 'bool', 'realized-pci', True),
    ('page-per-vq', 'bool', 'realized-pci', False),
    ('x-pcie-deverr-init', 'bool', 'realized-pci', True),
    ('virtio-pci-bus-master-bug-migration', 'bool', 'realized-pci', False),
    ('modern-pio-notify', 'bool', 'realized-pci', False),
    ('x-disable-pcie', 'bool', 'realized-pci', False),
    ('disable-legacy', 'OnOffAuto', 'realized-pci', 'off'),
    ('disable-modern', 'bool', 'realized-pci', False),
    ('free-page-reporting', 'bool', 'realized-backend', None),
    ('indirect_desc', 'bool', 'realized-backend', True),
    ('virtio-pci-device-virtio-balloon[0]', 'child<memory-region>', 'ro', '{child}'),
    ('iommu_platform', 'bool', 'realized-backend', False),
    ('deflate-on-oom', 'bool', 'realized-backend', None),
    ('use-disabled-flag', 'bool', 'realized-backend', True),
    ('event_idx', 'bool', 'realized-backend', True),
    ('bus master container[0]', 'child<memory-region>', 'ro', '{child}'),
    ('page-poison', 'bool', 'realized-backend', True),
    ('guest-stats-polling-interval', 'int', 'interval', None),
    ('guest-stats', 'guest statistics', 'ro-backend', None),
    ('x-disable-legacy-check', 'bool', 'realized-backend', False),
    ('any_layout', 'bool', 'realized-backend', True),
    ('iothread', 'link<iothread>', 'realized-link', ''),
    ('notify_on_empty', 'bool', 'realized-backend', True),
    ('virtio-pci-notify-virtio-balloon[0]', 'child<memory-region>', 'ro', '{child}'),
    ('queue_reset', 'bool', 'realized-backend', True),
    ('qemu-4-0-config-size', 'bool', 'realized-backend', False),
    ('packed', 'bool', 'realized-backend', False),
    ('use-started', 'bool', 'realized-backend', True),
    ('free-page-hint', 'bool', 'realized-backend', None),
    ('virtio-pci[1]', 'child<memory-region>', 'ro', '{child}'),
    ('virtio-pci-notify-pio-virtio-balloon[0]', 'child<memory-region>', 'ro', '{child}'),
    ('virtio-pci-common-virtio-balloon[0]', 'child<memory-region>', 'ro', '{child}'),
    ('virtio-pci[0]', 'child<memory-region>', 'ro', '{child}'),
    ('virtio-pci-isr-virtio-balloon[0]', 'child<memory-region>', 'ro', '{child}'),
    ('bus master[0]', 'child<memory-region>', 'ro', '{child}'),
    ('virtio-bus', 'child<virtio-pci-bus>', 'ro', '{child}'),
    ('virtio-backend', 'child<virtio-balloon-device>', 'ro', '{child}'),
)
"""``/machine/peripheral/balloon0``: (name, type, set rule, value), in qom-list order."""

BACKEND_PROPERTIES: tuple[tuple[str, str, str, Any], ...] = (
    ('type', 'string', 'ro-backend', 'virtio-balloon-device'),
    ('parent_bus', 'link<bus>', 'ro-backend', '{path}/virtio-bus'),
    ('realized', 'bool', 'ok', True),
    ('hotplugged', 'bool', 'ro-backend', False),
    ('hotpluggable', 'bool', 'ro-backend', False),
    ('queue_reset', 'bool', 'realized-backend', True),
    ('use-disabled-flag', 'bool', 'realized-backend', True),
    ('packed', 'bool', 'realized-backend', False),
    ('iommu_platform', 'bool', 'realized-backend', False),
    ('event_idx', 'bool', 'realized-backend', True),
    ('x-disable-legacy-check', 'bool', 'realized-backend', False),
    ('notify_on_empty', 'bool', 'realized-backend', True),
    ('any_layout', 'bool', 'realized-backend', True),
    ('use-started', 'bool', 'realized-backend', True),
    ('indirect_desc', 'bool', 'realized-backend', True),
    ('legacy-iothread', 'str', 'ro-backend', None),
    ('iothread', 'link<iothread>', 'realized-link', ''),
    ('deflate-on-oom', 'bool', 'realized-backend', None),
    ('free-page-hint', 'bool', 'realized-backend', None),
    ('page-poison', 'bool', 'realized-backend', True),
    ('qemu-4-0-config-size', 'bool', 'realized-backend', False),
    ('free-page-reporting', 'bool', 'realized-backend', None),
    ('guest-stats-polling-interval', 'int', 'interval', None),
    ('guest-stats', 'guest statistics', 'ro-backend', None),
)
"""``/machine/peripheral/balloon0/virtio-backend``, the same way."""

ROOT_LIST: tuple[tuple[str, str], ...] = (
    ('type', 'string'),
    ('objects', 'child<container>'),
    ('machine', 'child<pc-i440fx-7.2-machine>'),
    ('chardevs', 'child<container>'),
)

MACHINE_LIST: tuple[tuple[str, str], ...] = (
    ('type', 'string'),
    ('kernel', 'string'),
    ('dt-compatible', 'string'),
    ('boot', 'BootConfiguration'),
    ('memory', 'MemorySizeConfiguration'),
    ('initrd', 'string'),
    ('confidential-guest-support', 'link<confidential-guest-support>'),
    ('graphics', 'bool'),
    ('usb', 'bool'),
    ('firmware', 'string'),
    ('memory-encryption', 'string'),
    ('smp', 'SMPConfiguration'),
    ('dump-guest-core', 'bool'),
    ('phandle-start', 'int'),
    ('dumpdtb', 'string'),
    ('memory-backend', 'link<memory-backend>'),
    ('dtb', 'string'),
    ('mem-merge', 'bool'),
    ('append', 'string'),
    ('suppress-vmdesc', 'bool'),
    ('smm', 'OnOffAuto'),
    ('acpi', 'OnOffAuto'),
    ('pit', 'OnOffAuto'),
    ('pic', 'OnOffAuto'),
    ('x-oem-table-id', 'string'),
    ('bus-lock-ratelimit', 'uint64_t'),
    ('sgx-epc', 'SgxEPC'),
    ('x-oem-id', 'string'),
    ('max-fw-size', 'size'),
    ('default-bus-bypass-iommu', 'bool'),
    ('device-memory-region-size', 'int'),
    ('sata', 'bool'),
    ('vmport', 'OnOffAuto'),
    ('i8042', 'bool'),
    ('hpet', 'bool'),
    ('smbios-entry-point-type', 'str'),
    ('max-ram-below-4g', 'size'),
    ('smbus', 'bool'),
    ('unattached', 'child<container>'),
    ('fw_cfg', 'child<fw_cfg_io>'),
    ('peripheral-anon', 'child<container>'),
    ('nvdimm', 'bool'),
    ('peripheral', 'child<container>'),
    ('nvdimm-persistence', 'string'),
    ('rtc_state', 'link<isa-device>'),
    ('smram', 'link<memory-region>'),
    ('cxl-fmw', 'CXLFixedMemoryWindow'),
    ('rtc-time', 'struct tm'),
    ('acpi-device', 'link<hotplug-handler>'),
    ('hmat', 'bool'),
    ('cxl', 'bool'),
    ('pcspk-audiodev', 'str'),
    ('i440fx', 'child<i440FX-pcihost>'),
)

VIRTIO_STATUSES = (
    "VIRTIO_CONFIG_S_ACKNOWLEDGE: Valid virtio device found",
    "VIRTIO_CONFIG_S_DRIVER: Guest OS compatible with device",
    "VIRTIO_CONFIG_S_FEATURES_OK: Feature negotiation complete",
    "VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready",
)
FEATURE_PAGE_POISON = "VIRTIO_BALLOON_F_PAGE_POISON: Guest page poisoning enabled"
FEATURE_DEFLATE_ON_OOM = "VIRTIO_BALLOON_F_DEFLATE_ON_OOM: Deflate balloon when guest OOM"
FEATURE_STATS_VQ = "VIRTIO_BALLOON_F_STATS_VQ: Guest memory stats VQ available"
HOST_TRANSPORTS = (
    "VIRTIO_RING_F_EVENT_IDX: Used & avail. event fields enabled",
    "VIRTIO_RING_F_INDIRECT_DESC: Indirect descriptors supported",
    "VIRTIO_F_VERSION_1: Device compliant for v1 spec (legacy)",
    "VIRTIO_F_ANY_LAYOUT: Device accepts arbitrary desc. layouts",
    "VIRTIO_F_NOTIFY_ON_EMPTY: Notify when device runs out of avail. descs. on VQ",
)
GUEST_TRANSPORTS = (
    "VIRTIO_RING_F_EVENT_IDX: Used & avail. event fields enabled",
    "VIRTIO_F_VERSION_1: Device compliant for v1 spec (legacy)",
)
HOST_UNKNOWN_DEV_FEATURES = 1100585369600
GUEST_UNKNOWN_DEV_FEATURES = 1099511627776
