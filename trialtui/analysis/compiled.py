"""numba's compiler as trialtui's compiled loops use it.

Imported only with those loops: importing numba takes a moment that nothing else should
pay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba


def compiled(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` compiled by numba to run without the interpreter lock (so threads share
    the work), with NumPy's arithmetic errors (x / 0 gives inf or NaN, no exception).

    The machine code is cached for later processes where numba finds a folder it can
    write (``NUMBA_CACHE_DIR`` when set, else next to the module, else the user's cache
    folder); where it finds none (a read-only installation and home), the loop is
    compiled afresh in each process instead of failing.
    """
    options: dict[str, Any] = {"nogil": True, "error_model": "numpy"}
    try:
        return numba.njit(cache=True, **options)(func)
    except RuntimeError as error:  # raised when the dispatcher looks for its cache folder
        if "cannot cache" not in str(error):
            raise
        return numba.njit(**options)(func)
