"""Speed of linking and reconciling stays with their chain records (issue 14 target).

Target: linking and reconciling 1,000,000 stays with their IND and DT&V records <= 30 s on a
2-core machine. The data: an uncalibrated SYNTHETIC cohort of that many stays and its chain side
drawn by the generator (lvv_eval.synth.chain), pseudonymised as ingest does (``v_key``,
``person_links``), in the chain tables' contract. Timed, alternately and several times in the same
process: the bare pandas join (stays -> person links -> IND and DT&V records on ``v_key``: the
least any linkage must do) as the baseline, and the full reconciliation (linkage rates, the
unlinked, chain-only records, agreement per stay, DT&V prior procedures, the agreement matrix and
the discrepancy list). Medians are printed with their ratio.

    python benchmarks/bench_chain.py [--stays 1000000] [--runs 3] [--cache DIR]

Drawing the cohort and its chain side takes a few minutes at a million stays; ``--cache`` keeps
the tables between invocations.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lvv_eval.chain_schema import coerce_table
from lvv_eval.config import DEMO_PSEUDONYM_KEY
from lvv_eval.linkage.data import ChainData
from lvv_eval.linkage.reconcile import reconcile_chain
from lvv_eval.pseudonym import v_keys
from lvv_eval.schema import coerce_stays

KEY = DEMO_PSEUDONYM_KEY.encode()
STAYS_PER_PERSON = 1.015  # readmissions in the uncalibrated generator (measured: 1.018 at a million)


def _provenance(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame.assign(source_file=name, sheet="", source_row=np.arange(2, len(frame) + 2, dtype=np.int64))


def build(n_stays: int, seed: int = 7) -> tuple[pd.DataFrame, ChainData]:
    """A cohort of about ``n_stays`` stays and its chain tables, as ingest would write them."""
    from lvv_eval.synth.chain import draw_chain
    from lvv_eval.synth.dgp import simulate_cohort

    cohort = simulate_cohort(int(round(n_stays / STAYS_PER_PERSON)), seed=seed)
    truth = draw_chain(cohort, seed)
    ind = truth.ind.assign(v_key=v_keys(truth.ind["v_number"], KEY), extract_date=pd.Timestamp(truth.extract_date))
    dtv = truth.dtv.rename(columns={"start_date": "case_start_date", "end_date": "case_end_date",
                                    "mode": "departure_mode"})
    dtv = dtv.assign(v_key=v_keys(dtv["v_number"], KEY), extract_date=pd.Timestamp(truth.extract_date))
    people = truth.people[truth.people["kind"] == "lvv"]
    linked_v = people["v_number"].where(people["link"] == "delivery", people["crosswalk_v"])
    links = pd.DataFrame({"person_id": people["person_id"], "pilot": people["pilot"], "v_key": v_keys(linked_v, KEY),
                          "link_source": people["link"]})
    chain = ChainData(coerce_table(_provenance(ind, "ind.xlsx"), "chain_ind"),
                      coerce_table(_provenance(dtv, "dtv.csv"), "chain_dtv"),
                      coerce_table(_provenance(links, "links"), "person_links"), registers=("IND", "DTV"))
    return coerce_stays(cohort.stays), chain


def load_or_build(n_stays: int, cache: Path | None) -> tuple[pd.DataFrame, ChainData]:
    """The benchmark data, from ``cache`` when it holds this size, else drawn (and cached)."""
    names = ("stays", "chain_ind", "chain_dtv", "person_links")
    if cache is not None and all((cache / f"{n}_{n_stays}.parquet").exists() for n in names):
        frames = {n: pd.read_parquet(cache / f"{n}_{n_stays}.parquet") for n in names}
        return coerce_stays(frames["stays"]), ChainData(
            coerce_table(frames["chain_ind"], "chain_ind"), coerce_table(frames["chain_dtv"], "chain_dtv"),
            coerce_table(frames["person_links"], "person_links"), registers=("IND", "DTV"))
    stays, chain = build(n_stays)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for name, frame in zip(names, (stays, chain.ind, chain.dtv, chain.links), strict=True):
            frame.to_parquet(cache / f"{name}_{n_stays}.parquet", index=False)
    return stays, chain


def bare_join(stays: pd.DataFrame, chain: ChainData) -> int:
    """The baseline: stays joined to their person links and to every IND and DT&V record."""
    keyed = stays[["stay_id", "person_id", "admission_date", "exit_date"]].merge(
        chain.links[["person_id", "v_key"]], on="person_id", how="left")
    ind = keyed.merge(chain.ind[["v_key", "decision_date"]], on="v_key")
    dtv = keyed.merge(chain.dtv[["v_key", "case_end_date"]], on="v_key")
    return len(ind) + len(dtv)


def full_reconciliation(stays: pd.DataFrame, chain: ChainData) -> int:
    """Everything ``lvv-eval chain`` computes."""
    rec = reconcile_chain(stays, chain)
    rec.matrix()
    return len(rec.discrepancies)


def timed(func, *args) -> float:
    t0 = time.perf_counter()
    func(*args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stays", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    stays, chain = load_or_build(a.stays, a.cache)
    print(f"data: {len(stays):,} stays, {len(chain.ind):,} IND and {len(chain.dtv):,} DT&V records "
          f"({time.perf_counter() - t0:.0f} s to draw or load)", flush=True)
    base, full = [], []
    for _ in range(a.runs):
        base.append(timed(bare_join, stays, chain))
        full.append(timed(full_reconciliation, stays, chain))
    b, f = statistics.median(base), statistics.median(full)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"baseline: bare pandas join             median {b:6.2f} s  runs {[round(x, 2) for x in base]}")
    print(f"link and reconcile (lvv_eval.linkage)  median {f:6.2f} s  runs {[round(x, 2) for x in full]}  "
          f"ratio to the bare join {f / b:4.1f}x  target <= 30 s: {'OK' if f <= 30 else 'MISSED'}")
    print(f"peak memory of the process {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
