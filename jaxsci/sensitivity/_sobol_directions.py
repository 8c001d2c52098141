"""Joe-Kuo Sobol' direction numbers (new-joe-kuo-6.21201), first 1024 dimensions.

Source: S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional
projections", SIAM J. Sci. Comput. 30(5):2635-2654 (2008); table `new-joe-kuo-6.21201` from
https://web.maths.unsw.edu.au/~fkuo/sobol/ (search criterion 6). Extracted once from
scipy 1.18.1's `scipy/stats/_sobol_direction_numbers.npz` (the same table, as
arrays `poly` and `vinit`), dimensions 0..1023; jaxsci does not depend on scipy.

One line per dimension: the primitive polynomial `p` (its coefficient bits, leading and
trailing 1 included: degree `s = floor(log2 p)`), then the `s` initial direction integers
`m_1 .. m_s` (odd, `m_k < 2^k`). Dimension 0 is the van der Corput sequence (`p = 1`, all
`m_k = 1`). The table is the package data file `sobol_directions.txt` next to this module (a data table,
not code); `table()` reads it on first use (nothing is read at import).
sha256 of the table text without its final newline (first 16 hex digits): e20a1723d7292793.
"""

MAX_DIMENSION = 1024

import functools
from importlib import resources


@functools.cache
def table() -> str:
    """The text of the direction-number table (one line per dimension, as above)."""
    return resources.files(__package__).joinpath("sobol_directions.txt").read_text()
