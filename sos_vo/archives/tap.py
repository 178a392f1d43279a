"""A thin layer over pyvo's TAP client: checks, retries, overflow, async jobs.

:class:`TapClient` adds to :class:`pyvo.dal.TAPService`

* :meth:`TapClient.check_service` — the URL must answer ``/capabilities`` with a TAP
  capability (a clear :class:`ServiceError` before any job is sent);
* retries with exponential back-off on HTTP 429 (honouring ``Retry-After``), HTTP 5xx,
  dropped connections and time-outs (:class:`TransientError` once they are used up); a host
  name that does not resolve or a refused connection fails at once (:class:`ServiceError`);
* overflow detection: every job runs with ``MAXREC`` = the row limit, and a result whose
  status is ``OVERFLOW`` (or that has as many rows as the limit) raises
  :class:`QueryOverflowError` — never a silently truncated table;
* ADQL and job errors as :class:`QueryError` with the server's message.

astroquery's TapPlus is not used: it hangs on non-ESA async jobs and fails to read
non-ESA ``/tables``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlparse

import requests
from astropy.table import Table
from pyvo.dal import DALQueryError, DALRateLimitError, DALServiceError, TAPService

from .. import __version__
from .conf import setting
from .exceptions import QueryError, QueryOverflowError, ServiceError, TransientError

log = logging.getLogger(__name__)

TAP_STANDARD_ID = "ivo://ivoa.net/std/TAP"
"""IVOA standardID of a TAP capability (TAP 1.1, Sect. 2; VOSI capabilities)."""
UWS_FINAL_PHASES = frozenset({"COMPLETED", "ERROR", "ABORTED"})
UWS_PHASES = frozenset({"PENDING", "QUEUED", "EXECUTING", "COMPLETED", "ERROR", "ABORTED",
                        "UNKNOWN", "HELD", "SUSPENDED", "ARCHIVED"})
"""UWS 1.1 execution phases (IVOA UWS 1.1, Sect. 2.2.3.1) and the ones a job ends in."""
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
"""HTTP codes worth retrying: rate limit and server-side trouble."""


class _TimeoutHTTP(requests.Session):
    """A requests HTTP client with a default time-out on every request (pyvo sets none)."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = f"sos-vo/{__version__} (pyvo)"

    def request(self, method, url, **kwargs):  # noqa: D102 - requests API
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


def _cause_chain(exc: BaseException):
    """``exc`` and what caused it: pyvo's ``cause``, ``__cause__``/``__context__``, the
    ``reason`` of urllib3's MaxRetryError and an exception held in ``args`` (requests wraps
    urllib3's errors that way)."""
    todo, seen = [exc], set()
    while todo:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "cause", None), getattr(e, "reason", None), e.__cause__,
                 e.__context__, *[a for a in e.args if isinstance(a, BaseException)]]


def _unreachable(exc: BaseException) -> str | None:
    """Why the host cannot be reached at all, or None.

    A name that does not resolve (DNS failure) or a port that refuses connections will not
    change within a back-off of seconds, so these fail at once (one attempt) instead of
    being retried; a reset, a time-out or HTTP 429/5xx may pass and is retried.
    """
    import socket

    from urllib3.exceptions import NameResolutionError

    for e in _cause_chain(exc):
        if isinstance(e, NameResolutionError | socket.gaierror):
            return "the host name does not resolve (DNS failure)"
        if isinstance(e, ConnectionRefusedError):
            return "the connection was refused"
        text = str(e)
        if "Name or service not known" in text or "nodename nor servname" in text \
                or "Temporary failure in name resolution" in text or "getaddrinfo failed" in text:
            return "the host name does not resolve (DNS failure)"
        if "Connection refused" in text or "[Errno 111]" in text:
            return "the connection was refused"
    return None


