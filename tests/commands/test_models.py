"""``sos-vo models list | show | install | pack | remove`` and installed names as ``--model``."""

from __future__ import annotations

import shutil

import pytest

from sos_vo.cli import main
from sos_vo.ml.modelfolder import MANIFEST_FILE, WEIGHTS_NPZ, ModelFolder, sha256_file
from sos_vo.ml.registry import (
    MODELS_DIR_ENV,
    find_model,
    installed_models,
    list_models,
    resolve_models,
    user_models_dir,
)


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    path = tmp_path / "user_models"
    monkeypatch.setenv(MODELS_DIR_ENV, str(path))
    return path


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """A copy of demo_sdss named shared_sdss, packed once: (archive, its SHA-256)."""
    root = tmp_path_factory.mktemp("packs")
    folder = shutil.copytree(installed_models()["demo_sdss"], root / "shared_sdss")
    return ModelFolder(folder).pack(root / "renamed.tar.gz")


def err_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sos-vo models: error: "), err
    return err[0]


def test_list_shows_shipped_and_user_models(user_dir, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert str(user_dir) in out
    for name in ("demo_sdss", "demo_skymapper"):
        line = next(line for line in out.splitlines() if line.split()[:1] == [name])
        assert "synthetic" in line and "shipped" in line and MANIFEST_FILE in line
    assert main(["models", "install", str(installed_models()["demo_sdss"]), "--name", "mine"]) == 0
    capsys.readouterr()
    assert main(["models", "list", "--paths"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.split()[:1] == ["mine"])
    assert "user" in line and str(user_dir / "mine") in line and " sdss " in line


def test_install_archive_checks_the_sha256(user_dir, packed, capsys):
    archive, sha = packed
    wrong = sha[:-1] + ("0" if sha[-1] != "0" else "1")
    assert main(["models", "install", str(archive), "--sha256", wrong]) == 2
    assert "SHA-256" in err_line(capsys)
    assert not user_dir.exists() or not any(user_dir.iterdir())
    assert main(["models", "install", str(archive), "--sha256", "xyz"]) == 2
    assert "64 hexadecimal" in err_line(capsys)
    assert main(["models", "install", str(archive), "--sha256", sha.upper()]) == 0
    assert "installed shared_sdss (sdss, synthetic labels, 3 members)" in capsys.readouterr().out
    installed = user_dir / "shared_sdss"
    assert ModelFolder(installed).verify(strict=True)
    assert sorted(p.name for p in user_dir.iterdir()) == ["shared_sdss"]  # no staging left
    for p in installed_models()["demo_sdss"].iterdir():
        assert (installed / p.name).read_bytes() == p.read_bytes()


def test_install_refuses_overwrite_and_shipped_names(user_dir, packed, capsys):
    archive, _ = packed
    assert main(["models", "install", str(archive), "--name", "a"]) == 0
    before = sha256_file(user_dir / "a" / WEIGHTS_NPZ)
    assert main(["models", "install", str(archive), "--name", "a"]) == 2
    assert "already installed" in err_line(capsys)
    assert main(["models", "install", str(archive), "--name", "demo_skymapper"]) == 2
    assert "shipped" in err_line(capsys)
    assert main(["models", "install", str(archive), "--name", "../x"]) == 2
    assert "model name" in err_line(capsys)
    assert main(["models", "install", str(archive), "--name", "a", "--overwrite"]) == 0
    assert sha256_file(user_dir / "a" / WEIGHTS_NPZ) == before
    assert sorted(p.name for p in user_dir.iterdir()) == ["a"]


def test_damaged_model_is_never_half_installed(user_dir, tmp_path, packed, capsys):
    archive, _ = packed
    assert main(["models", "install", str(archive), "--name", "good"]) == 0
    bad = shutil.copytree(installed_models()["demo_sdss"], tmp_path / "bad")
    with open(bad / WEIGHTS_NPZ, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02\x03")
    # a damaged replacement leaves the installed model as it was
    assert main(["models", "install", str(bad), "--name", "good", "--overwrite"]) == 2
    line = err_line(capsys)
    assert f"{WEIGHTS_NPZ}: checksum differs from {MANIFEST_FILE}" in line
    assert ModelFolder(user_dir / "good").verify(strict=True)
    assert sorted(p.name for p in user_dir.iterdir()) == ["good"]
    # an extra file the manifest does not list is refused
    extra = shutil.copytree(installed_models()["demo_sdss"], tmp_path / "extra")
    (extra / "notes.txt").write_text("x")
    assert main(["models", "install", str(extra)]) == 2
    assert "notes.txt: not listed" in err_line(capsys)
    assert main(["models", "install", str(tmp_path / "missing.tar.gz")]) == 2
    assert "no such model folder" in err_line(capsys)
    (tmp_path / "x.txt").write_text("x")
    assert main(["models", "install", str(tmp_path / "x.txt")]) == 2
    assert "not a model folder or an archive" in err_line(capsys)
    assert main(["models", "install", str(bad), "--sha256", "0" * 64]) == 2
    assert "--sha256 checks an archive" in err_line(capsys)


def test_old_folder_without_manifest_installs_with_one(user_dir, tmp_path, caplog):
    old = shutil.copytree(installed_models()["demo_skymapper"], tmp_path / "old_sm")
    (old / MANIFEST_FILE).unlink()
    assert main(["models", "install", str(old)]) == 0
    assert any("no SHA256SUMS" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)
    assert ModelFolder(user_dir / "old_sm").verify(strict=True)
    assert (user_dir / "old_sm" / MANIFEST_FILE).read_text() == \
        (installed_models()["demo_skymapper"] / MANIFEST_FILE).read_text()


def test_show_prints_card_and_checked_files(user_dir, capsys):
    assert main(["models", "show", "demo_sdss"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# SoS-ML ensemble: sdss") and "SYNTHETIC" in out
    assert "- installed: shipped" in out
    assert "checksums: all 6 files match SHA256SUMS" in out
    assert "| weights.npz | 9760818 |" in out
    assert main(["models", "show", "nothing_here"]) == 2
    assert "no installed model has that name" in err_line(capsys)


def test_pack_prints_the_sha256_of_the_archive(user_dir, tmp_path, capsys):
    out = tmp_path / "sm.zip"
    assert main(["models", "pack", "demo_skymapper", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[printed.index("sha256") + 1] == sha256_file(out)
    assert main(["models", "pack", "demo_skymapper", "--out", str(out)]) == 2
    assert "already exists" in err_line(capsys)
    assert main(["models", "pack", "demo_skymapper", "--out", str(tmp_path / "sm.rar")]) == 2
    assert "must end with" in err_line(capsys)


def test_remove_only_user_models(user_dir, packed, capsys):
    archive, _ = packed
    assert main(["models", "install", str(archive), "--name", "tmp_model"]) == 0
    assert main(["models", "remove", "tmp_model"]) == 0
    assert not (user_dir / "tmp_model").exists() and not any(user_dir.iterdir())
    assert main(["models", "remove", "demo_sdss"]) == 2
    assert "cannot be removed" in err_line(capsys)
    assert main(["models", "remove", "tmp_model"]) == 2
    assert "no user-installed model" in err_line(capsys)
    assert installed_models()["demo_sdss"].is_dir()


def test_installed_names_resolve_as_model(user_dir, packed, tmp_path, monkeypatch):
    from sos_vo.commands.predict import parse_models

    archive, _ = packed
    assert main(["models", "install", str(archive), "--name", "sdss_v2"]) == 0
    assert resolve_models("sdss_v2", ["sdss"]) == {"sdss": user_dir / "sdss_v2"}
    assert resolve_models({"sdss": "sdss_v2"}, ["sdss"]) == {"sdss": user_dir / "sdss_v2"}
    assert parse_models(["sdss_v2", "demo_skymapper"]) == {
        "sdss": str(user_dir / "sdss_v2"),
        "skymapper": str(installed_models()["demo_skymapper"])}
    with pytest.raises(FileNotFoundError, match="sdss_v2"):
        resolve_models("sdss_v3", ["sdss"])
    # an existing path wins over an installed name
    monkeypatch.chdir(tmp_path)
    shutil.copytree(installed_models()["demo_skymapper"], tmp_path / "sdss_v2")
    assert find_model("sdss_v2").resolve() == (tmp_path / "sdss_v2").resolve()
    assert [m.name for m in list_models()] == ["demo_sdss", "demo_skymapper", "sdss_v2"]
    assert user_models_dir() == user_dir


def test_work_folders_of_killed_installs_are_removed(user_dir, packed):
    import os

    archive, _ = packed
    user_dir.mkdir()
    dead = user_dir / ".install-999999999-abc"  # above any pid_max: no such process
    (dead / "model").mkdir(parents=True)
    ours = user_dir / f".install-{os.getpid()}-keep"
    ours.mkdir()
    assert main(["models", "install", str(archive), "--name", "after_kill"]) == 0
    assert not dead.exists() and ours.exists()
    assert [m.name for m in list_models() if m.where == "user"] == ["after_kill"]
