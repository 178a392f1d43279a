"""Write every kind of file sos-vo produces from fixed seeds and hash them, dates masked.

Usage::

    python tools/snapshot_outputs.py write OUT_DIR [--demo]
    python tools/snapshot_outputs.py compare OUT_A OUT_B
    python tools/snapshot_outputs.py rehash OUT_DIR

``write`` produces, under ``OUT_DIR/files``: the synthetic archive tables of a fixed seed
(VOTable and ECSV), the catalogue predicted from them with the installed models (VOTable
BINARY2 and TABLEDATA, FITS, CDS ReadMe + data + MRT, ECSV), the DaCHS resource descriptor of
that catalogue, the DaCHS fixture mirror of ``tools/make_dachs_fixtures.py`` and, with
``--demo``, a small ``sos-vo demo`` run.  It then writes ``OUT_DIR/hashes.json``: the SHA-256 of
every file after masking what changes from run to run of the same code: the creation dates and
times the writers put in (ISO 8601 and CDS dates, lengths kept), the FITS ``CHECKSUM`` that
covers them, run times (``"fit_seconds"``) and, in a model folder's ``SHA256SUMS``, the hashes
(of files compared themselves); an ``.npz`` is hashed by its arrays, not its zip bytes.  ``compare`` names every file whose hash differs
between two snapshots and exits 1 if any does.

The check that a refactoring leaves the outputs unchanged: ``write`` before and after, then
``compare``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import warnings
from pathlib import Path

DATE_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?")
"""ISO 8601 date or date-time, as the provenance, FITS DATE and the DaCHS RD write them."""

CDS_DATE = re.compile(rb"\d{2}-[A-Z][a-z]{2}-\d{4}")
"""Date in the CDS ReadMe style (``29-Nov-2026``)."""

FITS_CHECKSUM = re.compile(rb"(?<=CHECKSUM= ')[^']{16}")
"""The FITS HDU checksum, which covers the header and hence its dates (DATASUM, the data's, stays)."""

SECONDS = re.compile(rb'(seconds"\s*:\s*)[0-9.eE+-]+')
"""A run time in a JSON document (``"fit_seconds": 0.64``)."""

SHA256 = re.compile(rb"\b[0-9a-f]{64}\b")
"""A SHA-256 in a model folder's SHA256SUMS: of files that are themselves compared, dates masked."""

SEED = 1


def _mask(data: bytes, sums: bool = False) -> bytes:
    """``data`` with every date, time and FITS checksum replaced by as many ``#``, run times by one."""
    for pattern in (DATE_TIME, CDS_DATE, FITS_CHECKSUM, *((SHA256,) if sums else ())):
        data = pattern.sub(lambda m: b"#" * len(m.group(0)), data)
    return SECONDS.sub(rb"\1#", data)  # a run time's length varies too (0.2, 0.64)


def _digest(path: Path) -> str:
    """SHA-256 of a file, dates masked; of an ``.npz``, of its arrays (a zip stores file times)."""
    if path.suffix != ".npz":
        return hashlib.sha256(_mask(path.read_bytes(), sums=path.name == "SHA256SUMS")).hexdigest()
    import numpy as np

    digest = hashlib.sha256()
    with np.load(path) as arrays:
        for name in sorted(arrays.files):
            value = arrays[name]
            if value.dtype.kind == "U":  # text (JSON): its width follows the masked run times
                digest.update(f"{name} text {value.shape}".encode())
                digest.update(_mask("\n".join(map(str, value.ravel())).encode()))
            else:
                digest.update(f"{name} {value.dtype.str} {value.shape}".encode())
                digest.update(_mask(value.tobytes()))
    return digest.hexdigest()


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


def rehash(out: Path) -> None:
    """Recompute ``OUT_DIR/hashes.json`` from the files of a snapshot."""
    hashes = _hashes(out / "files")
    (out / "hashes.json").write_text(json.dumps(hashes, indent=1))
    print(f"{len(hashes)} files hashed into {out / 'hashes.json'}")


def write(out: Path, demo: bool) -> None:
    from sos_vo import api
    from sos_vo.ml.registry import DEFAULT_MODELS, installed_models
    from sos_vo.publish.dachs_rd import write_catalogue_rd
    from sos_vo.publish.writers import write_catalogue

    files = out / "files"
    files.mkdir(parents=True, exist_ok=False)
    sky = api.simulate(center=(180.0, 0.0), radius=0.7, seed=SEED, n_stars=1500)
    sky.write(files / "sky_votable")
    sky.write(files / "sky_ecsv", format="ecsv")
    models = installed_models()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cat = api.predict(sky.tables, {s: models[DEFAULT_MODELS[s]] for s in ("sdss", "skymapper")},
                          progress=False)
        for fmt, name in (("votable", "catalogue.vot"), ("votable-tabledata", "catalogue_td.vot"),
                          ("fits", "catalogue.fits")):
            write_catalogue(cat, files / name, fmt)
        write_catalogue(cat, files / "catalogue_cds", "cds", title="Snapshot catalogue",
                        authors=["Doe J."])
        cat.write(files / "catalogue.ecsv")
        # from a unit-less copy (the catalogue columns take their units from the catalogue
        # schema), which the RD writer before the column model could write as well
        bare = cat.copy()
        for col in bare.itercols():
            col.unit = None
        write_catalogue_rd(bare, files / "catalogue_rd")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_dachs_fixtures

    make_dachs_fixtures.main([str(files / "dachs")])
    if demo:
        api.demo(files / "demo", seed=SEED, n_stars=1500, radius=0.7, n_members=1, epochs=2,
                 progress=False)
    rehash(out)


def compare(a: Path, b: Path) -> int:
    ha = json.loads((a / "hashes.json").read_text())
    hb = json.loads((b / "hashes.json").read_text())
    only = sorted(set(ha) ^ set(hb))
    differ = sorted(k for k in set(ha) & set(hb) if ha[k] != hb[k])
    for name in only:
        print(f"only in one snapshot: {name}")
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(set(ha) & set(hb)) - len(differ)} of {len(set(ha) | set(hb))} files identical "
          "(dates masked)")
    return 1 if only or differ else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "write":
        write(Path(argv[1]), "--demo" in argv[2:])
        return 0
    if len(argv) == 2 and argv[0] == "rehash":
        rehash(Path(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