def _transient_wait(exc: BaseException) -> float | None:
    """Seconds to wait before retrying after ``exc``; ``None`` if it is not transient.

    0 means "use the back-off"; a positive value is the server's Retry-After.
    """
    if _unreachable(exc):
        return None
    for e in _cause_chain(exc):
        if isinstance(e, DALRateLimitError):
            return float(e.retry_after_seconds or 0)
        if isinstance(e, requests.HTTPError) and e.response is not None:
            if e.response.status_code in RETRY_STATUS:
                return _retry_after(e.response)
            return None
        if isinstance(e, (requests.Timeout, requests.ConnectionError, TimeoutError)):
            return 0.0
        if isinstance(e, DALServiceError) and getattr(e, "code", None) in RETRY_STATUS:
            return 0.0
    return None


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 0.0


class TapClient:
    """One TAP endpoint with the retry, time-out and row-limit policy of :mod:`conf`.

    Parameters
    ----------
    url : str
        TAP service base URL (the one whose ``/sync``, ``/async``, ``/capabilities`` exist).
    timeout, row_limit, retries, backoff, max_backoff : optional
        Override the :data:`sos_vo.archives.conf` items of the same names.
    sleep : callable, optional
        Replaces :func:`time.sleep` (tests).
    """

    def __init__(self, url: str, *, timeout: float | None = None, row_limit: int | None = None,
                 retries: int | None = None, backoff: float | None = None,
                 max_backoff: float | None = None, sleep: Callable[[float], None] = time.sleep):
        parsed = urlparse(url or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ServiceError(f"{url!r} is not an http(s) URL of a TAP service")
        self.url = url.rstrip("/")
        self.timeout = float(setting("timeout", timeout))
        self.row_limit = int(setting("row_limit", row_limit))
        self.retries = int(setting("retries", retries))
        self.backoff = float(setting("backoff", backoff))
        self.max_backoff = float(setting("max_backoff", max_backoff))
        self._sleep = sleep
        self.http = _TimeoutHTTP(self.timeout)
        self.service = TAPService(self.url, session=self.http)
        self.jobs_sent = 0
        self._checked = False

    def __repr__(self) -> str:
        return f"TapClient({self.url!r}, row_limit={self.row_limit})"

    # ----------------------------------------------------------------------------------
    def _with_retries(self, what: str, call: Callable[[], object]):
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return call()
            except (DALServiceError, requests.RequestException, TimeoutError) as exc:
                if isinstance(exc, DALQueryError):
                    raise
                wait = _transient_wait(exc)
                if wait is None:
                    raise
                if attempt == self.retries:
                    raise TransientError(f"{what} at {self.url} failed after {attempt + 1} "
                                         f"tries: {exc}") from exc
                pause = min(wait if wait > 0 else delay, self.max_backoff)
                log.warning("%s at %s: %s; retrying in %.1f s (%d/%d)", what, self.url, exc,
                            pause, attempt + 1, self.retries)
                self._sleep(pause)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def check_service(self) -> None:
        """Raise :class:`ServiceError` unless the URL answers as a TAP service."""
        if self._checked:
            return

        def get():
            r = self.http.get(self.url + "/capabilities")
            if r.status_code in RETRY_STATUS:
                r.raise_for_status()
            return r

        try:
            response = self._with_retries("capabilities request", get)
        except TransientError as exc:
            raise ServiceError(f"TAP service {self.url} is unreachable: {exc.__cause__ or exc}") \
                from exc
        except (requests.RequestException, DALServiceError) as exc:
            why = _unreachable(exc)
            raise ServiceError(f"TAP service {self.url} is unreachable: "
                               f"{why or ' '.join(str(exc).split())}") from exc
        if response.status_code != 200 or TAP_STANDARD_ID not in response.text:
            raise ServiceError(f"{self.url} is not a TAP service: {self.url}/capabilities "
                               f"answered HTTP {response.status_code} without the TAP "
                               f"capability {TAP_STANDARD_ID}")
        self._checked = True

    # ----------------------------------------------------------------------------------
    def _check_result(self, result, adql: str, maxrec: int) -> Table:
        status = (getattr(result, "query_status", None) or "OK").upper()
        table = result.to_table()
        if status == "OVERFLOW" or len(table) >= maxrec:
            raise QueryOverflowError(
                f"query at {self.url} reached the row limit of {maxrec} rows "
                f"(status {status}); the result would be truncated", maxrec)
        return table

    def run(self, adql: str, *, maxrec: int | None = None, use_async: bool = False,
            uploads: dict[str, Table] | None = None) -> Table:
        """Run ``adql`` and return every row, or raise (never a truncated table).

        Parameters
        ----------
        adql : str
            The query.
        maxrec : int, optional
            Row limit of this job (default: the client's ``row_limit``).
        use_async : bool
            Run as an async (UWS) job instead of a sync request.
        uploads : dict of str to Table, optional
            Tables sent with the query (TAP ``UPLOAD``, inline VOTable); the query refers to
            each as ``TAP_UPLOAD.<name>``.

        Raises
        ------
        QueryError
            The server rejected the query (ADQL error, unknown column, job ERROR).
        QueryOverflowError
            The result reached ``maxrec`` rows.
        TransientError
            HTTP 429 / 5xx / time-outs persisted through all retries.
        """
        self.check_service()
        maxrec = int(maxrec or self.row_limit)
        runner = self._run_async if use_async else self._run_sync
        try:
            return self._with_retries("TAP query", lambda: runner(adql, maxrec, uploads))
        except DALQueryError as exc:
            raise QueryError(f"{self.url} rejected the query: {exc}\nADQL: {adql}") from exc
        except DALServiceError as exc:
            raise QueryError(f"TAP query at {self.url} failed: {exc}\nADQL: {adql}") from exc

    def _run_sync(self, adql: str, maxrec: int, uploads: dict[str, Table] | None = None) -> Table:
        self.jobs_sent += 1
        result = self.service.run_sync(adql, maxrec=maxrec, uploads=uploads)
        return self._check_result(result, adql, maxrec)

    def _wait(self, job) -> None:
        """Wait for the job to end with the UWS 1.1 blocking WAIT (pyvo's ``AsyncTAPJob.wait``).

        Each call blocks on the server until the phase leaves the current one (UWS 1.1,
        Sect. 2.2.1.1 ``WAIT=-1``), so a job is seen finished as soon as it is, without
        polling; services without WAIT fall back to pyvo's own polling.  Raises
        :class:`requests.Timeout` once ``self.timeout`` seconds have passed.
        """
        deadline = time.monotonic() + self.timeout
        phase = job.phase
        while phase not in UWS_FINAL_PHASES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise requests.Timeout(f"async job {job.url} not finished after {self.timeout} s")
            if phase == "PENDING":  # not yet run: pyvo's wait refuses a job that is not active
                time.sleep(0.1)
                phase = job.phase
                continue
            try:
                job.wait(phases=UWS_PHASES - {phase}, timeout=remaining)
            except DALServiceError as exc:
                if time.monotonic() >= deadline:
                    raise requests.Timeout(f"async job {job.url} not finished after "
                                           f"{self.timeout} s") from exc
                raise
            phase = job.phase

    def _run_async(self, adql: str, maxrec: int, uploads: dict[str, Table] | None = None) -> Table:
        self.jobs_sent += 1
        job = self.service.submit_job(adql, maxrec=maxrec, uploads=uploads)
        try:
            job.run()
            self._wait(job)
            if job.phase != "COMPLETED":
                raise DALQueryError(f"async job {job.url} ended in phase {job.phase}: "
                                    f"{job.job.errorsummary.message.content if job.job.errorsummary else ''}")
            return self._check_result(job.fetch_result(), adql, maxrec)
        finally:
            try:
                job.delete()
            except Exception as exc:  # the rows are safe; a leftover job is harmless
                log.debug("could not delete job %s: %s", job.url, exc)
