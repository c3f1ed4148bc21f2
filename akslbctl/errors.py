"""Exit codes (contract §4) and the errors that carry them to the CLI.

Every layer raises one of these instead of letting a client library's exception escape; the CLI
prints ``str(error)`` as one line on stderr and exits with ``error.exit_code``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PROBLEM = 1  # something is wrong (diff: drift found)
    BAD_INPUT = 2
    NO_EVIDENCE = 3  # API unreachable, auth/permission failure, no LB found
    INTERRUPTED = 130


class AkslbctlError(Exception):
    """An error with one clear line of text and a documented exit code."""

    exit_code: ExitCode = ExitCode.NO_EVIDENCE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        line = self.message if not self.hint else f"{self.message}; {self.hint}"
        # One line, whatever a server put into the message.
        return " ".join(line.split())


class UsageError(AkslbctlError):
    """Bad arguments or a Service akslbctl cannot diagnose (exit 2)."""

    exit_code = ExitCode.BAD_INPUT


class NotFoundError(UsageError):
    """The named Service (or namespace) does not exist (exit 2)."""


class CaseFileError(UsageError):
    """An unreadable or invalid case file or dump folder (exit 2)."""


class EvidenceError(AkslbctlError):
    """Could not get the evidence: unreachable API, authentication, permission (exit 3)."""

    exit_code = ExitCode.NO_EVIDENCE


class Unreachable(EvidenceError):
    pass


class AuthError(EvidenceError):
    pass


class Forbidden(EvidenceError):
    pass


class MalformedAnswer(EvidenceError):
    """An API answered with something that is not what it documents."""


class DeadlineExceeded(EvidenceError):
    """The command's overall deadline (``--deadline``) passed before the evidence was complete (exit 3)."""
