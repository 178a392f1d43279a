"""Train the demo ensembles shipped in ``sos_vo/models/`` (SYNTHETIC: trained on sos_vo.simulate).

    python tools/train_demo_models.py [--n-stars N] [--members M] [--epochs E]

Writes ``sos_vo/models/demo_sdss`` and ``sos_vo/models/demo_skymapper`` (folded weights only, no raw Keras
weights, to keep the repository small), each with its model card.  Reproducible: the sky and the
ensemble depend only on the seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sos_vo import pipeline
from sos_vo.ml.options import NetworkOptions
from sos_vo.simulate import simulate_sky

ROOT = Path(__file__).resolve().parents[1]
CENTER = (180.0, 0.0)
"""On the equator, so that both surveys have stars (as the demo)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-stars", type=int, default=80_000)
    parser.add_argument("--radius", type=float, default=5.0)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=ROOT / "sos_vo" / "models")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    sky = simulate_sky(center=CENTER, radius=args.radius, n_stars=args.n_stars, seed=args.seed)
    for survey in ("sdss", "skymapper"):
        prepared = pipeline.prepare_survey(sky.tables, survey)
        folder = pipeline.train_survey(
            prepared, args.out / f"demo_{survey}", n_members=args.members,
            options=NetworkOptions(epochs=args.epochs), seed=args.seed, overwrite=True,
            raw_weights=False, fused=True,
            provenance={"origin": "tools/train_demo_models.py", "seed": args.seed,
                        "center_deg": CENTER, "radius_deg": args.radius, "n_stars": args.n_stars,
                        "note": "demo ensemble trained on the SYNTHETIC sky; not for real stars"})
        print(f"{survey}: {int(prepared.labelled().sum())} labelled rows -> {folder} "
              f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
