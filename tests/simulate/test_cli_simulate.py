"""``sos-vo simulate`` writes the tables and refuses to overwrite."""

from __future__ import annotations

from sos_vo.cli import main
from sos_vo.simulate import read_synthetic_sky


def test_simulate_command(tmp_path, capsys):
    out = tmp_path / "sky"
    args = ["simulate", "--center", "200", "1", "--radius", "0.5", "--seed", "4", "--n-stars", "200",
            "--out", str(out)]
    assert main(args) == 0
    sky = read_synthetic_sky(out)
    assert len(sky.truth) == 200 and sky.meta["seed"] == 4
    assert "gaiadr3.gaia_source: 200 rows" in capsys.readouterr().out
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
