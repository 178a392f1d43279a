"""ModelFolder: the layout in one place, checksums, bit-identical loading, safe archives."""

from __future__ import annotations

import io
import json
import logging
import shutil
import tarfile
import zipfile

import numpy as np
import pytest

from sos_vo import pipeline
from sos_vo.exceptions import ModelFormatError
from sos_vo.ml.modelfolder import (
    CARD_FILE,
    CUT_REPORT_FILE,
    LAYOUT,
    MANIFEST_FILE,
    MODEL_JSON,
    SPLITS_NPZ,
    TRAIN_AREA_FILE,
    WEIGHTS_NPZ,
    ModelFolder,
    extract_archive,
    parse_manifest,
    sha256_file,
)
from sos_vo.ml.registry import installed_models


@pytest.fixture(scope="module")
def shipped():
    found = installed_models()
    assert {"demo_sdss", "demo_skymapper"} <= set(found)
    return found


@pytest.fixture
def sdss_copy(shipped, tmp_path):
    return shutil.copytree(shipped["demo_sdss"], tmp_path / "m_sdss")


def damage(path, offset=200):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))


def test_shipped_folders_carry_a_valid_manifest(shipped):
    for name, path in shipped.items():
        folder = ModelFolder(path)
        checked = folder.verify(strict=True)
        on_disk = sorted(p.name for p in path.iterdir() if p.name != MANIFEST_FILE
                         and not p.name.startswith(("_", ".")))
        assert checked == on_disk, name
        manifest = parse_manifest((path / MANIFEST_FILE).read_text())
        assert manifest == {n: sha256_file(path / n) for n in on_disk}
        assert set(folder.files()) <= set(LAYOUT)
        assert folder.summary()["checksums"] == MANIFEST_FILE


def _old_code_path_prediction(prepared, path):
    """The files read directly, as the loading code did before ModelFolder existed."""
    from sos_vo.catalogue.merge import make_prediction_table
    from sos_vo.catalogue.train_area import TrainingAreaModel
    from sos_vo.ml.inference import NumpyEnsemble
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.ml.scaling import InputScaler, LabelScaler
    from sos_vo.schema import LABELS

    meta = json.loads((path / "model.json").read_text())
    options = NetworkOptions.from_dict(meta["options"])
    with np.load(path / "weights.npz") as npz:
        layers = [(npz[f"W_{j}"].astype(np.float32), npz[f"b_{j}"].astype(np.float32))
                  for j in range(options.n_blocks + 1)]
    model = NumpyEnsemble(
        labels=tuple(meta["labels"]), n_members=int(meta["n_members"]), layers=layers,
        leaky_relu_slope=float(options.leaky_relu_slope), input_names=tuple(meta["input_names"]),
        input_scaler=InputScaler.from_dict(meta["input_scaler"]),
        label_scalers={k: LabelScaler.from_dict(v) for k, v in meta["label_scalers"].items()},
        e_train={k: float(v) for k, v in meta["e_train"].items()}, survey=meta["survey"],
        metadata=meta)
    result = model.predict(prepared.X, data_is_real=False, names=prepared.input_names)
    area = TrainingAreaModel.load(path / "train_area.npz")
    in_area = area.flag(prepared.X, feature_names=list(prepared.input_names))
    with np.load(path / "splits.npz") as npz:
        train_ids = npz["row_ids"][(npz["membership"] == 0).any(axis=0)]
    in_train = np.isin(np.asarray(prepared.joined["source_id"], dtype=np.int64), train_ids)
    return make_prediction_table(prepared.joined, prepared.survey,
                                 {k: result[k][0] for k in LABELS},
                                 {k: result[k][2] for k in LABELS}, in_train, in_area)


def test_predictions_bit_identical_to_reading_the_files_directly(shipped):
    from sos_vo.simulate import simulate_sky

    sky = simulate_sky(center=(180.0, 0.0), radius=1.0, n_stars=2500, seed=7)
    for survey in ("sdss", "skymapper"):
        prepared = pipeline.prepare_survey(sky.tables, survey)
        path = shipped[f"demo_{survey}"]
        # give 20 stars the source_ids of training rows, so that train_set is exercised too
        with np.load(path / "splits.npz") as npz:
            prepared.joined["source_id"][:20] = npz["row_ids"][:20]
        new = pipeline.predict_survey(prepared, path)
        by_name = pipeline.predict_survey(prepared, f"demo_{survey}")
        old = _old_code_path_prediction(prepared, path)
        assert new.colnames == old.colnames and len(new) == len(old) > 100
        assert 0 < np.asarray(new["train_set"]).sum() <= 20
        for c in new.colnames:
            a, b, n = np.asarray(old[c]), np.asarray(new[c]), np.asarray(by_name[c])
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes() == n.tobytes(), (survey, c)


