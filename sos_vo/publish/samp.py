"""Send tables to TOPCAT, Aladin or any SAMP client, and point Aladin at a position.

Uses :mod:`pyvo.samp` (``astropy.samp`` is deprecated since astropy 8).  The hub is found the
standard way: ``$SAMP_HUB`` (e.g. ``std-lockurl:file:///tmp/lockfile``) or ``~/.samp``.

* :func:`send_table` sends ``table.load.votable`` (or ``table.load.fits``) with a ``table-id``
  to one named client or to every client subscribed to that MType, waits for each reply and
  raises :class:`SampError` unless every recipient answered ``samp.ok``.
* :func:`point_at` sends ``coord.pointAt.sky`` (Aladin, TOPCAT) to the clients subscribed to
  it, or Aladin's ``script.aladin.send`` as a fallback.
* :func:`start_hub` starts a hub on 127.0.0.1 (web profile off) when none runs.

No hub, a hub that disappears while sending, an unknown client, or an error reply all raise
:class:`SampError` (a :class:`sos_vo.exceptions.SosVoError`) with a message saying what to do.
"""

from __future__ import annotations

import os
import time
import uuid
import xmlrpc.client
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ..exceptions import SosVoError

CLIENT_NAME = "sos-vo"
"""``samp.name`` under which this package registers."""

DEFAULT_TIMEOUT_S = 30
"""Seconds to wait for each client's reply (TOPCAT acks a table load in well under a second)."""

TABLE_MTYPES = {".vot": "table.load.votable", ".xml": "table.load.votable",
                ".votable": "table.load.votable", ".fits": "table.load.fits",
                ".fit": "table.load.fits", ".fts": "table.load.fits"}
"""SAMP MType by file suffix (SAMP MTypes list, https://www.ivoa.net/samp/)."""

HUB_GONE_PINGS = 10
"""Pings (0.1 s apart) that tell a hub shutting down from a client sending an invalid reply."""

POINT_MTYPE = "coord.pointAt.sky"
ALADIN_SCRIPT_MTYPE = "script.aladin.send"


class SampError(SosVoError, RuntimeError):
    """No SAMP hub, hub gone, client not found, or a client replied with an error."""


@dataclass
class SendResult:
    """What :func:`send_table` did: the table-id used and each recipient's reply."""

    table_id: str
    url: str
    mtype: str
    replies: dict[str, dict] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def _client_module():
    from pyvo import samp  # imported lazily: only the SAMP commands need it

    return samp


LOCKURL_PREFIX = "std-lockurl:"
"""Prefix of ``$SAMP_HUB`` in the SAMP 1.3 Standard Profile (hub discovery): the only
profile pyvo.samp (and this module) can use."""


def check_hub_variable() -> str | None:
    """The value of ``$SAMP_HUB``, or None if unset; a value this package cannot use is an error.

    Raises
    ------
    SampError
        ``$SAMP_HUB`` is set but empty or blank (pyvo would fail with an AttributeError), or does
        not start with ``std-lockurl:`` (pyvo would refuse it as an unsupported profile).
    """
    value = os.environ.get("SAMP_HUB")
    if value is None:
        return None
    if not value.strip():
        raise SampError("$SAMP_HUB is set but empty: unset it to use the hub of ~/.samp, or set "
                        f"it to {LOCKURL_PREFIX}file:///path/to/lockfile")
    if not value.startswith(LOCKURL_PREFIX):
        raise SampError(f"$SAMP_HUB={value!r} is not a SAMP Standard Profile hub address: "
                        f"expected {LOCKURL_PREFIX}URL, e.g. {LOCKURL_PREFIX}file:///tmp/samp-lock")
    return value


def hub_lockfile() -> Path | None:
    """Lockfile named by ``$SAMP_HUB`` (``std-lockurl:file://...``), or None for the default.

    Raises :class:`SampError` for a ``$SAMP_HUB`` that cannot be used (:func:`check_hub_variable`).
    """
    value = check_hub_variable() or ""
    if value.startswith(LOCKURL_PREFIX):
        url = urlparse(value[len("std-lockurl:"):])
        if url.scheme == "file":
            return Path(url.path)
    return None


def connect(name: str = CLIENT_NAME, *, callable: bool = False):
    """Register with the running hub and return the connected SAMPIntegratedClient."""
    check_hub_variable()
    samp = _client_module()
    client = samp.SAMPIntegratedClient(name=name, description="Survey of Surveys ML (sos-vo)",
                                       metadata={"samp.name": name}, addr="127.0.0.1",
                                       callable=callable)
    try:
        client.connect()
    except (samp.SAMPHubError, OSError) as exc:
        where = os.environ.get("SAMP_HUB", "~/.samp")
        raise SampError(f"no SAMP hub is running (looked for {where}): start TOPCAT or Aladin "
                        "first, or pass start_hub=True / --start-hub to start one") from exc
    return client


