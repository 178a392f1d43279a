"""Build a real model from public archives in one call: what ``sos-vo build-model`` runs.

Stages (each one's row counts go into the model's provenance):

1. **checks** before any job: the output folder, the label sources, the region, every TAP
   service (``/capabilities``);
2. **labels**: each label source fetched over TAP in the region (or the whole sky), its names
   resolved against the service's TAP_SCHEMA, chunk by chunk
   (:func:`sos_vo.archives.label_source.stream_labels`), each chunk filed on disk by source_id
   range as it arrives (:func:`label_stage`);
3. **homogenisation**: the surveys on the reference scale and averaged per star
   (:func:`sos_vo.labels.build.homogenise_labels`); ``--labels sos-dr2`` takes the published
   SoS DR2 spectroscopic labels instead, which T25 Table 6 gives already recalibrated;
4. **PASTEL and astrometry**: the PASTEL entries of the region, and the J2016.0 astrometry of
   the labelled stars uploaded by source_id (:func:`sos_vo.archives.label_join.astrometry_rows`),
   of which only the stars a PASTEL match can use are kept as the chunks arrive
   (:func:`sos_vo.prepare.crossmatch.near_pastel`; the matched pairs are those of all stars);
   and the metal-poor PASTEL stars (T25 Sect. 4.3), their positions uploaded to the Gaia
   service and joined to ``gaia_source`` by position there (:func:`metal_poor_stars`), whose
   matched Gaia DR3 ids join the uploaded ids of stage 6;
5. **recalibration** (T25 Eq. 2): ``refit`` on PASTEL entries matched by position to the
   labelled stars (:func:`sos_vo.labels.build.refit_recalibration`), ``t25`` (Table 1) or
   ``none``;
6. **join, cuts, features**: per survey, Gaia DR3, Bailer-Jones distances, Andrae [M/H] and
   the photometry of the labelled and the metal-poor PASTEL stars, uploaded by source_id with the server-side Gaia cuts
   of ``sos-vo query`` (:func:`sos_vo.archives.label_join.training_chunks`), each upload chunk
   streamed through :func:`sos_vo.pipeline.prepare_survey` (with the Eq. 2 coefficients of
   stage 5 and the PASTEL augmentation) by :func:`prepare_joined`, which keeps only what the
   training reads;
7. **training**: :func:`sos_vo.pipeline.train_survey`, one model folder per survey, one survey
   at a time (with two surveys, each one's training arrays wait on disk until it trains).

Resuming: every TAP result (label chunks, id-upload chunks) is cached on disk (``cache_dir``),
so a killed build started again refetches nothing it had finished; every finished ensemble
member is checkpointed (``checkpoint_dir``, default ``<cache_dir>/members``,
:mod:`sos_vo.ml.checkpoint`), so the rerun trains only the members it had not finished.  The
model folder is written atomically: a killed build leaves none.

Training engine (``engine``): ``fused`` (default) trains the ensemble in units of k members,
each unit one run of the fused numpy engine (:mod:`sos_vo.ml.numpy_training`), checkpointed
unit by unit; ``per-network`` trains network by network with Keras, checkpointed member by
member.

Training on dask: ``scheduler`` (an address) or ``client`` (a ``distributed.Client``) trains
the units (or members) as dask tasks, with the same checkpoints.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table, join, vstack

from ..archives import gaia
from ..archives.label_join import (
    UploadStats,
    astrometry_rows,
    joined_by_ids_query,
    pastel_gaia_rows,
    training_chunks,
)
from ..archives.label_source import get_source, label_sources, stream_labels
from ..archives.query import archive_tables_from_rows, surveys_for
from ..archives.regions import Region, as_region
from ..exceptions import EmptyInputError
from ..io import atomic_path, check_writable
from ..schema import GAIA_SOURCE_TABLE, LABELS, PASTEL_TABLE, SOS_SPECTRO_TABLE
from .build import (
    DEFAULT_METHOD,
    DEFAULT_REFERENCE,
    SpectroParts,
    coefficients_table,
    compact_labels,
    homogenise_spilled,
    refit_recalibration,
)
from .recalibration import MIN_FIT_PAIRS, T25_TABLE1
from .spill import LabelSpill

log = logging.getLogger(__name__)

SURVEY_LABELS: tuple[str, ...] = ("apogee-dr17", "galah-dr3", "lamost-lrs", "gaia-eso", "segue-sspp")
"""``--labels surveys``: the public surveys SoS-Spectro was built from that have label sources
here (T25 Sect. 3; Tsantaki et al. 2022).  RAVE and the smaller surveys are not included."""
RECALIBRATIONS: tuple[str, ...] = ("refit", "t25", "none")
"""``refit``: T25 Eq. 2 fitted on the fetched SoS-PASTEL pairs; ``t25``: T25 Table 1;
``none``: labels as combined."""


def label_keys(labels: str | Sequence[str]) -> list[str]:
    """``"surveys"``, ``"sos-dr2"`` or a comma-separated list of label-source keys."""
    items = labels.split(",") if isinstance(labels, str) else list(labels)
    out: list[str] = []
    for item in (i.strip() for i in items if i.strip()):
        if item == "surveys":
            out.extend(SURVEY_LABELS)
        else:
            get_source(item)  # ValueError naming the known keys
            out.append(item)
    if not out:
        raise ValueError(f"no label source given: use 'surveys', 'sos-dr2' or some of "
                         f"{', '.join(label_sources())}")
    return list(dict.fromkeys(out))


@dataclass
class BuildResult:
    """What :func:`build_model` produced."""

    out: Path
    folders: dict[str, Path]
    provenance: dict[str, Any]
    homogenisation: Table | None = None
    recalibration: Table | None = None
    labels: dict[str, int] = field(default_factory=dict)
    """Per label source, the label rows the homogenisation read (:attr:`LabelStage.labels`)."""
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per survey: members ``loaded`` from checkpoints and ``trained``, and the ``engine``."""


