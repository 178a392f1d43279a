"""The output contract of sos_vo.io: overwrite replaces files, never a folder sos-vo did not write."""

import os
import subprocess
import sys

import pytest

from sos_vo.io import (
    OUTPUT_MARKER,
    InputFileError,
    OutputError,
    atomic_path,
    check_outputs,
    confined,
    read_manifest,
    remove_stale_temporaries,
)


def test_overwrite_replaces_a_file(tmp_path):
    target = tmp_path / "cat.fits"
    target.write_text("old")
    with pytest.raises(OutputError, match="already exists"):
        with atomic_path(target):
            pass
    with atomic_path(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.fits"]


def test_overwrite_never_deletes_a_foreign_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "precious.fits").write_text("user data")
    with pytest.raises(OutputError, match="did not write"):
        with atomic_path(folder, overwrite=True) as tmp:
            tmp.mkdir()
    assert (folder / "precious.fits").read_text() == "user data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_file_is_never_moved_onto_a_folder(tmp_path):
    (tmp_path / "cds").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        check_outputs([(tmp_path / "cds", "file")], overwrite=True)


def test_marked_folder_is_replaced_whole(tmp_path):
    folder = tmp_path / "model"
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        (tmp / "a.json").write_text("1")
    assert (folder / OUTPUT_MARKER).is_file()
    with atomic_path(folder, overwrite=True) as tmp:
        tmp.mkdir()
        (tmp / "b.json").write_text("2")
    assert sorted(p.name for p in folder.iterdir()) == [OUTPUT_MARKER, "b.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no backup left


@pytest.mark.parametrize("out", [".", "in.fits", "sky", "sky/x.fits"])
def test_an_input_is_never_an_output(tmp_path, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.fits").write_text("x")
    (tmp_path / "sky").mkdir()
    (tmp_path / "sky" / OUTPUT_MARKER).write_text("{}")
    (tmp_path / "sky" / "x.fits").write_text("x")
    with pytest.raises(OutputError):
        check_outputs([out], inputs=["in.fits", "sky"], overwrite=True)


@pytest.mark.parametrize("out, why", [("", "empty"), ("/dev/full/x.fits", "not a folder")])
def test_unwritable_outputs_named(out, why):
    with pytest.raises(OutputError, match=why):
        check_outputs([out])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="no permission"):
            check_outputs([ro / "x.fits"])
    finally:
        ro.chmod(0o700)


def test_failed_writer_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "cat.fits") as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_a_killed_run_are_removed(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(proc.stdout)  # a process that has exited
    stale = tmp_path / f".cat.sosvo-{dead}-deadbeef.tmp.fits"
    stale.write_text("left by SIGKILL")
    live = tmp_path / f".cat.sosvo-{os.getpid()}-cafe0000.tmp.fits"
    live.write_text("being written")
    foreign = tmp_path / ".cat.12345.tmp.fits"
    foreign.write_text("not ours")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert live.exists() and foreign.exists()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..", "a/b.vot", ""])
def test_manifest_paths_confined(tmp_path, name):
    with pytest.raises(InputFileError):
        confined(tmp_path, name, "manifest.json")


@pytest.mark.parametrize("text, match", [
    ("{}", "lacks format, tables, truth"),
    ('{"format": "votable", "tab', "not valid JSON"),
    ('{"format": "votable", "tables": {"g": "../../etc/passwd"}, "truth": "t.vot"}', "plain file"),
    ('{"format": "pickle", "tables": {"g": "g.vot"}, "truth": "t.vot"}', "unknown format"),
])
def test_bad_manifests_named(tmp_path, text, match):
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(InputFileError, match=match):
        read_manifest(tmp_path, "manifest.json", ("votable", "ecsv"))
