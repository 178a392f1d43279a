"""Configuration of the archive clients, astroquery style.

``conf`` holds the real endpoints, time-outs and row limits.  Every item can be changed

* in a running Python process: ``from sos_vo.archives import conf; conf.gaia_tap_url = URL``
  (or ``with conf.set_temp("timeout", 60): ...``),
* in the astropy configuration file ``~/.astropy/config/sos_vo.cfg`` (section ``[archives]``),
* by an environment variable ``SOS_VO_<ITEM>`` (``SOS_VO_GAIA_TAP_URL``, ``SOS_VO_TIMEOUT``),
* by the keyword arguments / command-line options of each call, which win over all of the above.

Table names
-----------
``table_names`` maps a logical table key (see :mod:`sos_vo.archives.tables`) to the name
used in ADQL.  It is empty by default (the real names).  A mirror that cannot use the real
names overrides some of them, e.g. ``SOS_VO_TABLE_NAMES="pastel=vizier.b_pastel_pastel"``.
VizieR's TAP names are quoted paths (``"B/pastel/pastel"``), which are not SQL identifiers
and cannot be DaCHS schema/table names; :func:`sql_table_name` gives the documented
mapping used by the DaCHS mirror: schema ``vizier``, table = the path, lower case, with
every character that is not a letter or a digit replaced by ``_``
(``"J/A+A/659/A95/sos"`` -> ``vizier.j_a_a_659_a95_sos``).  ``vizier_names = sql`` applies
that mapping to every VizieR table at once.
"""

from __future__ import annotations

import os
import re

from astropy import config as _config

ENV_PREFIX = "SOS_VO_"


class Conf(_config.ConfigNamespace):
    """Configuration parameters for :mod:`sos_vo.archives`."""

    gaia_tap_url = _config.ConfigItem(
        "https://gea.esac.esa.int/tap-server/tap",
        "ESA Gaia archive TAP service (gaiadr3, external schemas).")
    vizier_tap_url = _config.ConfigItem(
        "https://tapvizier.cds.unistra.fr/TAPVizieR/tap",
        "CDS VizieR TAP service (PASTEL, SoS DR1, Andrae et al. 2023).")
    skymapper_tap_url = _config.ConfigItem(
        "https://api.skymapper.nci.org.au/public/tap/",
        "SkyMapper TAP service at NCI (dr2.master), alternative source of SkyMapper photometry.")
    sdss_skyserver_url = _config.ConfigItem(
        "https://skyserver.sdss.org/dr13/SkyServerWS/SearchTools/SqlSearch",
        "SDSS DR13 SkyServer SQL search, alternative source of SDSS photometry.")
    timeout = _config.ConfigItem(
        600.0, "Time-out of one HTTP request or one async job, seconds.", cfgtype="float")
    row_limit = _config.ConfigItem(
        500_000, "MAXREC of one job; a chunk that reaches it is split (never truncated).",
        cfgtype="integer")
    retries = _config.ConfigItem(
        5, "Retries of a request after HTTP 429, 5xx or a time-out.", cfgtype="integer")
    backoff = _config.ConfigItem(
        2.0, "First back-off delay, seconds; doubled at each retry unless Retry-After says "
        "otherwise.", cfgtype="float")
    max_backoff = _config.ConfigItem(
        300.0, "Longest wait between two tries, seconds (caps Retry-After too).", cfgtype="float")
    max_radius_deg = _config.ConfigItem(
        30.0, "Largest cone radius (deg) accepted for one query region.", cfgtype="float")
    chunk_order = _config.ConfigItem(
        5, "HEALPix order of the first split of a region too large for one job "
        "(order 5: 3.36 deg^2 cells).", cfgtype="integer")
    max_chunk_order = _config.ConfigItem(
        12, "Deepest HEALPix order a chunk is split to (12 = Gaia source_id resolution).",
        cfgtype="integer")
    single_job_max_area_deg2 = _config.ConfigItem(
        25.0, "A region larger than this (deg^2) is split into HEALPix chunks up front.",
        cfgtype="float")
    cache_dir = _config.ConfigItem(
        "", "Folder of the chunk cache; empty: ~/.cache/sos-vo/tap.")
    vizier_names = _config.ConfigItem(
        "vizier", "How VizieR tables are named in ADQL: 'vizier' (real quoted names) or 'sql' "
        "(the SQL-identifier mapping of sql_table_name, for a DaCHS mirror).")
    table_names = _config.ConfigItem(
        "", "Overrides of table names, 'key=name,key=name' (keys: sos_vo.archives.tables).")