def _spectro_from_sos_dr2(t: Table) -> Table:
    out = Table({"source_id": np.asarray(t["source_id"], dtype=np.int64)})
    for lab in LABELS:
        out[lab] = np.asarray(t[lab], dtype=np.float32)
        out[f"e_{lab}"] = np.asarray(t[f"e_{lab}"], dtype=np.float32)
    out["n_surveys"] = np.ones(len(t), dtype=np.int16)
    return out


def build_model(region=None, *, all_sky: bool = False, survey: str = "sdss",
                labels: str | Sequence[str] = "surveys",
                reference: Sequence[str] = DEFAULT_REFERENCE, method: str = DEFAULT_METHOD,
                recalibration: str | None = None, out: str | os.PathLike,
                tap_url: str | None = None, label_tap_url: str | None = None,
                tables: Mapping[str, str] | None = None,
                columns: Mapping[str, Mapping[str, str]] | None = None,
                cache_dir: str | os.PathLike | None | bool = None, n_members: int = 10,
                options=None, seed: int = 0, overwrite: bool = False, progress: bool = True,
                use_async: bool = False, checkpoint_dir: str | os.PathLike | None | bool = None,
                scheduler: str | None = None, client=None, engine: str = "fused",
                unit_members: int | None = None, **client_kwargs) -> BuildResult:
    """Fetch real labels, homogenise, recalibrate, join, cut, train; save model folder(s).

    Parameters
    ----------
    region
        Anything :func:`sos_vo.archives.regions.as_region` accepts; None with ``all_sky``.
    all_sky : bool
        Build from the whole sky (every label star).
    survey : {"sdss", "skymapper", "both"}
        Photometric survey(s); ``both`` writes ``out/sdss`` and ``out/skymapper``.
    labels : str or sequence
        ``"surveys"`` (:data:`SURVEY_LABELS`), ``"sos-dr2"`` or label-source keys.
    reference, method
        Homogenisation reference surveys and calibration method.
    recalibration : {"refit", "t25", "none"}, optional
        Default ``refit`` for surveys, ``none`` for ``sos-dr2`` (published labels are already
        recalibrated, T25 Table 6).
    out : path
        Model folder (one survey) or folder of model folders (``both``); written atomically.
    tap_url : str, optional
        TAP service of the Gaia archive tables (default ``conf.gaia_tap_url``).
    label_tap_url : str, optional
        One TAP service for every label source and PASTEL (a mirror); default: each source's
        ``conf`` URL.
    tables : mapping, optional
        Table-name overrides by key (Gaia tables, label sources, ``pastel``).
    columns : mapping, optional
        Label source key -> {role -> column name} overrides
        (:func:`sos_vo.archives.label_source.parse_column_overrides`).
    cache_dir : path, None or False
        Cache of every TAP result (None: ``~/.cache/sos-vo/tap``; False: none).
    n_members, options, seed
        Ensemble size, :class:`sos_vo.ml.options.NetworkOptions`, seed.
    checkpoint_dir : path, None or False
        Member checkpoints (None: ``<cache_dir>/members``, none when ``cache_dir`` is False;
        False: none).  They are kept after the build (a rebuild with the same inputs loads
        them); delete the folder to reclaim the space.
    scheduler : str, optional
        Address of a dask scheduler (``tcp://host:8786``): the units (fused) or members
        (per-network) are trained there as tasks (per-network: workers with one thread each
        keep the training reproducible; fused units run the numpy engine on the worker's
        threads, with results independent of their number).
    client : distributed.Client, optional
        An existing client instead of ``scheduler``.
    engine : {"fused", "per-network"}
        :data:`sos_vo.ml.checkpoint.ENGINES` (module docstring).
    unit_members : int, optional
        Members per fused unit (default :func:`sos_vo.ml.checkpoint.default_unit_members`).

    Raises
    ------
    FileExistsError
        ``out`` exists and ``overwrite`` is False (checked before anything is fetched).
    SchemaResolutionError, EmptyInputError, RegionError, ServiceError
        As their messages say; no model folder is left behind.
    """
    from ..ml.units import ENGINES

    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if unit_members is not None and unit_members < 1:
        raise ValueError(f"unit_members must be >= 1, got {unit_members}")
    out = check_writable(Path(out), overwrite)
    surveys = surveys_for(survey)
    keys = label_keys(labels)
    stray = set(columns or {}) - set(keys)
    if stray:
        raise ValueError(f"column overrides for label source(s) not used: {', '.join(sorted(stray))}")
    for key, cols in (columns or {}).items():
        get_source(key).names(None, cols)  # unknown roles: a clear error before any job
    if recalibration is None:
        recalibration = "none" if keys == ["sos-dr2"] else "refit"
    if recalibration not in RECALIBRATIONS:
        raise ValueError(f"unknown recalibration {recalibration!r}: expected one of "
                         f"{', '.join(RECALIBRATIONS)}")
    if all_sky == (region is not None):
        raise ValueError("give either a REGION or --all-sky")
    reg: Region | None = None if all_sky else as_region(region)
    tables = dict(tables or {})
    ckpt = _checkpoint_root(checkpoint_dir, cache_dir)
    own_client = None
    if scheduler is not None and client is None:
        client = own_client = connect_scheduler(scheduler, client_kwargs.get("timeout") or 20.0,
                                                engine=engine)
    training = {"fused": engine == "fused", "unit_members": None}
    if engine == "fused":  # always through the fused units, with or without checkpoints
        from ..ml.checkpoint import unit_cores
        from ..ml.units import default_unit_members

        training["unit_members"] = unit_members or default_unit_members(n_members,
                                                                         *unit_cores(client))
    try:
        return _build(reg, all_sky, surveys, keys, reference, method, recalibration, out,
                      tap_url, label_tap_url, tables, columns, cache_dir, n_members, options,
                      seed, overwrite, progress, use_async, ckpt, client, client_kwargs, training)
    finally:
        if own_client is not None:
            own_client.close()


