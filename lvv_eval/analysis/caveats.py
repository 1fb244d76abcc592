"""Warning classes for statistical caveats of the analysis layer (filter them by class)."""

from __future__ import annotations

import warnings


class NotEstimable(ValueError):
    """The data cannot support an analysis: no stays with a known value of the variables it needs,
    a covariate without variation, no events. The message says which; a report shows it in place
    of the section (:meth:`lvv_eval.report.present.Report.estimable`)."""


class AnalysisWarning(UserWarning):
    """Base class of every statistical caveat raised by :mod:`lvv_eval.analysis`."""


class FewClustersWarning(AnalysisWarning):
    """Cluster-robust errors rest on too few clusters (five pilots) to be trusted on their own."""


class SmallCellWarning(AnalysisWarning):
    """A group or cell holds fewer observations or events than the minimum cell size."""


class DroppedRowsWarning(AnalysisWarning):
    """Rows were left out of a model because a variable it uses is missing."""


class NonConvergenceWarning(AnalysisWarning):
    """A model fit did not converge, typically a covariate level without any event (separation)."""


MIN_CLUSTERS = 30
"""Below this many clusters a :class:`FewClustersWarning` is raised (Cameron & Miller 2015)."""


def warn_few_clusters(n_clusters: int, what: str, min_clusters: int = MIN_CLUSTERS) -> None:
    """Raise a :class:`FewClustersWarning` when ``n_clusters`` is below ``min_clusters``."""
    if n_clusters < min_clusters:
        warnings.warn(
            f"{what}: only {n_clusters} clusters; cluster-robust standard errors are unreliable "
            f"with fewer than {min_clusters}; the table's interval and p-value are the wild "
            f"cluster bootstrap ones (see its ci_method column).",
            FewClustersWarning,
            stacklevel=3,
        )
