"""adjust_p_values: statsmodels' multipletests under our names; unknown names are refused."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from evalkit.stats import CORRECTIONS, adjust_p_values


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("name", "statsmodels_method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_equal_statsmodels(seed: int, name: str, statsmodels_method: str) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.random(200), rng.random(40) * 1e-3])  # some real effects
    rng.shuffle(p)
    adjusted = adjust_p_values(list(p), name)
    assert np.array_equal(adjusted, multipletests(p, alpha=0.05, method=statsmodels_method)[1])
    assert np.all(adjusted >= p)  # order kept, never smaller than the raw p


def test_holm_hand_computed() -> None:
    # sorted 0.01, 0.02, 0.04 times 3, 2, 1 -> 0.03, 0.04, 0.04 (running maximum)
    assert adjust_p_values([0.04, 0.01, 0.02], "holm") == pytest.approx([0.04, 0.03, 0.04])


def test_none_is_identity_and_empty_is_empty() -> None:
    p = [0.3, 0.001, 1.0, 0.0]
    assert list(adjust_p_values(p, "none")) == p
    for name in CORRECTIONS:
        assert adjust_p_values([], name).shape == (0,)


def test_unknown_method_raises_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'bonferoni'.*holm, bh, none"):
        adjust_p_values([0.1], "bonferoni")
    with pytest.raises(ValueError, match="did you mean 'holm'"):
        adjust_p_values([0.1], "hlom")


def test_p_values_outside_the_unit_interval_raise() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_p_values([0.1, float("nan")], "holm")


def test_importing_the_package_loads_neither_scipy_nor_statsmodels() -> None:
    code = (
        "import sys, evalkit.stats;"
        "print(','.join(m for m in ('scipy', 'statsmodels') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