def _checkpoint_root(checkpoint_dir, cache_dir) -> Path | None:
    """Where the member checkpoints go (see :func:`build_model`)."""
    if checkpoint_dir is False or (checkpoint_dir is None and cache_dir is False):
        return None
    if checkpoint_dir is not None:
        return Path(checkpoint_dir).expanduser()
    from ..archives.chunking import default_cache_dir

    return Path(cache_dir if cache_dir else default_cache_dir()).expanduser() / "members"


def connect_scheduler(address: str, timeout: float = 20.0, engine: str = "per-network"):
    """A ``distributed.Client`` connected to ``address``; a ValueError naming it if it cannot."""
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs dask.distributed: pip install 'sos-vo[scale]'") from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ValueError(f"cannot reach the dask scheduler {address!r}: {exc}") from None
    threads = set(client.nthreads().values())
    if engine == "per-network" and threads - {1}:
        log.warning("dask workers with %s threads: members trained side by side in one process "
                    "share Keras's global seed; start workers with --nthreads 1 for "
                    "reproducible members", sorted(threads))
    return client


def _build(reg, all_sky, surveys, keys, reference, method, recalibration, out, tap_url,
           label_tap_url, tables, columns, cache_dir, n_members, options, seed, overwrite,
           progress, use_async, ckpt, client, client_kwargs, training=None) -> BuildResult:
    """The stages of :func:`build_model` after its checks."""
    from ..pipeline import train_survey

    gaia_client = gaia.client(tap_url, **client_kwargs)
    gaia_client.check_service()
    prov: dict[str, Any] = {"real_labels": True, "labels": keys, "region": "all sky" if all_sky
                            else reg.describe(), "gaia_service": gaia_client.url,
                            "recalibration_mode": recalibration, "label_sources": {}}

    # 2. labels, 3. homogenisation (rows filed under the cache folder while they are worked on)
    def fetch(key: str):
        return stream_labels(key, reg, tap_url=label_tap_url, tables=tables, cache_dir=cache_dir,
                             use_async=use_async, progress=progress,
                             columns=(columns or {}).get(key), **client_kwargs)

    from ..archives.chunking import default_cache_dir

    work_dir = None if cache_dir is False else Path(cache_dir or default_cache_dir()).expanduser()
    stage = label_stage(keys, fetch, reference=reference, method=method, work_dir=work_dir,
                        progress=progress)
    fetched, spectro, homog = stage.labels, stage.spectro, stage.report
    prov["label_sources"] = stage.provenance["label_sources"]
    prov["homogenisation"] = stage.provenance["homogenisation"]
    full = np.all([np.isfinite(np.asarray(spectro[k], float)) for k in LABELS], axis=0)
    ids = np.asarray(spectro["source_id"], dtype=np.int64)[full]
    prov["rows"] = {"labelled_stars": len(spectro), "labelled_all_three": int(full.sum())}
    if ids.size == 0:
        raise EmptyInputError("no star with Teff, log g and [Fe/H] after the homogenisation")

    # 4. PASTEL and the astrometry its match needs (the join itself streams in stage 6)
    prov["join"] = {}  # filled in stage 6; created here to keep the stages' order
    from ..archives.pastel import fetch_pastel
    from ..prepare.crossmatch import join_pastel, near_pastel, pastel_sky

    # PASTEL serves the refit and the metal-poor augmentation of T25 Sect. 3 in every mode
    pastel = fetch_pastel(reg, tap_url=label_tap_url, tables=tables, cache_dir=cache_dir,
                          **client_kwargs)
    sky = pastel_sky(pastel)
    astrometry = astrometry_rows(ids, client=gaia_client, tables=tables, cache_dir=cache_dir,
                                 use_async=use_async, progress=progress,
                                 keep=lambda chunk: near_pastel(chunk, sky))
    log.info("astrometry: %d of %d labelled stars near a PASTEL entry",
             astrometry.meta["kept"], astrometry.meta["rows"])
    prov["astrometry"] = {"adql": astrometry.meta["query"], "rows": astrometry.meta["rows"],
                          "jobs": astrometry.meta["jobs"]}
    prov["pastel"] = pastel.meta["provenance"]

    # 4b. the metal-poor PASTEL stars (T25 Sect. 4.3), matched to all of Gaia DR3 on the server
    mp = metal_poor_stars(pastel, client=gaia_client, tables=tables, cache_dir=cache_dir,
                          use_async=use_async, progress=progress)
    added = np.setdiff1d(mp.ids, ids)
    upload_ids = np.union1d(ids, added)
    pm_rows = mp.astrometry[~np.isin(np.asarray(mp.astrometry["source_id"], dtype=np.int64),
                                     np.asarray(astrometry["source_id"], dtype=np.int64))]
    astro_cols = ["source_id", "ra", "dec", "pmra", "pmdec"]
    join_astrometry = astrometry if len(pm_rows) == 0 else vstack(
        [astrometry[astro_cols], pm_rows[astro_cols]], metadata_conflicts="silent")
    prov["pastel_augmentation"] = {**mp.provenance, "labelled_all_three": int(mp.ids.size - added.size),
                                   "added_to_upload": int(added.size),
                                   "t25_added": dict(T25_PASTEL_ADDED)}
    log.info("PASTEL metal-poor: %d entries of %d stars, %d Gaia DR3 stars matched, %d added "
             "to the uploaded ids", mp.provenance["entries"], mp.provenance["pastel_stars"],
             mp.ids.size, added.size)

    # 5. recalibration
    coefficients = None
    fit_table = None
    if recalibration == "refit":
        matched = join_pastel({GAIA_SOURCE_TABLE: astrometry, PASTEL_TABLE: pastel})
        n_pairs = int(np.isin(np.asarray(matched["source_id"]), ids).sum()) if len(matched) else 0
        if n_pairs < MIN_FIT_PAIRS:
            raise EmptyInputError(
                f"recalibration refit: {n_pairs} PASTEL entries match the labelled stars "
                f"(need {MIN_FIT_PAIRS}); use --recalibration t25 (T25 Table 1) or none")
        fit = refit_recalibration(spectro[full], matched)
        coefficients = fit.coefficients
        fit_table = coefficients_table(fit)
        prov["recalibration"] = {r["label"]: {c: _py(r[c]) for c in fit_table.colnames if c != "label"}
                                 for r in fit_table}
        del matched, fit
    elif recalibration == "t25":
        coefficients = T25_TABLE1
        prov["recalibration"] = "T25 Table 1"
    else:
        prov["recalibration"] = "none"

    # 6. join by source_id streamed through the cuts and features; training
    def prepared_for(s: str):
        stats = UploadStats()
        chunks = training_chunks(upload_ids, s, client=gaia_client, tables=tables,
                                 cache_dir=cache_dir, use_async=use_async, progress=progress,
                                 stats=stats)
        try:
            sample = prepare_joined(chunks, s, astrometry=join_astrometry, spectro=spectro,
                                    pastel=pastel, recalibration=coefficients)
        except EmptyInputError:
            if stats.rows:
                raise
            raise EmptyInputError(
                f"{s}: none of the {upload_ids.size} labelled stars has a Gaia DR3 row with a one-to-one "
                f"{s} counterpart passing the Gaia cuts at {gaia_client.url} (no overlap with Gaia)"
            ) from None
        prov["join"][s] = {"adql": joined_by_ids_query(s, tables=tables),
                           "uploaded_ids": stats.uploaded_ids, "rows": stats.rows,
                           "jobs": stats.jobs, "chunks_from_cache": stats.chunks_from_cache}
        prov["rows"][s] = sample.rows
        return sample.prepared

    folders: dict[str, Path] = {}
    if len(surveys) == 1:
        s = surveys[0]
        p = prepared_for(s)
        folders[s] = train_survey(p, out, n_members=n_members, options=options, seed=seed,
                                  progress=progress, overwrite=overwrite, provenance=_flat(prov),
                                  checkpoint_dir=ckpt, client=client, **(training or {}))
        del p
    else:
        # every survey's counts go into every model's provenance, so all surveys are prepared
        # before the first trains; each one's training arrays wait on disk meanwhile
        with atomic_path(out, overwrite=overwrite) as tmp:
            tmp.mkdir()
            spill = tmp / SPILL_FOLDER
            spill.mkdir()
            waiting = {}
            for s in surveys:
                waiting[s] = spill_prepared(prepared_for(s), spill / f"{s}.npz")
            for s in surveys:
                p = load_prepared(waiting.pop(s), spill / f"{s}.npz")
                train_survey(p, tmp / s, n_members=n_members, options=options, seed=seed,
                             progress=progress, provenance=_flat(prov), checkpoint_dir=ckpt,
                             client=client, **(training or {}))
                del p
                (spill / f"{s}.npz").unlink()
            spill.rmdir()
        folders = {s: out / s for s in surveys}
    members = {}
    for s, folder in folders.items():
        meta = folder / "model.json"
        if meta.is_file():  # absent only where train_survey is replaced (tests)
            import json

            card = json.loads(meta.read_text())
            members[s] = card.get("provenance", {}).get("member_checkpoints", {})
    return BuildResult(out=out, folders=folders, provenance=prov, homogenisation=homog,
                       recalibration=fit_table, labels=fetched, members=members)


