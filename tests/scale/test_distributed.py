"""dask.distributed: partitioned / HATS prediction equals the single-process run; failures."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
from realdata_files import realdata
from scale_helpers import sorted_rows

from sos_vo.scale.distributed import predict_partitions
from sos_vo.scale.manifest import IncompleteRunError
from sos_vo.scale.partitions import gaia_source_id_pixel, healpix_pixels, write_partitions
from sos_vo.scale.stream import predict_parquet, read_predictions

distributed = pytest.importorskip("distributed")

COLUMNS = ("source_id", "ml_teff", "ml_logg", "ml_feh", "ml_err_feh", "train_set", "train_area")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def single(parts, model_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "out"
    predict_parquet(parts, out, model_folder, progress=False)
    return read_predictions(out)


@pytest.fixture(scope="module")
def healpix(joined, tmp_path_factory):
    root = tmp_path_factory.mktemp("healpix")
    paths = write_partitions(joined, root, order=5)
    return root, paths


def assert_same_rows(a, b):
    a, b = sorted_rows(a), sorted_rows(b)
    assert len(a) == len(b) > 0
    for name in COLUMNS:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-5 * np.abs(y).max())
        else:
            np.testing.assert_array_equal(x, y)


def test_partitions_hold_each_row_once_in_its_pixel(healpix, joined):
    root, paths = healpix
    assert len(paths) > 2
    from sos_vo.scale.stream import list_parquet

    _, keys = list_parquet(root)
    assert all(k.startswith("Norder=5/Dir=0/Npix=") for k in keys)
    import pyarrow.parquet as pq

    ids = np.concatenate([pq.read_table(p, columns=["source_id"])["source_id"].to_numpy()
                          for p in paths])
    assert np.array_equal(np.sort(ids), np.sort(np.asarray(joined["source_id"])))
    for p in paths:
        t = pq.read_table(p, columns=["ra", "dec"])
        pix = healpix_pixels(t["ra"].to_numpy(), t["dec"].to_numpy(), 5)
        assert np.all(pix == int(p.stem.split("=")[1]))


def test_gaia_source_id_pixel_matches_the_position_of_real_gaia_rows():
    vot = realdata("1710099405832VAL-result.vot")
    from astropy.table import Table

    t = Table.read(vot)
    pix = gaia_source_id_pixel(np.asarray(t["SOURCE_ID"]), 8)
    from_pos = healpix_pixels(np.asarray(t["ra"], float), np.asarray(t["dec"], float), 8)
    assert np.mean(pix == from_pos) > 0.99  # a star near a pixel edge may have moved since


def test_distributed_prediction_equals_single_process(healpix, client, model_folder, single,
                                                       tmp_path):
    root, paths = healpix
    res = predict_partitions(root, tmp_path / "out", model_folder, client, batch_rows=150,
                             progress=False)
    assert res["parts"] == len(paths)
    assert_same_rows(read_predictions(tmp_path / "out"), single)
    # run again: nothing to do, same rows
    again = predict_partitions(root, tmp_path / "out", model_folder, client, progress=False)
    assert again["skipped"] == len(paths) and again["rows_out"] == res["rows_out"]


def test_hats_catalogue_from_lsdb(joined, client, model_folder, single, tmp_path):
    pytest.importorskip("lsdb")
    from sos_vo.scale.partitions import write_hats

    path = write_hats(joined, tmp_path, "sdss_joined", order=3)
    predict_partitions(path, tmp_path / "out", model_folder, client, progress=False)
    assert_same_rows(read_predictions(tmp_path / "out"), single)


def test_a_failing_partition_stops_the_run_cleanly_and_names_it(healpix, joined, client,
                                                                model_folder, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    from sos_vo.scale.parquet_io import arrow_to_table, write_parquet

    src = tmp_path / "in"
    shutil.copytree(healpix[0], src)
    victim = sorted(src.rglob("*.parquet"))[1]
    bad = arrow_to_table(pq.read_table(victim))
    bad["psfmag_g"].unit = "Jy"  # same columns and types, impossible unit: fails inside the task
    write_parquet(bad, victim, overwrite=True)
    with pytest.raises(IncompleteRunError, match=rf"1 of \d+ partitions failed.*{victim.name}.*Jy"):
        predict_partitions(src, tmp_path / "out", model_folder, client, progress=False, retries=0)
    out = tmp_path / "out"
    written = sorted(p.name for p in out.rglob("*.parquet"))
    assert victim.name not in written and len(written) == len(list(src.rglob("*.parquet"))) - 1
    assert not list(out.rglob(".*tmp*"))


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_or_duplicates_no_row(joined, model_folder, single,
                                                            tmp_path):
    """A process worker is killed while it runs a partition; the scheduler re-runs it."""
    root = tmp_path / "in"
    write_partitions(joined, root, order=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        killed = []
        pids = c.run(os.getpid)  # worker address -> process id

        def killer():
            deadline = time.time() + 60
            while time.time() < deadline and not killed:
                busy = [w for w, tasks in c.processing().items() if tasks and w in pids]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)  # the nanny starts a new worker
                    killed.append(busy[0])
                time.sleep(0.005)

        thread = threading.Thread(target=killer)
        thread.start()
        res = predict_partitions(root, tmp_path / "out", model_folder, c, batch_rows=40,
                                 progress=False)
        thread.join()
    assert killed, "no worker was busy long enough to be killed"
    assert res["rows_out"] == len(single)
    assert_same_rows(read_predictions(tmp_path / "out"), single)


@pytest.mark.slow
def test_members_trained_as_tasks_equal_the_sequential_ensemble(tmp_path):
    """One task per member on process workers: same splits, same networks, same model folder."""
    from sos_vo.ml.ensemble import train_ensemble
    from sos_vo.ml.modelio import load_model, save_model
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.scale.distributed import train_members

    rng = np.random.default_rng(0)
    f = rng.normal(size=(600, 3))
    X = np.empty((600, 6), np.float32)
    X[:, 0::2], X[:, 1::2] = f, 1.0
    Y = {"teff": 5000 + 500 * np.tanh(f[:, 0]) + 100 * f[:, 1], "feh": -0.3 + 0.2 * f[:, 2]}
    opts = NetworkOptions(n_blocks=2, min_width=8, max_width=16, epochs=4, patience=2,
                          batch_size=64)
    kw = dict(n_members=3, options=opts, seed=4, provenance={"synthetic": True})
    ref = train_ensemble(X, Y, ("a", "b", "c"), "sdss", progress=False, **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        ens = train_members(X, Y, ("a", "b", "c"), "sdss", c, **kw)
        # fused units of 2 members (tasks [0, 1] and [2]) on process workers: the bits of the
        # same units trained here
        fused = train_members(X, Y, ("a", "b", "c"), "sdss", c, engine="fused", unit_members=2,
                              **kw)
    from sos_vo.ml.checkpoint import train_members as train_here
    from sos_vo.ml.training import network_arrays

    local = train_here(X, Y, ("a", "b", "c"), "sdss", progress=False, engine="fused",
                       unit_members=2, **kw)
    assert fused.provenance["member_checkpoints"]["engine"] == "numpy-fused (units of 2) (dask)"
    for label in Y:
        for g, w in zip(fused.members[label], local.members[label], strict=True):
            ga, wa = network_arrays(g.model), network_arrays(w.model)
            for k in wa:
                np.testing.assert_array_equal(ga[k], wa[k], err_msg=f"{label} {k}")
    np.testing.assert_array_equal(ens.membership, ref.membership)
    loaded = load_model(save_model(ens, tmp_path / "m"))
    got, want = loaded.predict_members(X), ref.to_numpy().predict_members(X)
    for label in Y:
        assert [m.epochs_trained for m in ens.members[label]] == \
            [m.epochs_trained for m in ref.members[label]]
        np.testing.assert_allclose(got[label], want[label], rtol=0,
                                   atol=1e-4 * np.abs(want[label]).max())


def test_builds_back_to_back_in_one_client_each_finish():
    """The same matrix trained twice in a row on one client: the second build is not cancelled.

    The matrix is scattered once per build; a key shared between the two (a content hash) was
    released by the first build while the second one's tasks were submitted.
    """
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.scale.distributed import train_members

    rng = np.random.default_rng(1)
    X = np.empty((200, 4), np.float32)
    X[:, 0::2], X[:, 1::2] = rng.normal(size=(200, 2)), 1.0
    Y = {"teff": 5000 + 300 * X[:, 0], "feh": -0.3 + 0.1 * X[:, 2]}
    opts = NetworkOptions(n_blocks=1, min_width=4, max_width=4, epochs=1, patience=1,
                          batch_size=100)
    kw = dict(n_members=2, options=opts, seed=3, engine="fused", unit_members=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        first = train_members(X, Y, ("a", "b"), "sdss", c, **kw)
        for _ in range(5):
            again = train_members(X, Y, ("a", "b"), "sdss", c, **kw)
            np.testing.assert_array_equal(again.membership, first.membership)
