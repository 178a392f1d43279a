"""Member checkpoints: a killed training resumes without retraining finished members, and the
resumed ensemble equals an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from sos_vo.ml.checkpoint import MemberCheckpoints, train_members
from sos_vo.ml.ensemble import train_ensemble
from sos_vo.ml.options import NetworkOptions
from sos_vo.ml.training import network_arrays

NAMES = ("a", "b", "c", "d")
OPTS = NetworkOptions(n_blocks=2, min_width=8, max_width=16, epochs=4, patience=2, batch_size=64)
N_MEMBERS = 3


class Killed(Exception):
    """Stands for the process being killed after a member."""


@pytest.fixture(scope="module")
def problem(problem_factory):
    return problem_factory(400, seed=3)


@pytest.fixture(scope="module")
def reference(problem):
    """The uninterrupted per-network ensemble (today's train_ensemble)."""
    X, Y = problem
    return train_ensemble(X, Y, NAMES, "sdss", n_members=N_MEMBERS, options=OPTS, seed=5,
                          progress=False)


def assert_same_ensemble(got, want, exact: bool = True) -> None:
    """Same splits, seeds, epochs, test predictions and weights of every network."""
    np.testing.assert_array_equal(got.membership, want.membership)
    assert got.labels == want.labels and got.input_names == want.input_names
    for label in want.labels:
        for g, w in zip(got.members[label], want.members[label], strict=True):
            assert (g.seed, g.split_seed, g.epochs_trained, g.best_epoch) == \
                (w.seed, w.split_seed, w.epochs_trained, w.best_epoch)
            for k in ("train", "validation", "test"):
                np.testing.assert_array_equal(g.split[k], w.split[k])
            ga, wa = network_arrays(g.model), network_arrays(w.model)
            assert ga.keys() == wa.keys()
            for k in wa:
                if exact:
                    np.testing.assert_array_equal(ga[k], wa[k], err_msg=f"{label} {k}")
                else:
                    np.testing.assert_allclose(ga[k], wa[k], rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(g.test_true, w.test_true)
            np.testing.assert_allclose(g.test_pred, w.test_pred, rtol=1e-5)


@pytest.mark.slow
def test_a_build_killed_after_a_member_resumes_with_the_missing_members_only(problem, reference,
                                                                             tmp_path):
    X, Y = problem

    def kill_after_first(m):
        if m == 0:
            raise Killed

    with pytest.raises(Killed):
        train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                      checkpoint_dir=tmp_path, after_member=kill_after_first)
    files = sorted(tmp_path.glob("*/member-*.npz"))
    assert [f.name for f in files] == ["member-000.npz"]
    trained = []
    ens = train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                        checkpoint_dir=tmp_path, after_member=trained.append)
    assert trained == [1, 2]
    assert ens.provenance["member_checkpoints"]["loaded"] == 1
    assert ens.provenance["member_checkpoints"]["trained"] == 2
    assert_same_ensemble(ens, reference)
    # a third run trains nothing
    again = []
    ens3 = train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                         checkpoint_dir=tmp_path, after_member=again.append)
    assert again == [] and ens3.provenance["member_checkpoints"]["loaded"] == N_MEMBERS
    assert_same_ensemble(ens3, reference)