def disconnect(client) -> None:
    """Unregister ``client`` and drop the hub connection, even if the hub is gone.

    ``SAMPIntegratedClient.disconnect`` skips the unregistration of a non-callable client
    (pyvo 1.9 tests ``client.is_running``, which is False for those), leaving it registered.
    """
    try:
        if client.hub.is_connected:
            client.client.unregister()
    except Exception:  # noqa: BLE001 - the hub may be gone already; nothing left to undo
        pass
    finally:
        try:
            if client.client.is_running:
                client.client.stop()
            client.hub.disconnect()
        except Exception:  # noqa: BLE001
            pass


def start_hub(lockfile: str | os.PathLike | None = None, timeout: float = 10.0):
    """Start a SAMP hub on 127.0.0.1 (web profile off) and return it; stop it with ``.stop()``.

    ``lockfile`` defaults to the one named by ``$SAMP_HUB``, else the standard ``~/.samp``.
    """
    samp = _client_module()
    lockfile = lockfile if lockfile is not None else hub_lockfile()
    if lockfile is None and os.environ.get("SAMP_HUB"):
        raise SampError(f"cannot start a hub at $SAMP_HUB={os.environ['SAMP_HUB']!r}: its lockfile "
                        f"must be a local file ({LOCKURL_PREFIX}file:///...)")
    hub = samp.SAMPHubServer(web_profile=False, addr="127.0.0.1",
                             lockfile=str(lockfile) if lockfile else None)
    hub.start(wait=False)
    deadline = time.monotonic() + timeout
    while not hub.is_running and time.monotonic() < deadline:  # pragma: no cover - fast
        time.sleep(0.05)
    return hub


def hub_is_running() -> bool:
    """True if a hub answers at ``$SAMP_HUB`` / ``~/.samp``."""
    try:
        client = connect(CLIENT_NAME + "-probe")
    except SampError:
        return False
    disconnect(client)
    return True


def _hub_gone(action: str, exc: Exception) -> SampError:
    return SampError(f"the SAMP hub stopped answering while {action} ({type(exc).__name__}: {exc}); "
                     "restart TOPCAT/Aladin or the hub and send again")


def registered_clients(client) -> dict[str, str]:
    """{client id: samp.name} of every other client on the hub."""
    out = {}
    for cid in client.get_registered_clients():
        out[cid] = str(client.get_metadata(cid).get("samp.name", cid))
    return out


def find_clients(client, target: str | None, mtype: str) -> dict[str, str]:
    """Recipients: the clients named ``target`` (samp.name, case-insensitive, or a client id), or
    every client subscribed to ``mtype`` when ``target`` is None."""
    clients = registered_clients(client)
    if target is None:
        chosen = {cid: n for cid, n in clients.items() if mtype in client.get_subscriptions(cid)}
        if not chosen:
            raise SampError(f"no SAMP client subscribed to {mtype} is registered "
                            f"(registered: {', '.join(sorted(clients.values())) or 'none'})")
        return chosen
    chosen = {cid: n for cid, n in clients.items() if target.lower() in (n.lower(), cid.lower())}
    if not chosen:
        raise SampError(f"no SAMP client called {target!r} is registered with the hub "
                        f"(registered: {', '.join(sorted(clients.values())) or 'none'})")
    for cid, n in chosen.items():
        if mtype not in client.get_subscriptions(cid):
            raise SampError(f"SAMP client {n} ({cid}) does not accept {mtype}")
    return chosen


