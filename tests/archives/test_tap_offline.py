"""TapClient's retry, fail-fast and overflow policy, offline.

The HTTP answers are small files under ``data/`` written in the forms the IVOA standards
define (VOSI capabilities, DALI QUERY_STATUS), served by the ``responses`` mock transport;
the integration with a real TAP server is tested against the local DaCHS mirror
(tests/archives/test_tap.py).  Only error paths are tested here.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

responses = pytest.importorskip("responses")

from sos_vo.archives.exceptions import (  # noqa: E402
    QueryError,
    QueryOverflowError,
    ServiceError,
    TransientError,
)
from sos_vo.archives.tap import TapClient  # noqa: E402

DATA = Path(__file__).parent / "data"
URL = "http://tap.example.org/tap"


def _client(sleeps: list, retries: int = 3) -> TapClient:
    return TapClient(URL, retries=retries, backoff=1.0, max_backoff=30.0, timeout=5,
                     sleep=sleeps.append)


def _capabilities(rsps, *, status: int = 200) -> None:
    rsps.add(responses.GET, f"{URL}/capabilities", body=(DATA / "capabilities.xml").read_text(),
             status=status, content_type="text/xml")


@responses.activate
def test_connection_refused_fails_at_once():
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    responses.add(responses.GET, f"{URL}/capabilities", body=refused)
    sleeps: list = []
    with pytest.raises(ServiceError, match="refused"):
        _client(sleeps).check_service()
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_dns_failure_fails_at_once():
    dns = requests.ConnectionError(socket.gaierror(-2, "Name or service not known"))
    responses.add(responses.GET, f"{URL}/capabilities", body=dns)
    sleeps: list = []
    with pytest.raises(ServiceError, match="DNS"):
        _client(sleeps).check_service()
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_reset_connection_is_retried_then_transient():
    reset = requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))
    responses.add(responses.GET, f"{URL}/capabilities", body=reset)
    sleeps: list = []
    with pytest.raises(ServiceError, match="unreachable"):
        _client(sleeps, retries=2).check_service()
    assert len(responses.calls) == 3 and sleeps == [1.0, 2.0]  # exponential back-off


@responses.activate
def test_503_then_ok_is_retried():
    responses.add(responses.GET, f"{URL}/capabilities", status=503)
    _capabilities(responses)
    sleeps: list = []
    _client(sleeps).check_service()
    assert len(responses.calls) == 2 and sleeps == [1.0]


@responses.activate
def test_rate_limit_honours_retry_after():
    responses.add(responses.GET, f"{URL}/capabilities", status=429, headers={"Retry-After": "7"})
    _capabilities(responses)
    sleeps: list = []
    _client(sleeps).check_service()
    assert sleeps == [7.0]


@responses.activate
def test_not_a_tap_service_is_not_retried():
    responses.add(responses.GET, f"{URL}/capabilities", status=404, body="no such page")
    sleeps: list = []
    with pytest.raises(ServiceError, match="not a TAP service"):
        _client(sleeps).check_service()
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_overflow_is_an_error_never_a_truncated_table():
    _capabilities(responses)
    responses.add(responses.POST, f"{URL}/sync", body=(DATA / "overflow.vot").read_bytes(),
                  content_type="application/x-votable+xml")
    with pytest.raises(QueryOverflowError):
        _client([]).run("SELECT source_id FROM gaiadr3.gaia_source", maxrec=2)


@responses.activate
def test_rows_at_the_limit_are_an_overflow_too():
    _capabilities(responses)
    responses.add(responses.POST, f"{URL}/sync", body=(DATA / "ok.vot").read_bytes(),
                  content_type="application/x-votable+xml")
    with pytest.raises(QueryOverflowError):
        _client([]).run("SELECT source_id FROM gaiadr3.gaia_source", maxrec=1)
    assert len(_client([]).run("SELECT source_id FROM gaiadr3.gaia_source", maxrec=10)) == 1


@responses.activate
def test_query_error_carries_the_server_message():
    _capabilities(responses)
    responses.add(responses.POST, f"{URL}/sync", body=(DATA / "error.vot").read_bytes(),
                  content_type="application/x-votable+xml")
    with pytest.raises(QueryError, match="nosuchcolumn"):
        _client([]).run("SELECT nosuchcolumn FROM gaiadr3.gaia_source")


@responses.activate
def test_server_errors_on_the_query_use_up_the_retries():
    _capabilities(responses)
    responses.add(responses.POST, f"{URL}/sync", status=502)
    sleeps: list = []
    with pytest.raises((TransientError, QueryError)):
        _client(sleeps, retries=2).run("SELECT 1 FROM gaiadr3.gaia_source")
    assert sleeps == [1.0, 2.0]