def test_the_key_changes_with_every_input_and_a_broken_file_is_retrained(problem, tmp_path):
    from sos_vo.ml.checkpoint import training_key
    from sos_vo.ml.ensemble import training_input

    X, Y = problem

    def key(X=X, Y=Y, seed=5, opts=OPTS, ids=None):
        Xc, names, ys, s_in, s_lab = training_input(X, Y, NAMES, "sdss", opts)
        return training_key(Xc, ys, names, "sdss", opts, seed, ids, s_in, s_lab)

    base = key()
    assert key() == base
    X2 = X.copy()
    X2[0, 0] += 1e-3
    Y2 = {k: v.copy() for k, v in Y.items()}
    Y2["feh"][7] += 0.01
    others = {key(X=X2), key(Y=Y2), key(seed=6), key(opts=NetworkOptions(**{**OPTS.to_dict(), "epochs": 5})),
              key(ids=np.arange(len(X)))}
    assert len(others) == 5 and base not in others
    store = MemberCheckpoints(tmp_path, base)
    store.folder.mkdir(parents=True)
    store.path(0).write_bytes(b"not a checkpoint")
    assert store.load(0) is None  # unreadable: trained again, not trusted
    assert store.load(1) is None


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from conftest import make_problem
    from sos_vo.ml.checkpoint import train_members
    from sos_vo.ml.options import NetworkOptions
    X, Y = make_problem(400, seed=3)
    opts = NetworkOptions(**{opts!r})
    def slow_down(m):
        time.sleep(120)  # stays here until the parent kills the process
    train_members(X, Y, ("a", "b", "c", "d"), "sdss", {n}, opts, seed=5, progress=False,
                  checkpoint_dir={ckpt!r}, after_member=slow_down{extra})
