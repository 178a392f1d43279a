"""SAMP: a real TOPCAT and a real Aladin under Xvfb on a private hub; error cases with pyvo clients."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest
from helpers import make_catalogue
from vo_tools import require_tool

from sos_vo.publish import samp, write_catalogue
from sos_vo.publish.samp import SampError

pyvo_samp = pytest.importorskip("pyvo.samp")


def _set_hub_env(lockfile) -> str | None:
    old = os.environ.get("SAMP_HUB")
    os.environ["SAMP_HUB"] = f"std-lockurl:{lockfile.as_uri()}"
    return old


def _restore_hub_env(old: str | None) -> None:
    if old is None:
        os.environ.pop("SAMP_HUB", None)
    else:
        os.environ["SAMP_HUB"] = old


@pytest.fixture
def private_hub(tmp_path):
    """A pyvo hub on 127.0.0.1 with its own lockfile, named by $SAMP_HUB for this test."""
    lock = tmp_path / "lockfile"
    old = _set_hub_env(lock)
    hub = samp.start_hub(lock)
    yield hub
    if hub.is_running:
        hub.stop()
    _restore_hub_env(old)


class Receiver:
    """A pyvo SAMP client standing in for a viewer: records the table messages it gets."""

    def __init__(self, name="fake-viewer", on_call=None):
        self.calls = []
        self.client = pyvo_samp.SAMPIntegratedClient(name=name, metadata={"samp.name": name},
                                                     addr="127.0.0.1")
        self.client.connect()
        self.on_call = on_call
        for mtype in ("table.load.votable", "table.load.fits"):
            self.client.bind_receive_call(mtype, self._receive)

    def _receive(self, private_key, sender_id, msg_id, mtype, params, extra):
        self.calls.append((mtype, params))
        if self.on_call is not None:
            self.on_call()
            return
        self.client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})

    def close(self):
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - hub may be gone in the hub-failure test
            pass


# ------------------------------------------------------------------ no real viewer needed
def test_no_hub_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'no-lockfile').as_uri()}")
    path = write_catalogue(make_catalogue(3), tmp_path / "c.vot")
    with pytest.raises(SampError, match="no SAMP hub is running.*--start-hub"):
        samp.send_table(path)
    assert not samp.hub_is_running()


def test_send_to_named_client_and_broadcast(tmp_path, private_hub):
    viewer, other = Receiver("fake-viewer"), Receiver("other-viewer")
    try:
        vot = write_catalogue(make_catalogue(3), tmp_path / "c.vot")
        result = samp.send_table(vot, to="FAKE-viewer")
        assert list(result.names.values()) == ["fake-viewer"] and other.calls == []
        mtype, params = viewer.calls[0]
        assert mtype == "table.load.votable"
        assert params["url"] == vot.resolve().as_uri() and params["table-id"] == result.table_id
        fits_path = write_catalogue(make_catalogue(3), tmp_path / "c.fits")
        result = samp.send_table(fits_path)
        assert sorted(result.names.values()) == ["fake-viewer", "other-viewer"]
        assert viewer.calls[-1][0] == other.calls[-1][0] == "table.load.fits"
        watcher = samp.connect("watcher")
        assert "sos-vo" not in samp.registered_clients(watcher).values()  # we unregister
        samp.disconnect(watcher)
    finally:
        viewer.close()
        other.close()


def test_unknown_client_is_named(tmp_path, private_hub):
    viewer = Receiver("fake-viewer")
    try:
        vot = write_catalogue(make_catalogue(3), tmp_path / "c.vot")
        with pytest.raises(SampError, match=r"no SAMP client called 'topcat'.*fake-viewer"):
            samp.send_table(vot, to="topcat")
    finally:
        viewer.close()


def test_hub_disappearing_mid_send(tmp_path, private_hub):
    """The viewer holds the reply while the hub is stopped: a clear SampError, not a hang."""
    viewer = Receiver("fake-viewer", on_call=lambda: threading.Timer(0.3, private_hub.stop).start())
    try:
        vot = write_catalogue(make_catalogue(3), tmp_path / "c.vot")
        t0 = time.monotonic()
        with pytest.raises(SampError, match="stopped answering|did not reply"):
            samp.send_table(vot, to="fake-viewer", timeout=5)
        assert time.monotonic() - t0 < 15
    finally:
        viewer.close()


# ------------------------------------------------------------------ real TOPCAT and Aladin
@pytest.fixture(scope="module")
def gui_hub(tmp_path_factory):
    """Private hub + Xvfb.  Java's ~/.samp is redirected with -Duser.home (Aladin reads only it)."""
    xvfb = require_tool("Xvfb")
    home = tmp_path_factory.mktemp("samp-home")
    lock = home / ".samp"
    old = _set_hub_env(lock)
    hub = samp.start_hub(lock)
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as fh:
        display = ":" + fh.readline().strip()
    env = {**os.environ, "DISPLAY": display, "JAVA_TOOL_OPTIONS": f"-Duser.home={home}"}
    yield env
    hub.stop()
    proc.terminate()
    proc.wait(10)
    _restore_hub_env(old)


