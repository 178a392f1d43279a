"""Reading the archive schema's unit strings (VOUnit, CDS, generic) as astropy units."""

from __future__ import annotations

import astropy.units as u
import pytest

from sos_vo.schema import archive as archive_schema


def test_quoted_dex_is_astropy_dex():
    assert archive_schema.astropy_unit(archive_schema.DEX) == u.dex


def test_gaia_log_gravity_is_a_logarithm_of_cm_per_s2():
    logg = 4.44 * archive_schema.astropy_unit(archive_schema.LOGG)
    assert logg.physical.to_value(u.cm / u.s**2) == pytest.approx(10**4.44)


@pytest.mark.parametrize("text, unit", [("'electron'.s**-1", u.electron / u.s),
                                        ("mas.yr**-1", u.mas / u.yr),
                                        ("km.s**-1", u.km / u.s), ("dex", u.dex)])
def test_vounit_and_generic_strings(text, unit):
    assert archive_schema.astropy_unit(text) == unit


def test_every_unit_of_the_schema_is_readable():
    n = 0
    for specs in archive_schema.TABLE_COLUMNS.values():
        for spec in specs:
            if spec.unit:
                unit = archive_schema.astropy_unit(spec.unit)
                assert not isinstance(unit, u.UnrecognizedUnit), spec.name
                assert isinstance(unit, u.UnitBase | u.FunctionUnitBase), spec.name
                # a real unit decomposes (a logarithmic one through its physical unit)
                physical = unit.physical_unit if isinstance(unit, u.FunctionUnitBase) else unit
                assert physical.decompose().scale != 0, spec.name
                n += 1
    assert n > 0
