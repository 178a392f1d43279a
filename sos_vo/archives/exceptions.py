"""Errors of the archive clients.  All derive from :class:`sos_vo.exceptions.SosVoError`."""

from __future__ import annotations

from ..exceptions import SosVoError


class ArchiveError(SosVoError):
    """Something went wrong talking to an archive (after the retries, if any)."""


class RegionError(SosVoError, ValueError):
    """A sky region that cannot be queried: unparsable, zero area, or too large."""


class ServiceError(ArchiveError, ValueError):
    """The URL is not a reachable TAP service (checked before any job is sent)."""


class QueryError(ArchiveError):
    """The service rejected a query (ADQL error, unknown table or column, failed job)."""


class QueryOverflowError(ArchiveError):
    """A job returned as many rows as its row limit: the result may be truncated.

    Raised instead of returning a silently truncated table; the chunked runner catches it
    and splits the chunk.
    """

    def __init__(self, message: str, maxrec: int):
        super().__init__(message)
        self.maxrec = maxrec


class TransientError(ArchiveError):
    """HTTP 429, 5xx or a time-out that persisted after all retries."""
