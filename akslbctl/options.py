"""What a command asks of the probe round and of Azure's view: plain settings, importable before the
analysis is (``explain`` builds them while the evidence is still being read)."""

from __future__ import annotations

from typing import Any

from akslbctl.records import record


@record(frozen=True)
class ProbeOptions:
    enabled: bool = True
    timeout: float = 5.0
    concurrency: int | None = None  # None: as many at once as the descriptor limit allows
    deadline: Any = None  # akslbctl.deadline.Deadline: the round ends (DeadlineExceeded) when it passes


@record(frozen=True)
class AzureOptions:
    """``enabled``: ask ARM at all (``--no-azure-health`` turns it off); ``endpoint``: the ARM endpoint
    (``--arm-endpoint``); ``wait``: seconds one rule's long-running operation may take."""

    enabled: bool = True
    endpoint: str | None = None
    wait: float = 30.0
