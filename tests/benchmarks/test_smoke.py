"""Smoke tests of the benchmarks: each main() runs end to end at minimal sizes and prints its
sections.  The figures themselves are not checked (benchmarks print, they do not assert)."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from benchmarks import accuracy, engine_accuracy, speed  # noqa: E402
from sos_vo.ml.training import set_tf_threads  # noqa: E402

set_tf_threads(1)

TINY_NETWORK = ["--epochs", "1", "--n-blocks", "1", "--members", "1", "--quiet"]


@pytest.mark.slow
def test_accuracy_main_prints_every_section(tmp_path, capsys):
    out = tmp_path / "accuracy.json"
    rc = accuracy.main(["--surveys", "sdss", "--n-stars", "2500", "--rf-trees", "5",
                        "--xgb-trees", "5", "--n-jobs", "1", "--json", str(out), *TINY_NETWORK])
    text = capsys.readouterr().out
    assert rc == 0
    assert "SYNTHETIC" in text and "REDUCED" in text
    for label in ("Teff [K]", "logg [dex]", "[Fe/H] [dex]"):
        assert f"== sdss: {label}" in text
    for method in accuracy.METHODS:
        assert method in text
    assert "targets (printed, not asserted)" in text and "paper (SPIE)" in text
    payload = json.loads(out.read_text())
    stats = payload["surveys"][0]["stats"]
    assert set(stats) == set(accuracy.METHODS)
    assert set(stats["ensemble"]) == set(accuracy.REFERENCES)


@pytest.mark.slow
@pytest.mark.parametrize("fused", [False, True])
def test_speed_main_prints_every_section(tmp_path, capsys, fused):
    out = tmp_path / "speed.json"
    rc = speed.main(["--n-stars", "2500", "--members", "1", "--epochs", "1", "--n-blocks", "1",
                     "--predict-rows", "3000", "--matmul-n", "256", "--quiet", "--json", str(out)]
                    + (["--fused"] if fused else []))
    text = capsys.readouterr().out
    assert rc == 0
    for section in ("== training", "== prediction", "== machine and memory"):
        assert section in text
    assert "numpy" in text and "keras" in text and "of matmul" in text
    payload = json.loads(out.read_text())
    assert payload["n_networks"] == 3
    assert payload["fused"] is fused
    # the default colour inputs widen the network input: 4 SDSS colours + BP-RP, each with a flag
    assert payload["n_network_inputs"] == payload["n_inputs"] + 2 * 5


@pytest.mark.slow
def test_engine_accuracy_main_compares_both_engines(tmp_path, capsys):
    out = tmp_path / "engines.json"
    rc = engine_accuracy.main(["--n-stars", "2500", "--members", "1", "--epochs", "1",
                               "--n-blocks", "1", "--seeds", "1", "2", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "equal accuracy" in text
    payload = json.loads(out.read_text())
    assert {(r["engine"], r["seed"]) for r in payload["runs"]} == {
        (e, s) for e in ("numpy", "tensorflow") for s in (1, 2)}
    assert set(payload["summary"]["per_label"]) == {"teff", "logg", "feh"}
    # one engine again, the other's runs taken from the stored result
    again = tmp_path / "numpy.json"
    rc = engine_accuracy.main(["--n-stars", "2500", "--members", "1", "--epochs", "1",
                               "--n-blocks", "1", "--seeds", "1", "2", "--engines", "numpy",
                               "--reference", str(out), "--json", str(again)])
    assert rc == 0
    rerun = json.loads(again.read_text())
    assert sum("from_reference" in r for r in rerun["runs"]) == 2  # tensorflow, seeds 1 and 2
    assert rerun["summary"]["difference"] == "numpy - tensorflow"


def test_engine_accuracy_rule_is_the_spread_of_the_seeds():
    def runs(numpy_teff, tf_teff):
        return [{"engine": e, "seed": s, "heldout_abs_mad": {"teff": v}, "train_seconds": 1.0,
                 "train_cpu_seconds": 1.0}
                for e, values in (("numpy", numpy_teff), ("tensorflow", tf_teff))
                for s, v in enumerate(values)]

    close = engine_accuracy.summarise(runs([150, 170, 160], [155, 165, 175]), ["numpy", "tensorflow"])
    assert close["equal_accuracy"] and close["per_label"]["teff"]["mean_difference"] == -5
    far = engine_accuracy.summarise(runs([180, 182, 181], [150, 152, 151]), ["numpy", "tensorflow"])
    assert not far["equal_accuracy"]
    assert far["per_label"]["teff"]["paired_differences"] == [30, 30, 30]


def test_forward_flops_match_a_direct_count():
    # one network 4 -> 3 -> 2 -> 1: 2*(4*3 + 3*2 + 2*1) multiply-adds counted as 2 FLOPs each
    assert speed.forward_flops_per_row(4, [3, 2]) == 2 * (12 + 6 + 2)


def test_holdout_split_is_disjoint_and_covers_the_labelled_rows():
    import numpy as np

    labelled = np.arange(100) % 3 != 0
    split = accuracy.holdout_split(labelled, 0.25, seed=0)
    assert not set(split.train) & set(split.test)
    assert sorted([*split.train, *split.test]) == list(np.flatnonzero(labelled))
    assert split.test.size == round(0.25 * labelled.sum())


def test_truth_for_matches_a_dictionary_lookup():
    import numpy as np
    from astropy.table import Table

    rng = np.random.default_rng(1)
    ids = rng.choice(10**12, 50, replace=False).astype(np.int64)
    truth = Table({"source_id": ids, "teff": rng.uniform(3000, 8000, 50)})
    wanted = np.concatenate([rng.permutation(ids)[:20], [-5]])  # the last one is not in the truth
    got = accuracy.truth_for(wanted, truth, ["teff"])["teff"]
    expected = dict(zip(ids.tolist(), truth["teff"].tolist(), strict=True))
    assert np.array_equal(got[:-1], [expected[i] for i in wanted[:-1].tolist()])
    assert np.isnan(got[-1])


def test_cli_startup_main_measures_every_command(tmp_path, capsys):
    from benchmarks import cli_startup
    from sos_vo.commands import COMMAND_MODULES

    out = tmp_path / "cli_startup.json"
    assert cli_startup.main(["--repeats", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    payload = json.loads(out.read_text())
    assert set(payload["commands"]) == set(COMMAND_MODULES) and "loadavg_before" in payload
    for command in COMMAND_MODULES:
        assert f"sos-vo {command} --help: median" in text
        assert payload["commands"][command]["median_s"] > 0