@dataclass
class LabelStage:
    """Labels fetched, homogenised and combined (:func:`label_stage`)."""

    labels: dict[str, int]
    """Per source, the label rows filed (quality rule applied, one per star in each fetch
    chunk); the rows themselves were on disk only during the stage."""
    spectro: Table
    """One row per star, ``sos_spectro.main`` layout."""
    report: Table | None
    """Homogenisation report (None for ``sos-dr2`` alone)."""
    provenance: dict[str, Any]


def _chunks(fetched) -> Iterable[Table]:
    return [fetched] if isinstance(fetched, Table) else fetched


def _fetch_provenance(fetched) -> dict[str, Any]:
    return fetched.meta["provenance"] if isinstance(fetched, Table) else fetched.provenance


def label_stage(keys: Sequence[str], fetch, *, reference: Sequence[str] = DEFAULT_REFERENCE,
                method: str = DEFAULT_METHOD, work_dir: str | os.PathLike | None = None,
                partition_rows: int | None = None, progress: bool = False) -> LabelStage:
    """Fetch each label source with ``fetch(key)``, homogenise and combine one row per star.

    ``fetch(key)`` returns a :class:`sos_vo.archives.label_source.LabelStream` (chunk by
    chunk, its ``provenance`` set once iterated) or a label-schema table (one chunk, its
    ``meta['provenance']``).

    Memory: each chunk's rows are filed on disk as they arrive (56 bytes a row,
    :class:`sos_vo.labels.spill.LabelSpill`, in a temporary folder under ``work_dir``, removed
    at the end), and the homogenisation reads them back one source_id partition at a time
    (:func:`sos_vo.labels.build.homogenise_spilled`); what stays in memory is one fetch
    chunk, one partition, the calibration samples (at most
    :data:`sos_vo.labels.build.MAX_FIT_PAIRS` pairs per survey) and the combined labels in
    the ``sos_spectro.main`` layout (:class:`sos_vo.labels.build.SpectroParts`, 42 bytes a
    star).  ``--labels sos-dr2`` alone keeps the published rows in memory (56 bytes a row).
    Measured by ``benchmarks/build_memory.py``.
    """
    counts: dict[str, int] = {}
    prov: dict[str, Any] = {"label_sources": {}}
    if list(keys) == ["sos-dr2"]:
        fetched = fetch("sos-dr2")
        parts = [compact_labels(t) for t in _chunks(fetched)]
        nonempty = [t for t in parts if len(t)] or parts[:1]
        published = vstack(nonempty, metadata_conflicts="silent") if len(nonempty) > 1 \
            else nonempty[0]
        prov["label_sources"]["sos-dr2"] = _fetch_provenance(fetched)
        prov["homogenisation"] = "none: published SoS DR2 spectroscopic labels"
        return LabelStage({"sos-dr2": len(published)}, _spectro_from_sos_dr2(published), None,
                          prov)
    spectro = SpectroParts()
    with LabelSpill(work_dir) as spill:
        for key in keys:
            fetched = fetch(key)
            counts[key] = sum(spill.add(key, chunk) for chunk in _chunks(fetched))
            prov["label_sources"][key] = _fetch_provenance(fetched)
            del fetched
        build = homogenise_spilled(spill, reference=reference, method=method,
                                   partition_rows=partition_rows, progress=progress,
                                   on_combined=spectro.add)
    report = build.report
    prov["homogenisation"] = {**build.provenance,
                              "per_survey": [dict(zip(report.colnames, [_py(v) for v in r],
                                                      strict=True)) for r in report]}
    return LabelStage(counts, spectro.table(), report, prov)