def _start_viewer(command, env, name, timeout=120):
    proc = subprocess.Popen(command, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        samp.wait_for_client(name, timeout=timeout)
    except SampError:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return proc


def _stop_viewer(proc):
    os.killpg(proc.pid, signal.SIGTERM)  # the process group we started (wrapper + java)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def topcat(gui_hub):
    exe = require_tool("topcat")
    proc = _start_viewer([exe, "-nohub", "-samp"], gui_hub, "topcat")
    yield
    _stop_viewer(proc)


def _aladin_script(command: str, timeout: str = "15") -> dict:
    client = samp.connect("test-probe")
    try:
        (cid,) = samp.find_clients(client, "aladin", "script.aladin.send")
        return client.call_and_wait(cid, {"samp.mtype": "script.aladin.send",
                                          "samp.params": {"script": command}}, timeout)
    finally:
        samp.disconnect(client)


@pytest.fixture(scope="module")
def aladin(gui_hub, tmp_path_factory):
    """Aladin registers before its GUI is built; until then it faults on table loads (its log
    shows NullPointerException on ``aladin.dialog``) and the pyvo hub never delivers them, so
    wait until a tiny warm-up table is acknowledged."""
    exe = require_tool("aladin")
    proc = _start_viewer([exe, "-local", "-noreleasetest", "-nolog", "-noplugin"], gui_hub, "aladin")
    warm_up = write_catalogue(make_catalogue(2), tmp_path_factory.mktemp("aladin") / "warmup.vot")
    deadline = time.monotonic() + 120
    while True:
        try:
            samp.send_table(warm_up, to="aladin", timeout=4)
            break
        except SampError:
            if time.monotonic() > deadline:
                _stop_viewer(proc)
                raise
            time.sleep(1)
    yield
    _stop_viewer(proc)


def _row_list_ok(table_id, url, client_name, timeout=20.0) -> dict:
    """Ask ``client_name`` to select rows 0 and 2 of ``table_id``; poll until it knows the table
    (TOPCAT acks table.load.* at once and loads in the background: TOPCAT's SAMP behaviour)."""
    client = samp.connect("test-probe")
    try:
        cid = samp.find_clients(client, client_name, "table.select.rowList")
        (cid,) = cid
        msg = {"samp.mtype": "table.select.rowList",
               "samp.params": {"table-id": table_id, "url": url, "row-list": ["0", "2"]}}
        deadline = time.monotonic() + timeout
        while True:
            reply = client.call_and_wait(cid, msg, "10")
            if reply["samp.status"] == "samp.ok" or time.monotonic() > deadline:
                return reply
            time.sleep(0.25)
    finally:
        samp.disconnect(client)


@pytest.mark.samp
@pytest.mark.parametrize("name", ["cat.vot", "cat.fits"])
def test_topcat_loads_table_and_selects_rows(tmp_path, topcat, name):
    path = write_catalogue(make_catalogue(5), tmp_path / name)
    result = samp.send_table(path, to="topcat")
    (reply,) = result.replies.values()
    assert reply["samp.status"] == "samp.ok"
    assert result.mtype == ("table.load.fits" if name.endswith(".fits") else "table.load.votable")
    rows = _row_list_ok(result.table_id, result.url, "topcat")
    assert rows["samp.status"] == "samp.ok", rows


@pytest.mark.samp
def test_topcat_refuses_rows_of_an_unknown_table(topcat):
    """Control for the check above: rowList for a table-id TOPCAT never got is an error."""
    rows = _row_list_ok("never-sent", "file:///nonexistent.vot", "topcat", timeout=0)
    assert rows["samp.status"] == "samp.error"


@pytest.mark.samp
def test_aladin_loads_table_and_points(tmp_path, aladin):
    t = make_catalogue(5)
    path = write_catalogue(t, tmp_path / "cat.vot")
    result = samp.send_table(path, to="aladin", name="sos-cat", timeout=60)
    assert [r["samp.status"] for r in result.replies.values()] == ["samp.ok"]
    deadline = time.monotonic() + 30  # Aladin loads in the background: wait for the plane
    while True:
        status = _aladin_script("status")["samp.result"]["script.result"]
        planes = [p for p in status.split("\n\n") if "PlaneID cat.vot" in p or "sos-cat" in p]
        if planes and f"NbObj   {len(t)}" in planes[0] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert planes and f"NbObj   {len(t)}" in planes[0], status
    ra, dec = samp.table_centre(t["ra"], t["dec"])
    replies = samp.point_at(ra, dec, to="aladin", timeout=60)
    assert [r["samp.status"] for r in replies.values()] == ["samp.ok"]


@pytest.mark.samp
def test_broadcast_reaches_topcat_and_aladin(tmp_path, topcat, aladin):
    path = write_catalogue(make_catalogue(4), tmp_path / "cat.vot")
    result = samp.send_table(path, timeout=60)
    names = sorted(n.lower() for n in result.names.values())
    assert names == ["aladin", "topcat"]
    assert all(r["samp.status"] == "samp.ok" for r in result.replies.values())


def test_table_centre_wraps_ra():
    ra, dec = samp.table_centre([359.0, 1.0], [0.0, 0.0])
    assert min(abs(ra - 0.0), abs(ra - 360.0)) < 1e-9 and abs(dec) < 1e-9