@pytest.mark.parametrize("name, reader", [
    (WEIGHTS_NPZ, lambda f: f.load_ensemble()),
    (TRAIN_AREA_FILE, lambda f: f.train_area()),
    (SPLITS_NPZ, lambda f: f.training_source_ids()),
    (CUT_REPORT_FILE, lambda f: f.cut_report()),
    (MODEL_JSON, lambda f: f.metadata),
])
def test_a_damaged_file_is_a_one_line_error_naming_it(sdss_copy, name, reader):
    if name == MODEL_JSON:  # still valid JSON: the checksum, not the parser, must catch it
        path = sdss_copy / name
        path.write_bytes(path.read_bytes().replace(b'"n_training_rows": 6690',
                                                   b'"n_training_rows": 6691', 1))
    else:
        damage(sdss_copy / name, offset=60 if name.endswith(".ecsv") else 200)
    with pytest.raises(ModelFormatError) as exc:
        reader(ModelFolder(sdss_copy))
    msg = str(exc.value)
    assert f"{name}: checksum differs from {MANIFEST_FILE}" in msg and "\n" not in msg
    with pytest.raises(ModelFormatError, match=name):
        ModelFolder(sdss_copy).verify()
    ModelFolder(sdss_copy, verify_checksums=False).metadata  # noqa: B018  (opt-out reads it)


def test_folder_without_manifest_loads_with_a_note(sdss_copy, caplog):
    (sdss_copy / MANIFEST_FILE).unlink()
    folder = ModelFolder(sdss_copy)
    with caplog.at_level(logging.INFO, logger="sos_vo.ml.modelfolder"):
        model = folder.load_ensemble("sdss")
        folder.train_area()
    assert model.survey == "sdss"
    assert any("no SHA256SUMS" in r.getMessage() for r in caplog.records)
    assert folder.summary()["checksums"] == "none"
    with pytest.raises(ModelFormatError, match="no SHA256SUMS"):
        folder.verify(strict=True)
    damage(sdss_copy / WEIGHTS_NPZ)  # still caught: model.json records its SHA-256
    with pytest.raises(ModelFormatError, match=f"{WEIGHTS_NPZ}: checksum differs from model.json"):
        ModelFolder(sdss_copy).load_ensemble()


def test_format_version_is_reported_before_the_checksum(sdss_copy):
    meta = json.loads((sdss_copy / MODEL_JSON).read_text())
    meta["format_version"] = 99
    (sdss_copy / MODEL_JSON).write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match="format_version 99 is newer"):
        ModelFolder(sdss_copy).load_ensemble()


def test_unlisted_files_are_refused_by_strict_verify_only(sdss_copy):
    (sdss_copy / "notes.txt").write_text("my notes")
    ModelFolder(sdss_copy).load_ensemble()  # a load reads only listed files
    with pytest.raises(ModelFormatError, match="notes.txt: not listed in SHA256SUMS"):
        ModelFolder(sdss_copy).verify(strict=True)


@pytest.mark.parametrize("text, match", [
    ("not a checksum line\n", "line 1"),
    ("0" * 64 + "  ../weights.npz\n", "not a plain file name"),
    ("0" * 64 + "  weights.npz\n", "does not list model.json"),
    ("0" * 64 + "  model.json\n" + "0" * 64 + "  model.json\n", "twice"),
])
def test_malformed_manifests(sdss_copy, text, match):
    (sdss_copy / MANIFEST_FILE).write_text(text)
    with pytest.raises(ModelFormatError, match=match):
        ModelFolder(sdss_copy).load_ensemble()


def test_rewriting_the_card_keeps_the_manifest_valid(sdss_copy):
    from sos_vo.ml.modelcard import write_model_card

    (sdss_copy / CARD_FILE).write_text("edited\n")
    with pytest.raises(ModelFormatError, match="README.md: checksum"):
        ModelFolder(sdss_copy).verify()
    write_model_card(sdss_copy)
    assert ModelFolder(sdss_copy).verify(strict=True)
    assert "| survey | sdss |" in (sdss_copy / CARD_FILE).read_text()