T25_PASTEL_ADDED: dict[str, int] = {"sdss": 139, "skymapper": 267}
"""Metal-poor PASTEL stars T25 added to the SDSS and SkyMapper training sets (Sect. 4.3)."""


@dataclass
class MetalPoorStars:
    """The metal-poor PASTEL stars of a region matched to Gaia DR3 (:func:`metal_poor_stars`)."""

    ids: np.ndarray
    """Gaia DR3 ``source_id`` of the matched stars whose median PASTEL [Fe/H] is below
    :data:`sos_vo.labels.pastel.PASTEL_MAX_FEH` (sorted, unique)."""
    astrometry: Table
    """``source_id, ra, dec, pmra, pmdec`` of every Gaia source the server returned."""
    provenance: dict[str, Any]


def metal_poor_stars(pastel: Table, *, client, tables: Mapping[str, str] | None = None,
                     cache_dir=None, use_async: bool = False,
                     progress: bool = True) -> MetalPoorStars:
    """Gaia DR3 ids of the PASTEL stars with [Fe/H] < -1 dex (T25 Sect. 4.3) in ``pastel``.

    The entries of the metal-poor PASTEL stars (:func:`sos_vo.archives.pastel.metal_poor_entries`)
    are sent by position to the Gaia service (:func:`sos_vo.archives.label_join.pastel_gaia_rows`),
    paired with their nearest Gaia source by :func:`sos_vo.prepare.crossmatch.join_pastel` (the
    rule of the recalibration pairs and of the augmentation), and the matched stars whose
    median [Fe/H] over their matched entries (:func:`sos_vo.labels.pastel.pastel_per_star`) is
    below :data:`sos_vo.labels.pastel.PASTEL_MAX_FEH` are returned: the stars that
    :func:`sos_vo.labels.pastel.augment_with_pastel` can fill once their joined rows pass the
    cuts.
    """
    from ..archives.pastel import metal_poor_entries
    from ..prepare.crossmatch import join_pastel
    from .pastel import PASTEL_MAX_FEH, pastel_per_star

    entries = metal_poor_entries(pastel)
    n_stars = len(np.unique(np.asarray(entries["ID"]).astype(str))) if len(entries) else 0
    prov: dict[str, Any] = {"max_feh": PASTEL_MAX_FEH, "entries": len(entries),
                            "pastel_stars": n_stars}
    if len(entries) == 0:
        empty = Table(names=("source_id", "ra", "dec", "pmra", "pmdec"),
                      dtype=(np.int64, float, float, float, float))
        return MetalPoorStars(np.zeros(0, dtype=np.int64), empty,
                              {**prov, "uploaded_positions": 0, "gaia_sources": 0,
                               "matched_entries": 0, "matched_stars": 0})
    rows = pastel_gaia_rows(entries, client=client, tables=dict(tables or {}),
                            cache_dir=cache_dir, use_async=use_async, progress=progress)
    matched = join_pastel({GAIA_SOURCE_TABLE: rows, PASTEL_TABLE: entries})
    found = np.zeros(0, dtype=np.int64)
    if len(matched):
        per_star = pastel_per_star(matched)
        poor = np.isfinite(per_star["spec_feh"]) & (per_star["spec_feh"] < PASTEL_MAX_FEH)
        found = np.asarray(per_star["source_id"], dtype=np.int64)[poor]
    prov.update({"adql": rows.meta["query"], "uploaded_positions": rows.meta["uploaded_positions"],
                 "jobs": rows.meta["jobs"], "gaia_sources": rows.meta["sources"],
                 "matched_entries": len(matched), "matched_stars": int(found.size)})
    return MetalPoorStars(found, rows, prov)


