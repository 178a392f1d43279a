import numpy as np
import pytest
from astropy.table import Table

from sos_vo.stats import mad
from sos_vo.validation import NoOverlapError, compare_catalogues, plot_comparison_density


def _tables(seed=0, n=500):
    rng = np.random.default_rng(seed)
    ids = np.arange(10_000, 10_000 + n, dtype=np.int64)
    feh = rng.uniform(-2.5, 0.4, n)
    cat = Table({"gaia_dr3_id": ids, "ml_feh": feh, "ml_logg": rng.uniform(1, 5, n)})
    ref = Table({"source_id": ids[::-1][: n // 2], "mh": feh[::-1][: n // 2] - 0.1 + rng.normal(0, 0.05, n // 2),
                 "logg": rng.uniform(1, 5, n // 2)})
    return cat, ref


def test_offsets_equal_direct_computation(tmp_path):
    cat, ref = _tables()
    comp = compare_catalogues(cat, ref, {"ml_feh": "mh"}, "Ref 2023")
    lookup = dict(zip(ref["source_id"], ref["mh"], strict=True))
    d = np.array([f - lookup[i] for i, f in zip(cat["gaia_dr3_id"], cat["ml_feh"], strict=True) if i in lookup])
    row = comp.stats[0]
    assert row["n"] == d.size == len(ref)
    assert row["median_offset"] == pytest.approx(np.median(d))
    assert row["mean_offset"] == pytest.approx(d.mean())
    assert row["sigma"] == pytest.approx(d.std(ddof=1))
    assert row["mad"] == pytest.approx(mad(d))
    assert row["median_offset"] == pytest.approx(0.1, abs=0.02)  # the injected offset
    png = plot_comparison_density(comp, tmp_path / "fig7.png")
    assert png.stat().st_size > 1000


def test_reference_mask_selects_metal_poor_stars():
    cat, ref = _tables(1)
    poor = ref["mh"] < -2
    comp = compare_catalogues(cat, ref, {"ml_feh": "mh"}, "PASTEL", reference_mask=poor)
    assert comp.stats["n"][0] == poor.sum()


def test_no_overlap_is_a_clear_error():
    cat, ref = _tables(2)
    ref["source_id"] += 1_000_000
    with pytest.raises(NoOverlapError, match="share no Gaia DR3 source_id"):
        compare_catalogues(cat, ref, {"ml_feh": "mh"}, "Zhang et al. 2023")
