"""Bad input for jaxsci.rom (DESIGN rule 6): errors name the argument and say what to do."""

import pytest

from jaxsci import rom


def test_abstract_fom_cannot_be_built():
    with pytest.raises(TypeError):
        rom.AbstractFOM()