PREPARE_CHUNK_ROWS = 50_000
"""Joined rows prepared (cuts, recalibration, PASTEL augmentation, features) at a time by
:func:`prepare_joined` (our choice: the intermediate tables of one chunk, about 2 kB a row, are
~0.1 GB; 200 000-row chunks added ~0.3 GB more to the peak at 1.6 million joined rows,
``benchmarks/join_memory.py``)."""
SPILL_FOLDER = ".prepared"
"""Folder, inside the temporary output folder of a two-survey build, where each survey's
training arrays wait on disk until it trains (removed before the folder is moved into place)."""
TRAINING_COLUMNS: tuple[str, ...] = ("source_id", *(f"spec_{k}" for k in LABELS))
"""The columns of the prepared rows that :func:`sos_vo.pipeline.train_survey` reads (with
:data:`sos_vo.labels.pastel.PASTEL_FLAG_COLUMN`): all :func:`prepare_joined` keeps besides the
network inputs."""


@dataclass
class JoinedSample:
    """The training view of one survey's joined rows (:func:`prepare_joined`)."""

    prepared: Any
    """A :class:`sos_vo.pipeline.PreparedSurvey` of the labelled rows after the cuts:
    ``joined`` holds :data:`TRAINING_COLUMNS` and the PASTEL flag, ``X`` the network inputs,
    ``features`` no column (the features are in ``X``); the cut report covers all rows."""
    rows: dict[str, int]
    """``joined``, ``after_cuts``, ``labelled_after_cuts``, ``pastel_augmented`` (labelled
    rows whose labels are PASTEL's, T25 Sect. 4.3): the provenance's row counts."""


