"""The numpy training engine, saving, loading and numpy prediction never import Keras or
TensorFlow: a process where both cannot be imported trains, saves, loads and predicts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import json, sys

    BLOCKED = ("keras", "tensorflow", "tf_keras")
    attempts = []

    class Block:
        '''Refuses, and records, every import of Keras or TensorFlow (and their submodules).'''

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                attempts.append(name)
                raise ImportError(f"{{name}} is blocked in this test", name=name)
            return None

    sys.meta_path.insert(0, Block())

    import numpy as np
    from sos_vo.ml.checkpoint import train_members
    from sos_vo.ml.modelio import load_model, save_model
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.ml.training import DeferredNetwork

    # four features with interleaved presence flags, two smooth labels (as tests/ml/conftest.py,
    # which this process cannot import: it sets TensorFlow's threads)
    FEATURES = ("a", "b", "c", "d")
    rng = np.random.default_rng(3)
    f = rng.normal(size=(400, 4))
    X = np.empty((400, 8), np.float32)
    X[:, 0::2], X[:, 1::2] = f, 1.0
    Y = {{"teff": 5000.0 + 600.0 * np.tanh(f[:, 0]) + 200.0 * f[:, 1],
          "feh": -0.2 + 0.3 * f[:, 2] - 0.15 * f[:, 3]}}
    opts = NetworkOptions(n_blocks=2, min_width=8, max_width=16, epochs=3, patience=2,
                          batch_size=64)
    ens = train_members(X, Y, FEATURES, "sdss", 3, opts, seed=5, progress=False,
                        engine="fused", unit_members=2, threads=1,
                        checkpoint_dir={checkpoints!r}, provenance={{"synthetic": True}})
    nets = [m.model for ms in ens.members.values() for m in ms]
    folder = save_model(ens, {folder!r})
    loaded = load_model(folder, survey="sdss")
    got = loaded.predict(X[:50], n_threads=1)
    want = ens.predict(X[:50])
    same = all(np.array_equal(got[k][i], want[k][i]) for k in want for i in range(3))
    loaded_modules = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    # the control: the block does refuse Keras (so the assertions above could fail)
    try:
        import keras  # noqa: F401
        refused = False
    except ImportError:
        refused = True
    print(json.dumps({{
        "attempts": attempts, "loaded_modules": loaded_modules, "refused": refused,
        "deferred": all(isinstance(n, DeferredNetwork) and not n.is_built for n in nets),
        "n_networks": len(nets), "same_predictions": bool(same),
        "finite": bool(all(np.isfinite(v[0]).all() for v in got.values())),
        "engine": ens.provenance["member_checkpoints"]["engine"],
    }}))
""")


@pytest.mark.timeout(600)
def test_numpy_engine_trains_saves_loads_and_predicts_without_keras_or_tensorflow(tmp_path):
    code = CHILD.format(checkpoints=str(tmp_path / "checkpoints"),
                        folder=str(tmp_path / "model"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["refused"]  # the block works: Keras cannot be imported in the child
    assert result["attempts"] == ["keras"], result["attempts"]  # only the control's own import
    assert result["loaded_modules"] == []
    assert result["n_networks"] == 6 and result["deferred"]
    assert result["engine"].startswith("numpy-fused")
    assert result["same_predictions"] and result["finite"]
    assert (tmp_path / "model" / "weights.npz").is_file()