""")


def _kill_child_after_member_0(tmp_path: Path, extra: str = "") -> Path:
    """Run :data:`CHILD` and SIGKILL it once ``member-000.npz`` exists; its checkpoint root."""
    tests = str(Path(__file__).resolve().parent)
    script = tmp_path / "child.py"
    ckpt = tmp_path / "ckpt"
    script.write_text(CHILD.format(tests=tests, opts=OPTS.to_dict(), n=N_MEMBERS, ckpt=str(ckpt),
                                   extra=extra))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not list(ckpt.glob("*/member-000.npz")):
            if proc.poll() is not None:
                pytest.fail(f"child ended (rc {proc.returncode}): {proc.stderr.read()[-2000:]!r}")
            if time.monotonic() > deadline:
                pytest.fail("no member checkpoint within 300 s")
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert [p.name for p in ckpt.glob("*/member-*.npz")] == ["member-000.npz"]
    assert not list(ckpt.glob("*/.*tmp*"))  # no half-written file left visible as a member
    return ckpt


@pytest.mark.slow
def test_a_training_process_killed_with_sigkill_resumes(problem, reference, tmp_path):
    """A real process killed (SIGKILL) after its first member checkpoint: the rerun trains the
    other members only and gives the uninterrupted ensemble."""
    ckpt = _kill_child_after_member_0(tmp_path)
    X, Y = problem
    trained = []
    ens = train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                        checkpoint_dir=ckpt, after_member=trained.append)
    assert trained == [1, 2]
    # member 0 was trained in another process: TensorFlow on CPU gave the same bits here
    assert_same_ensemble(ens, reference)


# ------------------------------------------------------------------------------ fused units
@pytest.fixture(scope="module")
def fused_reference(problem):
    """An uninterrupted fused training in units of 2 members (units [0, 1] and [2])."""
    X, Y = problem
    return train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                         engine="fused", unit_members=2, threads=1)


def test_fused_units_killed_after_unit_0_resume_bit_for_bit(problem, fused_reference, tmp_path):
    X, Y = problem

    def kill_after_unit_0(m):
        if m == 1:
            raise Killed

    with pytest.raises(Killed):
        train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                      checkpoint_dir=tmp_path, after_member=kill_after_unit_0, engine="fused",
                      unit_members=2, threads=1)
    assert sorted(f.name for f in tmp_path.glob("*/member-*.npz")) == \
        ["member-000.npz", "member-001.npz"]
    trained = []
    # another thread count: the numpy engine's results do not depend on it
    ens = train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                        checkpoint_dir=tmp_path, after_member=trained.append, engine="fused",
                        unit_members=2, threads=2)
    assert trained == [2]
    ck = ens.provenance["member_checkpoints"]
    assert (ck["loaded"], ck["trained"], ck["unit_members"]) == (2, 1, 2)
    assert ck["engine"].startswith("numpy-fused")
    assert_same_ensemble(ens, fused_reference)
    for label in ens.labels:  # histories too
        for g, w in zip(ens.members[label], fused_reference.members[label], strict=True):
            assert g.history == w.history


def test_a_fused_unit_with_a_missing_member_file_is_retrained_whole(problem, fused_reference,
                                                                     tmp_path):
    X, Y = problem
    train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                  checkpoint_dir=tmp_path, engine="fused", unit_members=2, threads=1)
    [folder] = list(tmp_path.iterdir())
    (folder / "member-001.npz").unlink()
    trained = []
    ens = train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                        checkpoint_dir=tmp_path, after_member=trained.append, engine="fused",
                        unit_members=2, threads=1)
    assert trained == [0, 1]  # member 0 loads, but its unit is incomplete: both retrained
    assert_same_ensemble(ens, fused_reference)
    # another k is another ensemble: another key, nothing loaded
    other = train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                          checkpoint_dir=tmp_path, engine="fused", unit_members=1, threads=1)
    assert other.provenance["member_checkpoints"]["loaded"] == 0
    assert len(list(tmp_path.iterdir())) == 2


def test_unit_layout_seeds_and_default_size():
    from sos_vo.ml.checkpoint import default_unit_members, unit_seed, units_of

    assert units_of(10, 3) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert units_of(3, 5) == [[0, 1, 2]]
    assert default_unit_members(10, 2) == 2 and default_unit_members(3, 64) == 3
    assert default_unit_members(10, 1) == 1
    assert default_unit_members(10, 8, workers=10) == 1 and default_unit_members(10, 8, 3) == 4
    assert unit_seed(5, 0) == unit_seed(5, 0) != unit_seed(5, 1) != unit_seed(6, 1)
    with pytest.raises(ValueError, match="engine"):
        train_members(np.zeros((10, 4)), {}, NAMES, "sdss", engine="graph")


@pytest.mark.slow
def test_a_fused_training_process_killed_with_sigkill_resumes(problem, tmp_path):
    """Fused units of one member: a process killed (SIGKILL) after unit 0 is checkpointed; the
    rerun trains units 1 and 2 only and equals an uninterrupted fused run bit for bit."""
    extra = ', engine="fused", unit_members=1, threads=1'
    ckpt = _kill_child_after_member_0(tmp_path, extra)
    X, Y = problem
    trained = []
    ens = train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                        checkpoint_dir=ckpt, after_member=trained.append, engine="fused",
                        unit_members=1, threads=2)
    assert trained == [1, 2]
    whole = train_members(X, Y, NAMES, "sdss", N_MEMBERS, OPTS, seed=5, progress=False,
                          engine="fused", unit_members=1, threads=1)
    assert_same_ensemble(ens, whole)


@pytest.mark.parametrize("train", [train_ensemble, train_members], ids=["ensemble", "checkpoint"])
def test_both_entry_points_refuse_the_same_bad_input(problem, train) -> None:
    """Every way of training checks ``n_members`` and ``row_ids`` in one place."""
    from sos_vo.exceptions import SchemaError

    X, Y = problem
    with pytest.raises(ValueError, match="n_members must be >= 1, got 0"):
        train(X, Y, NAMES, "sdss", n_members=0, options=OPTS, progress=False)
    with pytest.raises(SchemaError, match=f"row_ids has 3 values but X has {len(X)} rows"):
        train(X, Y, NAMES, "sdss", n_members=1, options=OPTS, progress=False,
              row_ids=np.arange(3))


def test_the_key_reads_the_versions_tensorflow_and_keras_report_without_importing_them():
    # the key names the installed TensorFlow / Keras from their distributions' metadata (so that
    # a numpy-engine training does not import them): the same strings the modules report
    import keras
    import tensorflow as tf

    from sos_vo.ml.checkpoint import _engine_versions, _installed_version

    versions = _engine_versions()
    assert versions["tensorflow"] == tf.__version__ and versions["keras"] == keras.__version__
    assert versions["numpy"] == np.__version__ == _installed_version("numpy")
    assert _installed_version("sosvo_no_such_module_xyz") == "absent"
