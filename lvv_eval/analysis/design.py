"""Design matrices for the regression models: named columns, treatment coding, no surprises."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lvv_eval.analysis.caveats import NotEstimable


def _is_categorical(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s)


def _dummies(s: pd.Series, name: str) -> pd.DataFrame:
    """Treatment dummies ``name[level]`` for every observed level after the first (reference)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = [lv for lv in s.cat.categories if (s == lv).any()]
    else:
        levels = sorted(s.dropna().unique().tolist())
    values = s.astype("object").to_numpy()
    cols = {f"{name}[{lv}]": (values == lv).astype("float64") for lv in levels[1:]}
    return pd.DataFrame(cols, index=s.index)


def reference_levels(frame: pd.DataFrame, covariates: Sequence[str]) -> dict[str, str]:
    """The reference (left-out) level of each categorical covariate in ``frame``."""
    out = {}
    for name in covariates:
        s = frame[name]
        if _is_categorical(s):
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                levels = sorted(s.dropna().unique().tolist())
            if levels:
                out[name] = str(levels[0])
    return out


def design_matrix(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric design matrix (no intercept): numbers as they are, categories as treatment dummies.

    Categorical covariates get one column ``name[level]`` per observed level except the first;
    levels that do not occur are left out so that the matrix keeps full rank.
    """
    parts = []
    for name in covariates:
        if name not in frame.columns:
            raise KeyError(f"covariate {name!r} is not a column of the analysis frame")
        s = frame[name]
        if _is_categorical(s):
            parts.append(_dummies(s, name))
        else:
            parts.append(pd.DataFrame({name: s.astype("float64").to_numpy()}, index=frame.index))
    if not parts:
        return pd.DataFrame(index=frame.index)
    x = pd.concat(parts, axis=1)
    if x.isna().to_numpy().any():
        cols = x.columns[x.isna().any()].tolist()
        raise ValueError(f"design matrix has missing values in {cols}; drop incomplete rows first")
    return x


def check_full_rank(x: pd.DataFrame) -> None:
    """Raise :class:`NotEstimable` (a ``ValueError``) naming the columns when the design matrix is
    empty or rank deficient."""
    if x.shape[0] == 0:
        raise NotEstimable(f"no stays with every covariate known ({', '.join(map(str, x.columns)) or 'none'})")
    if x.shape[1] == 0:
        return
    arr = x.to_numpy()
    const = [c for c, v in zip(x.columns, np.ptp(arr, axis=0) == 0, strict=True) if v]
    if const:
        raise NotEstimable(f"covariates without variation in the analysed rows: {const}")
    rank = np.linalg.matrix_rank(arr.T @ arr)
    if rank < x.shape[1]:
        raise NotEstimable(
            f"design matrix is rank deficient (rank {rank} of {x.shape[1]} columns: "
            f"{list(x.columns)}); drop a collinear covariate"
        )