@pytest.mark.parametrize("suffix", [".tar.gz", ".zip"])
def test_pack_is_reproducible_and_extracts_to_the_same_files(sdss_copy, tmp_path, suffix):
    folder = ModelFolder(sdss_copy)
    a, sha_a = folder.pack(tmp_path / f"a{suffix}")
    b, sha_b = folder.pack(tmp_path / f"b{suffix}")
    assert sha_a == sha_b == sha256_file(a) == sha256_file(b)
    with pytest.raises(FileExistsError):
        folder.pack(a)
    dest, top = extract_archive(a, tmp_path / "x")
    assert top == "m_sdss"
    for name in folder.verify(strict=True) + [MANIFEST_FILE]:
        assert (dest / name).read_bytes() == (sdss_copy / name).read_bytes(), name
    assert ModelFolder(dest).verify(strict=True)


def test_pack_of_an_old_folder_adds_a_manifest_to_the_archive(sdss_copy, tmp_path):
    (sdss_copy / MANIFEST_FILE).unlink()
    path, _ = ModelFolder(sdss_copy).pack(tmp_path / "old.tar.gz")
    assert not (sdss_copy / MANIFEST_FILE).exists()  # the user's folder is not changed
    dest, _ = extract_archive(path, tmp_path / "x")
    assert ModelFolder(dest).verify(strict=True)


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, data in members:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
            else:
                ti.type = {"sym": tarfile.SYMTYPE, "lnk": tarfile.LNKTYPE, "dir": tarfile.DIRTYPE,
                           "fifo": tarfile.FIFOTYPE}[kind]
                ti.linkname = data.decode() if data else ""
                tar.addfile(ti)
    return path


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, kind, data in members:
            zi = zipfile.ZipInfo(name)
            if kind == "sym":
                zi.external_attr = (0o120777) << 16
            zf.writestr(zi, data)
    return path


UNSAFE = [
    ([("../evil.txt", "file", b"x")], "outside"),
    (([("/tmp/evil.txt", "file", b"x")]), "absolute"),
    ([("m/model.json", "file", b"{}"), ("m/link", "sym", b"/etc/passwd")], "link"),
    ([("m/model.json", "file", b"{}"), ("m/hard", "lnk", b"m/model.json")], "link"),
    ([("m/fifo", "fifo", b"")], "not a plain file"),
    ([("m/sub/model.json", "file", b"{}")], "nested deeper"),
    ([("a/model.json", "file", b"{}"), ("b/model.json", "file", b"{}")], "more than one"),
    ([("model.json", "file", b"{}"), ("b/model.json", "file", b"{}")], "more than one"),
]


@pytest.mark.parametrize("members, match", UNSAFE)
def test_unsafe_tar_archives_are_refused(tmp_path, members, match):
    archive = _tar(tmp_path / "bad.tar.gz", members)
    with pytest.raises(ModelFormatError, match=match):
        extract_archive(archive, tmp_path / "out" / "dest")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar.gz", "out"]
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("members, match", [
    ([("../evil.txt", "file", b"x")], "outside"),
    ([("/evil.txt", "file", b"x")], "absolute"),
    ([("C:/evil.txt", "file", b"x")], "absolute"),
    ([("m/link", "sym", b"/etc/passwd")], "link"),
])
def test_unsafe_zip_archives_are_refused(tmp_path, members, match):
    archive = _zip(tmp_path / "bad.zip", members)
    with pytest.raises(ModelFormatError, match=match):
        extract_archive(archive, tmp_path / "out" / "dest")
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.slow
def test_new_saves_write_every_file_and_the_manifest(trained, tmp_path):
    from astropy.table import Table

    from sos_vo.catalogue.train_area import TrainingAreaModel
    from sos_vo.ml.modelio import load_model, save_model

    ens, X, _ = trained
    area = TrainingAreaModel.fit(X, feature_names=list(ens.input_names), survey="sdss")
    cuts = Table({"cut": ["ruwe<=1.4"], "n_removed": [3]})
    folder = ModelFolder.save(tmp_path / "m", ens, provenance={"synthetic": True},
                              train_area=area, cut_report=cuts)
    names = set(folder.verify(strict=True))
    assert names == set(LAYOUT) - {MANIFEST_FILE}
    assert folder.cut_report()["n_removed"][0] == 3
    np.testing.assert_array_equal(folder.training_source_ids(),
                                  ens.row_ids[(ens.membership == 0).any(axis=0)])
    a = ens.predict(X[:64])
    b = folder.load_ensemble("sdss").predict(X[:64], names=ens.input_names)
    for label in ens.labels:
        np.testing.assert_array_equal(a[label][0], b[label][0])
    # the short form (no train_area) writes a manifest too
    save_model(ens, tmp_path / "short", provenance={"synthetic": True}, raw_weights=False)
    short = ModelFolder(tmp_path / "short")
    assert set(short.verify(strict=True)) == {MODEL_JSON, WEIGHTS_NPZ, SPLITS_NPZ, CARD_FILE}
    load_model(tmp_path / "short", survey="sdss")