def wait_for_client(target: str, timeout: float = 60.0, poll_s: float = 0.25,
                    mtype: str = "table.load.votable") -> str:
    """Wait until a client called ``target`` registers and subscribes to ``mtype``; return its id.

    Registration and the declaration of subscriptions are two steps in SAMP: a client just
    registered may not accept messages yet.
    """
    client = connect(CLIENT_NAME + "-wait")
    try:
        deadline = time.monotonic() + timeout
        while True:
            found = [cid for cid, n in registered_clients(client).items()
                     if n.lower() == target.lower() and mtype in client.get_subscriptions(cid)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise SampError(f"SAMP client {target!r} did not register (and subscribe to {mtype}) "
                                f"within {timeout:g} s")
            time.sleep(poll_s)
    finally:
        disconnect(client)


def _call(client, cid: str, name: str, message: dict, timeout: float, action: str) -> dict:
    samp = _client_module()
    try:
        reply = client.call_and_wait(cid, message, str(int(np.ceil(timeout))))
    except (samp.SAMPHubError, samp.SAMPProxyError, samp.SAMPClientError, OSError,
            xmlrpc.client.ProtocolError) as exc:
        if isinstance(exc, samp.SAMPProxyError) and "timeout" in str(exc).lower():
            raise SampError(f"{name} ({cid}) did not reply within {timeout:g} s while {action}") from exc
        raise _hub_gone(action, exc) from exc
    status = reply.get("samp.status") if isinstance(reply, dict) else None
    if status is None:  # a hub shutting down answers pending calls with an empty reply
        for _ in range(HUB_GONE_PINGS):
            try:
                client.hub.ping()
            except Exception as exc:  # noqa: BLE001 - any failure means the hub is gone
                raise _hub_gone(action, exc) from exc
            time.sleep(0.1)
        raise SampError(f"{name} ({cid}) sent a reply without samp.status while {action}: {reply!r}")
    if status != "samp.ok":
        text = reply.get("samp.error", {}).get("samp.errortxt", "no error text")
        raise SampError(f"{name} ({cid}) replied {status} while {action}: {text}")
    return reply


def send_table(path: str | os.PathLike, *, to: str | None = None, name: str | None = None,
               table_id: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> SendResult:
    """Send a VOTable or FITS table file to SAMP clients and wait for their replies.

    Parameters
    ----------
    path : path-like
        The table file (``.vot``/``.xml`` -> ``table.load.votable``, ``.fits`` -> ``table.load.fits``).
    to : str, optional
        samp.name (``"topcat"``, ``"Aladin"``) or client id of the recipient; every client
        subscribed to the MType when omitted.
    name : str, optional
        Table name shown by the client (default: the file name).
    table_id : str, optional
        SAMP ``table-id`` (default: a unique ``sos-vo-<name>-<hex>``).
    timeout : float
        Seconds to wait for each reply.

    Returns
    -------
    SendResult

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    SampError
        No hub, hub gone, unknown client, or a reply other than samp.ok.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    mtype = TABLE_MTYPES.get(path.suffix.lower())
    if mtype is None:
        raise SampError(f"cannot send {path.name}: expected a VOTable (.vot, .xml) or FITS (.fits) file")
    table_id = table_id or f"sos-vo-{path.stem}-{uuid.uuid4().hex[:8]}"
    result = SendResult(table_id=table_id, url=path.as_uri(), mtype=mtype)
    message = {"samp.mtype": mtype,
               "samp.params": {"url": result.url, "table-id": table_id, "name": name or path.name}}
    client = connect()
    try:
        try:
            recipients = find_clients(client, to, mtype)
        except (_client_module().SAMPHubError, OSError) as exc:
            raise _hub_gone("looking up the clients", exc) from exc
        for cid, cname in recipients.items():
            result.replies[cid] = _call(client, cid, cname, message, timeout,
                                        f"sending {path.name} to {cname}")
            result.names[cid] = cname
    finally:
        disconnect(client)
    return result


def point_at(ra_deg: float, dec_deg: float, *, to: str | None = None,
             timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, dict]:
    """Point sky viewers (Aladin) at (ra, dec) in degrees, ICRS; return the replies by client id.

    Clients subscribed to ``coord.pointAt.sky`` get that MType; an Aladin subscribed only to
    ``script.aladin.send`` gets the script command ``"<ra> <dec>"``.
    """
    client = connect()
    replies = {}
    try:
        clients = registered_clients(client)
        targets = {cid: n for cid, n in clients.items()
                   if to is None or to.lower() in (n.lower(), cid.lower())}
        for cid, cname in targets.items():
            subs = client.get_subscriptions(cid)
            if POINT_MTYPE in subs:
                msg = {"samp.mtype": POINT_MTYPE,
                       "samp.params": {"ra": f"{ra_deg:.8f}", "dec": f"{dec_deg:.8f}"}}
            elif ALADIN_SCRIPT_MTYPE in subs:
                msg = {"samp.mtype": ALADIN_SCRIPT_MTYPE,
                       "samp.params": {"script": f"{ra_deg:.8f} {dec_deg:+.8f}"}}
            else:
                continue
            replies[cid] = _call(client, cid, cname, msg, timeout, f"pointing {cname}")
        if not replies:
            raise SampError(f"no SAMP client {'called ' + repr(to) + ' ' if to else ''}accepts "
                            f"{POINT_MTYPE} or {ALADIN_SCRIPT_MTYPE} "
                            f"(registered: {', '.join(sorted(clients.values())) or 'none'})")
    finally:
        disconnect(client)
    return replies


def table_centre(ra_deg: Sequence[float], dec_deg: Sequence[float]) -> tuple[float, float]:
    """Centre of a set of positions (mean unit vector), in degrees: where to point Aladin."""
    ra, dec = np.radians(np.asarray(ra_deg, float)), np.radians(np.asarray(dec_deg, float))
    ok = np.isfinite(ra) & np.isfinite(dec)
    if not ok.any():
        raise ValueError("no finite ra/dec to centre on")
    x = np.mean(np.cos(dec[ok]) * np.cos(ra[ok]))
    y = np.mean(np.cos(dec[ok]) * np.sin(ra[ok]))
    z = np.mean(np.sin(dec[ok]))
    return float(np.degrees(np.arctan2(y, x)) % 360.0), float(np.degrees(np.arctan2(z, np.hypot(x, y))))
