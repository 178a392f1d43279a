"""Generate the DaCHS fixture mirror: archive tables under their real schema/table names.

Usage: python tools/make_dachs_fixtures.py OUT_DIR

Writes OUT_DIR/rd/<resource>/q.rd + data/*.vot (one DaCHS resource per schema) and
OUT_DIR/fixture/<key>.ecsv (the same rows, which the tests read to compute expected
answers independently of the server), plus OUT_DIR/manifest.json.  The VizieR reference
catalogues of the validation (tools/dachs_mirror/references.py) go to the resource sosvo_vizier, listed
under "references" in the manifest; the label sources (tools/dachs_mirror/labels.py) add their
VizieR tables to it and resources of their own (GALAH DR3, SDSS DR16, the Gaia DR3 cross-match table and the labelled sky), listed under "labels".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dachs_mirror.archives import RESOURCE_PREFIX, fixture_tables, write_fixture_mirror
from dachs_mirror.labels import label_fixture_tables, write_label_mirror
from dachs_mirror.references import reference_fixture_tables, write_reference_mirror


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    tables = fixture_tables()
    manifest = write_fixture_mirror(tables, out)
    labels = write_label_mirror(label_fixture_tables(), out)
    # the VizieR label tables join the one VizieR resource (one DaCHS RD per schema)
    references = write_reference_mirror({**reference_fixture_tables(tables["gaia_source"]),
                                         **labels.pop("vizier")}, out)
    manifest["resources"].append(references["resource"])
    manifest["references"] = references
    manifest["resources"].extend(labels["resources"])
    manifest["labels"] = labels
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(json.dumps({"resources": sorted(manifest["resources"]), "prefix": RESOURCE_PREFIX,
                      "rows": manifest["rows"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
