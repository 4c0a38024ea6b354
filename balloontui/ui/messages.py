"""Messages from the core (and from command workers) to the UI."""

from __future__ import annotations

from textual.message import Message

from balloontui.core.recognition import Notice


class VMsChanged(Message):
    """Some VMs changed; the app keeps which. A newer one replaces one still queued, so the UI
    never falls behind the data however fast the VMs change."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, VMsChanged)


class NoticeArrived(Message):
    """Something the core recognised; never replaced, never dropped."""

    def __init__(self, notice: Notice) -> None:
        super().__init__()
        self.notice = notice


class CommandFinished(Message):
    """A command to a VM (target, stats interval) is done; ``error`` says why not, if not."""

    def __init__(self, vm: str, done: str | None, error: str | None) -> None:
        super().__init__()
        self.vm = vm
        self.done = done
        self.error = error
