"""Model cards: a human-readable ``README.md`` in every model folder, made from ``model.json``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .modelfolder import CARD_FILE

CARD_NAME = CARD_FILE

SYNTHETIC_BANNER = (
    "> **SYNTHETIC.** This ensemble was trained on the synthetic sky of `sos_vo.simulate`, not on\n"
    "> real archive data. Its numbers mean nothing for real stars: sos-vo raises a\n"
    "> `SyntheticModelWarning` whenever it is applied to data from a real archive.\n"
)


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def render_card(meta: Mapping[str, Any]) -> str:
    """Markdown text of the model card for the contents of a ``model.json``."""
    prov = meta.get("provenance", {})
    opts = meta.get("options", {})
    lines = [f"# SoS-ML ensemble: {meta['survey']}", ""]
    if prov.get("synthetic"):
        lines += [SYNTHETIC_BANNER]
    lines += [
        "Method: Turchi et al. (2025), Survey of Surveys II, Sects. 4-5 (multi-layer perceptrons,",
        "median of the members, e_ML = sqrt(e_train^2 + e_rep^2)).",
        "",
        "| item | value |",
        "|---|---|",
        f"| survey | {meta['survey']} |",
        f"| labels | {', '.join(meta['labels'])} |",
        f"| members | {meta['n_members']} |",
        f"| inputs | {len(meta['input_names'])} (features and presence flags) |",
        f"| derived colour inputs | {len(meta.get('input_scaler', {}).get('colours', []))} "
        f"(each with a presence flag; sos_vo.ml.options.INPUT_COLOURS) |",
        f"| format version | {meta['format_version']} |",
        f"| written by | sos-vo {meta.get('package_version', '?')} on {meta.get('training_date', '?')} |",
        f"| synthetic training data | {bool(prov.get('synthetic'))} |",
        "",
        "## Options",
        "",
        "| option | value |",
        "|---|---|",
        *(f"| {k} | {_fmt(v)} |" for k, v in opts.items()),
        "",
        "## Test-set errors (T25 Table 4 statistics, pooled over the members' test sets)",
        "",
    ]
    metrics = meta.get("metrics") or []
    if metrics:
        keys = list(metrics[0])
        lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(_fmt(row[k]) for k in keys) + " |" for row in metrics]
    lines += ["", "## Provenance", "", "| key | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in prov.items()]
    return "\n".join(lines) + "\n"


def model_card(folder: str | os.PathLike) -> str:
    """Markdown text of the model card of ``folder``."""
    from .modelfolder import ModelFolder

    return ModelFolder(folder).card()


def write_model_card(folder: str | os.PathLike) -> Path:
    """Write (or replace) ``README.md`` in a model folder (and its line in ``SHA256SUMS``)."""
    from .modelfolder import ModelFolder

    return ModelFolder(folder).write_card()