class _Gather:
    """The kept arrays of the prepared chunks, summed cut counts, and their assembly.

    Each chunk's kept arrays are appended to one file per column in ``folder`` as they come
    and read back once, at their final size, by :meth:`result`: in memory, the result and no
    second copy (concatenating in-memory parts needs the parts and the result together, and
    freed parts below the allocator's mmap threshold are not given back to the system).
    """

    def __init__(self, survey: str, folder: Path):
        self.survey = survey
        self.folder = folder
        self.files: dict[str, Any] = {}
        self.layout: dict[str, tuple[np.dtype, tuple[int, ...], Any]] = {}
        self.reports = []
        self.first = None
        self.after_cuts = 0
        self.n = 0
        self.pastel_augmented = 0
        self.synthetic = False

    def _append(self, name: str, values: np.ndarray, dtype, unit=None) -> None:
        """Append ``values`` as ``dtype`` (fixed per column, so that every chunk's rows are
        stored alike: int64 ids, float64 labels, bool flag, float32 inputs)."""
        if name not in self.files:
            self.files[name] = open(self.folder / f"{len(self.files)}.bin", "w+b")  # noqa: SIM115
            self.layout[name] = (np.dtype(dtype), values.shape[1:], unit)
            if self.n:  # a column first seen now (the PASTEL flag): earlier rows get zeros
                np.zeros((self.n, *values.shape[1:]), dtype).tofile(self.files[name])
        np.ascontiguousarray(values, dtype=dtype).tofile(self.files[name])

    def add(self, p) -> None:
        """Keep the labelled rows' training columns and inputs of one PreparedSurvey."""
        from .pastel import PASTEL_FLAG_COLUMN

        lab = p.labelled()
        n = int(lab.sum())
        self._append("source_id", np.asarray(p.joined["source_id"])[lab], np.int64)
        for k in LABELS:  # labelled rows: every value finite, none masked
            c = f"spec_{k}"
            self._append(c, np.asarray(p.joined[c])[lab], np.float64, p.joined[c].unit)
        if PASTEL_FLAG_COLUMN in p.joined.colnames:
            flag = np.asarray(p.joined[PASTEL_FLAG_COLUMN], dtype=bool)[lab]
            self.pastel_augmented += int(flag.sum())
            self._append(PASTEL_FLAG_COLUMN, flag, bool)
        elif PASTEL_FLAG_COLUMN in self.files:
            self._append(PASTEL_FLAG_COLUMN, np.zeros(n, dtype=bool), bool)
        self._append("X", p.X[lab], np.float32)
        self.n += n
        self.reports.append(p.cut_report)
        self.after_cuts += len(p.joined)
        self.synthetic = self.synthetic or p.synthetic
        if self.first is None:
            self.first = p

    def _read(self, name: str) -> np.ndarray:
        dtype, shape, _ = self.layout[name]
        f = self.files.pop(name)
        f.flush()
        f.seek(0)
        out = np.fromfile(f, dtype=dtype, count=self.n * int(np.prod(shape, dtype=np.int64)))
        f.close()
        return out.reshape(self.n, *shape)

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files.clear()

    def result(self, n_joined: int) -> JoinedSample:
        """One table and one input matrix for all chunks."""
        from astropy.table import Table

        from ..pipeline import PreparedSurvey
        from ..prepare.cuts import CutReport, CutStep

        report = CutReport(self.survey)
        for j, step in enumerate(self.first.cut_report.steps):
            report.steps.append(CutStep(step.name, step.source,
                                        sum(r.steps[j].n_before for r in self.reports),
                                        sum(r.steps[j].n_removed for r in self.reports),
                                        step.server_side))
        for r in self.reports:
            for col, n in r.masked_values.items():
                report.masked_values[col] = report.masked_values.get(col, 0) + n
        X = self._read("X")
        joined = Table()
        for c in list(self.files):
            joined[c] = self._read(c)
            joined[c].unit = self.layout[c][2]
        prepared = PreparedSurvey(survey=self.survey, joined=joined, cut_report=report,
                                  features=Table(), X=X, input_names=self.first.input_names,
                                  synthetic=self.synthetic)
        return JoinedSample(prepared, {"joined": int(n_joined), "after_cuts": self.after_cuts,
                                       "labelled_after_cuts": self.n,
                                       "pastel_augmented": self.pastel_augmented})


def prepare_joined(rows: Table | Iterable[Table], survey: str, *, astrometry: Table,
                   spectro: Table, pastel: Table | None, recalibration,
                   chunk_rows: int | None = None) -> JoinedSample:
    """:func:`sos_vo.pipeline.prepare_survey` of the joined rows of labelled stars, in chunks,
    keeping only what the training needs.

    Parameters
    ----------
    rows
        The joined rows: one table, or the upload chunks as they arrive
        (:func:`sos_vo.archives.label_join.training_chunks`), in increasing, disjoint
        ``source_id`` ranges (a ValueError otherwise).
    survey
        ``"sdss"`` or ``"skymapper"``.
    astrometry
        ``source_id, ra, dec, pmra, pmdec`` of the stars the PASTEL match can use
        (:func:`sos_vo.prepare.crossmatch.near_pastel`); the others get no proper motion.
        Each PASTEL entry belongs to its nearest star of this table
        (:func:`sos_vo.prepare.crossmatch.pastel_nearest_source`), decided once for all chunks.
    spectro
        The labels (``sos_spectro.main`` layout) of the labelled stars.
    pastel
        PASTEL entries for the metal-poor augmentation (T25 Sect. 4.3), or None.
    recalibration
        T25 Eq. 2 coefficients or None.
    chunk_rows
        Rows per prepared chunk (default :data:`PREPARE_CHUNK_ROWS`).

    The rows are taken in ``source_id`` order, ``chunk_rows`` at a time (as they arrive: the
    upload chunks are buffered until a chunk is full): each chunk is split into the archive
    tables, given the proper motions, the labels of its stars and the PASTEL table, and
    prepared.  Every step of the preparation works star by star (the cuts are per-row
    predicates, the recalibration and the features per row, the PASTEL augmentation per
    matched star), so the result equals one call on all the rows (tested).  The PASTEL
    pairing is the one step that looks at two stars: an entry within the match radius of two
    joined stars in different chunks would be paired with each chunk's nearest.  So every
    entry is given to its nearest star of ``astrometry`` once (the stars the match can use:
    in ``build-model`` the labelled stars near an entry and every Gaia DR3 source around the
    metal-poor entries, :func:`metal_poor_stars`), and each chunk gets only the entries of
    its own stars; a star with two entries gets both, wherever the entries' rows lie in the
    PASTEL table.  The pairs, and thus the augmentation and its counts, do not depend on
    ``chunk_rows`` (tested with chunks of 1 to 7 rows).

    Of each prepared chunk only the labelled rows' :data:`TRAINING_COLUMNS`, PASTEL flag and
    network inputs are kept, appended to temporary files (``tempfile``'s folder) and read back
    once at the end; the cut counts are added.  Alive at a time: the buffered rows (under
    ``chunk_rows`` plus one upload chunk) and one chunk's intermediate tables; at the end,
    the kept arrays (measured by ``benchmarks/join_memory.py``).

    Returns
    -------
    JoinedSample
    """
    chunk_rows = PREPARE_CHUNK_ROWS if chunk_rows is None else chunk_rows
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    with tempfile.TemporaryDirectory(prefix="sos-vo-prepare-") as work:
        gather = _Gather(survey, Path(work))
        try:
            return _prepare_chunks(rows, survey, gather, astrometry=astrometry, spectro=spectro,
                                   pastel=pastel, recalibration=recalibration,
                                   chunk_rows=chunk_rows)
        finally:
            gather.close()


