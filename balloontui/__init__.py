"""balloontui: watch and steer the virtio memory balloons of QEMU VMs over QMP."""

__version__ = "0.1.0"
