"""The compiled loops' compiler: cached where numba can write, compiled afresh where not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from trialtui.analysis.compiled import compiled

SOURCE = """
import numpy as np

def total(values):
    out = 0.0
    for v in values:
        out += v
    return out / 0.0 if len(values) == 0 else out
"""


def test_a_loop_numba_cannot_cache_is_compiled_all_the_same() -> None:
    """Code numba finds no cache folder for (here: source with no file behind it, as for
    an installation and home that cannot be written) is compiled without a cache rather
    than failing on import."""
    namespace: dict = {}
    exec(compile(SOURCE, "<no file>", "exec"), namespace)
    with pytest.raises(RuntimeError, match="cannot cache"):
        numba.njit(cache=True)(namespace["total"])
    total = compiled(namespace["total"])
    assert total(np.array([1.5, 2.5, 3.0])) == 7.0
    assert np.isnan(total(np.array([])))  # 0 / 0 as NumPy gives it, no exception


def test_a_loop_in_a_writable_folder_is_cached(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")  # numba's own choice of folder
    module_file = tmp_path / "summing.py"
    module_file.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("summing", module_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules["summing"] = module
    try:
        spec.loader.exec_module(module)
        total = compiled(module.total)
        assert total(np.arange(4.0)) == 6.0
    finally:
        del sys.modules["summing"]
    cached = list((tmp_path / "__pycache__").glob("summing.total-*.nbi"))
    assert cached, "numba wrote no cache index next to the module"