def _prepare_chunks(rows, survey: str, gather: _Gather, *, astrometry: Table, spectro: Table,
                    pastel: Table | None, recalibration, chunk_rows: int) -> JoinedSample:
    """The loop of :func:`prepare_joined`."""
    from astropy.table import vstack

    from ..pipeline import prepare_survey
    from ..prepare.crossmatch import pastel_nearest_source

    pm = astrometry[["source_id", "pmra", "pmdec"]]
    spectro_ids = np.asarray(spectro["source_id"], dtype=np.int64)
    n_in = 0
    owner = (pastel_nearest_source(astrometry, pastel)
             if pastel is not None and len(pastel) else None)

    def prepare(block: Table, alone: bool) -> None:
        block_ids = np.asarray(block["source_id"], dtype=np.int64)
        tabs = archive_tables_from_rows(block, survey)
        g = join(tabs[GAIA_SOURCE_TABLE], pm, keys="source_id", join_type="left")
        g.sort("source_id")
        tabs[GAIA_SOURCE_TABLE] = g
        tabs[SOS_SPECTRO_TABLE] = spectro[np.isin(spectro_ids, block_ids)]
        if owner is not None:  # the entries whose nearest star is one of this chunk's
            tabs[PASTEL_TABLE] = pastel[np.isin(owner, block_ids)]
        try:
            gather.add(prepare_survey(tabs, survey, recalibration=recalibration,
                                      pastel_augmentation=True))
        except EmptyInputError:
            if alone:
                raise
            # a chunk whose rows all fail the cuts; the others may not

    def in_order(pieces: list[Table]) -> Table:
        t = vstack(pieces, metadata_conflicts="silent") if len(pieces) > 1 else pieces[0]
        return t[np.argsort(np.asarray(t["source_id"], dtype=np.int64), kind="stable")]

    if isinstance(rows, Table):  # one table: its rows in source_id order, a chunk at a time
        rows = _in_id_order(rows, chunk_rows)
    pending: list[Table] = []
    n_pending, n_chunks, last = 0, 0, None
    for t in rows:
        if len(t) == 0:
            continue
        t_ids = np.asarray(t["source_id"], dtype=np.int64)
        if last is not None and t_ids.min() < last:
            raise ValueError("joined-row chunks must come in increasing, disjoint source_id ranges")
        last = int(t_ids.max())
        pending.append(t)
        n_pending += len(t)
        n_in += len(t)
        del t, t_ids
        while n_pending > chunk_rows:  # rows follow: this chunk is not the only one
            buffered = in_order(pending)
            prepare(buffered[:chunk_rows], alone=False)
            n_chunks += 1
            pending = [buffered[chunk_rows:]]
            n_pending = len(pending[0])
            del buffered
    if n_pending:
        prepare(in_order(pending), alone=n_chunks == 0)
    del pending
    if n_in == 0:
        raise EmptyInputError(f"{survey}: no joined row to prepare")
    if gather.first is None:
        raise EmptyInputError(f"{survey}: no row of {n_in} survives the quality cuts")
    return gather.result(n_in)


def _in_id_order(rows: Table, chunk_rows: int) -> Iterable[Table]:
    """The rows of one table in ``source_id`` order (stable), ``chunk_rows`` at a time."""
    order = np.argsort(np.asarray(rows["source_id"], dtype=np.int64), kind="stable")
    for start in range(0, len(order), chunk_rows):
        yield rows[order[start:start + chunk_rows]]


def spill_prepared(prepared, path: Path):
    """Write the arrays of a training view (:class:`JoinedSample`) to ``path`` (``.npz``);
    return the view without them (:func:`load_prepared` puts them back)."""
    from dataclasses import replace

    arrays = {c: np.asarray(prepared.joined[c]) for c in prepared.joined.colnames}
    np.savez(path, X=prepared.X, **arrays)
    units = {c: prepared.joined[c].unit for c in prepared.joined.colnames}
    return replace(prepared, joined=Table(meta={"units": units}),
                   X=np.empty((0, prepared.X.shape[1]), dtype=prepared.X.dtype))


def load_prepared(prepared, path: Path):
    """The training view of :func:`spill_prepared` with its arrays read back from ``path``."""
    from dataclasses import replace

    units = prepared.joined.meta["units"]
    with np.load(path) as f:
        X = f["X"]
        joined = Table({c: f[c] for c in units}, copy=False)
    for c, unit in units.items():
        joined[c].unit = unit
    return replace(prepared, joined=joined, X=X)


def _py(v):
    """numpy scalar -> Python value (JSON-ready)."""
    return v.item() if hasattr(v, "item") else v


def _flat(prov: Mapping[str, Any]) -> dict[str, Any]:
    """Provenance for the model folder (all JSON-ready)."""
    import json

    return json.loads(json.dumps(prov, default=_py))

