"""benchmarks.build_memory: the fake label source's chunks and one tiny run of main()."""

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

from benchmarks import build_memory  # noqa: E402
from sos_vo.gaia_dr3 import healpix_source_id_range  # noqa: E402


def test_fake_chunks_are_the_order_2_cells_of_the_rows():
    stream = build_memory.FakeStream("lamost-lrs", 3000)
    chunks = list(stream)
    assert len(chunks) == 192 and stream.provenance == {"rows": 3000, "synthetic": True}
    for cell, chunk in enumerate(chunks):
        lo, hi = healpix_source_id_range(2, cell)
        assert np.all((chunk["source_id"] >= lo) & (chunk["source_id"] <= hi))
    ids = np.concatenate([c["source_id"] for c in chunks])
    assert ids.size == 3000 and np.unique(ids).size == 3000
    whole = build_memory.FakeStream("lamost-lrs", 3000).whole()
    assert np.array_equal(whole["source_id"], ids)
    assert np.array_equal(whole["teff"], np.concatenate([c["teff"] for c in chunks]))


def test_main_runs_the_stage_in_a_child_and_stores_the_figures(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert build_memory.main(["--rows", "2000", "--json", str(out), "--partition-rows", "4000",
                              "--work-dir", str(tmp_path / "work")]) == 0
    r = json.loads(out.read_text())["results"][0]
    assert r["mode"] == "streamed" and r["rows_per_survey"] == 2000 and r["stars"] > 2000
    assert r["partition_rows"] == 4000
    assert r["peak_rss_mb"] >= r["baseline_rss_mb"] > 0
    assert list((tmp_path / "work").iterdir()) == []
    assert "streamed: peak RSS" in capsys.readouterr().out
