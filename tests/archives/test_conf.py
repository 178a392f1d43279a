"""Configuration: real endpoints by default, overrides by argument and environment."""

import pytest

from sos_vo.archives import conf  # the Conf object, as in astroquery
from sos_vo.archives.conf import parse_table_names, setting, sql_table_name, table_name


def test_real_endpoints():
    assert conf.gaia_tap_url == "https://gea.esac.esa.int/tap-server/tap"
    assert conf.vizier_tap_url == "https://tapvizier.cds.unistra.fr/TAPVizieR/tap"


def test_override_order(monkeypatch):
    assert setting("timeout", 5.0) == 5.0
    monkeypatch.setenv("SOS_VO_TIMEOUT", "12.5")
    assert setting("timeout") == 12.5
    assert setting("timeout", 3.0) == 3.0
    monkeypatch.setenv("SOS_VO_GAIA_TAP_URL", "http://127.0.0.1:1/tap")
    assert setting("gaia_tap_url") == "http://127.0.0.1:1/tap"
    with pytest.raises(KeyError):
        setting("nope")


def test_vizier_names(monkeypatch):
    assert sql_table_name('"J/A+A/659/A95/sos"') == "vizier.j_a_a_659_a95_sos"
    assert table_name("pastel", '"B/pastel/pastel"', vizier=True) == '"B/pastel/pastel"'
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")
    assert table_name("pastel", '"B/pastel/pastel"', vizier=True) == "vizier.b_pastel_pastel"
    monkeypatch.setenv("SOS_VO_TABLE_NAMES", "pastel=my.pastel")
    assert table_name("pastel", '"B/pastel/pastel"', vizier=True) == "my.pastel"
    assert table_name("pastel", "x", overrides={"pastel": "y.z"}) == "y.z"
    with pytest.raises(ValueError):
        parse_table_names("pastel")