conf = Conf()


def setting(item: str, override: object = None) -> object:
    """Value of configuration ``item``: ``override`` > ``$SOS_VO_<ITEM>`` > ``conf``.

    Parameters
    ----------
    item : str
        Name of a :class:`Conf` item.
    override : object, optional
        An explicit value (a keyword argument or command-line option); wins when not None.
    """
    if not hasattr(Conf, item):
        raise KeyError(f"unknown sos_vo.archives configuration item {item!r}")
    if override is not None:
        return override
    default = getattr(conf, item)
    env = os.environ.get(ENV_PREFIX + item.upper())
    if env is None or env == "":
        return default
    if isinstance(default, bool):
        return env.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(env)
    if isinstance(default, float):
        return float(env)
    return env


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def sql_table_name(vizier_name: str, schema: str = "vizier") -> str:
    """Map a VizieR table name (``"B/pastel/pastel"``) to an SQL identifier pair.

    >>> sql_table_name('"J/A+A/659/A95/sos"')
    'vizier.j_a_a_659_a95_sos'
    """
    path = vizier_name.strip().strip('"').lower()
    return f"{schema}.{_NON_ALNUM.sub('_', path).strip('_')}"


def parse_table_names(text: str | dict[str, str] | None) -> dict[str, str]:
    """Parse ``'key=name,key=name'`` (or pass a dict through) into a dict."""
    if not text:
        return {}
    if isinstance(text, dict):
        return dict(text)
    out = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        key, sep, name = part.partition("=")
        if not sep or not key.strip() or not name.strip():
            raise ValueError(f"table name override {part!r} is not of the form key=name")
        out[key.strip()] = name.strip()
    return out


def table_name(key: str, default: str, vizier: bool = False,
               overrides: str | dict[str, str] | None = None) -> str:
    """The ADQL name of logical table ``key`` (real name ``default``) after all overrides."""
    names = parse_table_names(setting("table_names"))
    names.update(parse_table_names(overrides))
    if key in names:
        return names[key]
    if vizier and str(setting("vizier_names")) == "sql":
        return sql_table_name(default)
    return default


# Label sources (sos_vo.archives.label_source): one TAP URL each, overridable like the others.
def _label_item(name: str, default: str, description: str) -> None:
    item = _config.ConfigItem(default, description, module=Conf.gaia_tap_url.module)
    item.name = name  # what a class-body definition sets through __set_name__
    setattr(Conf, name, item)


_VIZIER_TAP = "https://tapvizier.cds.unistra.fr/TAPVizieR/tap"
_label_item("apogee_dr17_tap_url", _VIZIER_TAP, "TAP service of the APOGEE DR17 labels (VizieR III/286).")
_label_item("galah_dr3_tap_url", "https://datacentral.org.au/vo/tap",
            "TAP service of the GALAH DR3 labels (Data Central, galah_dr3.main_star).")
_label_item("lamost_tap_url", _VIZIER_TAP,
            "TAP service of the LAMOST LRS labels (VizieR V/162, LAMOST DR11).")
_label_item("gaia_eso_tap_url", _VIZIER_TAP,
            "TAP service of the Gaia-ESO DR5.1 labels (VizieR J/A+A/676/A129).")
_label_item("segue_sspp_tap_url", "https://datalab.noirlab.edu/tap",
            "TAP service of the SEGUE SSPP labels (NOIRLab Astro Data Lab; public scripts send "
            "ADQL to its /tap/sync).")
_label_item("sos_dr2_tap_url", _VIZIER_TAP,
            "TAP service of the Survey of Surveys DR2 catalogue (VizieR).")
_label_item("pastel_tap_url", _VIZIER_TAP,
            "TAP service of PASTEL (VizieR B/pastel) for the label recalibration.")
