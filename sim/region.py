"""Regions as typed tables: municipalities, GP practices, hospital trusts, local hospitals
and residents by (municipality, practice, age band).

Two sources build the same :class:`Region`:

* :func:`real_region` reads the 66 option-holding municipalities of Central Norway
  shipped in ``sim/data/`` (SSB 07459 populations; source notes beside the CSVs);
* :func:`synthetic_region` builds a region of any size (up to all of Norway) from a
  lognormal municipal size distribution and the real region's age profile.

GP practices are generated in both (DESIGN.md, The region): GPs per municipality
``max(1, round(population / mean list))``, office sizes drawn from a fixed distribution,
one office in every municipality under ``single_office_below_persons`` and, with a
probability, in those under 5,000. Everything random here comes from ``region.seed``,
so all replicate runs share one region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from sim.config import RegionSection, data_path, parse_band, synthetic_names

AGE_BANDS: tuple[str, ...] = ("0-5", "6-15", "16-19", "20-29", "30-49", "50-66", "67-79", "80-89", "90+")
"""The nine SSB age bands of the population file, in order."""

MAX_AGE = 100  # last single year used when spreading rates over an open band


def spread_rates_to_bands(rates: dict[str, float], bands: tuple[str, ...] = AGE_BANDS) -> np.ndarray:
    """Rates given in any contiguous bands, as a rate per SSB band.

    Each source band's rate is spread over its single years of age; the rate of a target
    band is the mean over its single years (equal cohort sizes within a band assumed):
    ``r_b = (1/|b|) sum_{a in b} r(a)``, open bands running to ``MAX_AGE``.
    """
    per_year = np.zeros(MAX_AGE + 1)
    for label, rate in rates.items():
        lo, hi = parse_band(label)
        per_year[lo:(MAX_AGE if hi is None else hi) + 1] = rate
    out = np.empty(len(bands))
    for i, label in enumerate(bands):
        lo, hi = parse_band(label)
        out[i] = per_year[lo:(MAX_AGE if hi is None else hi) + 1].mean()
    return out


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights``, whole units, summing exactly.

    Floors of ``total * w / sum(w)``, then one more unit to the largest remainders
    (ties to the lower index).
    """
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = int(total - base.sum())
    if short:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return base


@dataclass(frozen=True)
class Region:
    """A region as tables. Row order is the index every array in the model uses.

    municipalities: kommunenummer (str, 4 chars), name, county, population, regional_council,
        hospital_trust, local_hospital, council_idx, trust_idx, hospital_idx
    practices: practice_idx, muni_idx, kommunenummer, n_gps, list_patients, salaried
    trusts: trust_idx, hospital_trust, n_municipalities, population
    hospitals: hospital_idx, local_hospital, trust_idx
    residents: muni_idx, practice_idx, band_idx, persons (int64) — one row per cohort
    """

    name: str
    municipalities: pd.DataFrame
    practices: pd.DataFrame
    trusts: pd.DataFrame
    hospitals: pd.DataFrame
    residents: pd.DataFrame

    @property
    def population(self) -> int:
        """Residents in the region (persons)."""
        return int(self.municipalities["population"].sum())

    @property
    def n_gps(self) -> int:
        """GPs in the region."""
        return int(self.practices["n_gps"].sum())

    def summary(self) -> dict[str, int]:
        """Counts for logs and manifests."""
        return {
            "municipalities": len(self.municipalities),
            "residents": self.population,
            "gps": self.n_gps,
            "gp_offices": len(self.practices),
            "trusts": len(self.trusts),
            "hospitals": len(self.hospitals),
            "cohorts": len(self.residents),
        }


# --------------------------------------------------------------------------- data files


@lru_cache(maxsize=1)
def _municipality_file() -> pd.DataFrame:
    return pd.read_csv(data_path("midt_norge_municipalities.csv"), dtype={"kommunenummer": str})


@lru_cache(maxsize=1)
def _age_file() -> pd.DataFrame:
    return pd.read_csv(data_path("midt_norge_population_by_age.csv"), dtype={"kommunenummer": str})


def _index(values: pd.Series) -> np.ndarray:
    """Dense integer codes in order of first appearance."""
    return pd.factorize(values)[0].astype(np.int64)


# --------------------------------------------------------------------------- practices and cohorts


def generate_practices(munis: pd.DataFrame, cfg: RegionSection, rng: np.random.Generator) -> pd.DataFrame:
    """GP offices per municipality (DESIGN.md, The region).

    n_gps(m) = max(1, round(pop_m / list_mean)); one office if pop_m < single_office_below
    or (pop_m < 5000 and u < single_office_prob_below_5000); otherwise office sizes are drawn
    from ``office_size_pmf`` until they hold n_gps(m), the last one cut to fit. List patients
    are the municipality's residents split over its offices in proportion to their GPs.
    """
    pmf = np.asarray(cfg.office_size_pmf)
    sizes = np.arange(1, len(pmf) + 1)
    pops = munis["population"].to_numpy()
    n_gps_muni = np.maximum(1, np.rint(pops / cfg.gp_list_mean_persons)).astype(np.int64)
    u_single = rng.random(len(munis))
    rows_muni, rows_gps = [], []
    for m, (pop, n) in enumerate(zip(pops, n_gps_muni)):
        single = pop < cfg.single_office_below_persons or (pop < 5000 and u_single[m] < cfg.single_office_prob_below_5000)
        if single:
            offices = [int(n)]
        else:
            draws = rng.choice(sizes, size=int(n) + 1, p=pmf)  # never more offices than GPs
            cum = np.cumsum(draws)
            k = int(np.searchsorted(cum, n))
            offices = [int(x) for x in draws[:k]]
            rest = int(n - (cum[k - 1] if k else 0))
            if offices and rest < draws[k] / 2:
                offices[-1] += rest  # a small leftover joins the previous office
            else:
                offices.append(rest)
        rows_muni += [m] * len(offices)
        rows_gps += offices
    practices = pd.DataFrame({"muni_idx": np.asarray(rows_muni, dtype=np.int64), "n_gps": np.asarray(rows_gps, dtype=np.int64)})
    practices["kommunenummer"] = munis["kommunenummer"].to_numpy()[practices["muni_idx"]]
    lists = np.zeros(len(practices), dtype=np.int64)
    for m, grp in practices.groupby("muni_idx").groups.items():
        idx = np.asarray(grp)
        lists[idx] = largest_remainder(int(pops[m]), practices["n_gps"].to_numpy()[idx])
    practices["list_patients"] = lists
    practices["salaried"] = rng.random(len(practices)) < cfg.share_gps_salaried
    practices.insert(0, "practice_idx", np.arange(len(practices), dtype=np.int64))
    return practices[["practice_idx", "muni_idx", "kommunenummer", "n_gps", "list_patients", "salaried"]]


def build_residents(age_pop: np.ndarray, practices: pd.DataFrame) -> pd.DataFrame:
    """Residents as cohorts (municipality, practice, age band) with int64 counts.

    Each municipality's residents in each band are split over its practices in
    proportion to their list patients, by largest remainder, so every total is exact.
    """
    parts = []
    for m, grp in practices.groupby("muni_idx").groups.items():
        idx = np.asarray(grp)
        lists = practices["list_patients"].to_numpy()[idx]
        for b in range(age_pop.shape[1]):
            counts = largest_remainder(int(age_pop[m, b]), lists if lists.sum() else np.ones(len(idx)))
            parts.append(np.column_stack([np.full(len(idx), m), idx, np.full(len(idx), b), counts]))
    arr = np.vstack(parts).astype(np.int64)
    arr = arr[arr[:, 3] > 0]
    return pd.DataFrame(arr, columns=["muni_idx", "practice_idx", "band_idx", "persons"])


def _finish(name: str, munis: pd.DataFrame, age_pop: np.ndarray, cfg: RegionSection) -> Region:
    """Add indices, practices, trusts, hospitals and cohorts to a municipality table."""
    munis = munis.reset_index(drop=True).copy()
    munis["council_idx"] = _index(munis["regional_council"])
    munis["trust_idx"] = _index(munis["hospital_trust"])
    munis["hospital_idx"] = _index(munis["local_hospital"])
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(0,)))
    practices = generate_practices(munis, cfg, rng)
    trusts = (munis.groupby("trust_idx", sort=True)
              .agg(hospital_trust=("hospital_trust", "first"), n_municipalities=("kommunenummer", "size"),
                   population=("population", "sum")).reset_index())
    hospitals = (munis.groupby("hospital_idx", sort=True)
                 .agg(local_hospital=("local_hospital", "first"), trust_idx=("trust_idx", "first")).reset_index())
    residents = build_residents(age_pop, practices)
    return Region(name, munis, practices, trusts, hospitals, residents)


# --------------------------------------------------------------------------- the two sources


def real_region(cfg: RegionSection) -> Region:
    """The 66 municipalities of Central Norway with the chosen year's SSB population."""
    col = f"population_{cfg.population_year}"
    f = _municipality_file()
    munis = f[["kommunenummer", "name", "county", "regional_council", "hospital_trust", "local_hospital"]].copy()
    munis.insert(3, "population", f[col].astype(np.int64).to_numpy())
    ages = _age_file().pivot(index="kommunenummer", columns="age_band", values=col)
    age_pop = ages.loc[munis["kommunenummer"], list(AGE_BANDS)].to_numpy(dtype=np.int64)
    return _finish("Central Norway", munis, age_pop, cfg)


def region_age_profile(year: int = 2023) -> np.ndarray:
    """Share of the real region's residents in each SSB age band (sums to 1)."""
    col = f"population_{year}"
    tot = _age_file().groupby("age_band")[col].sum().reindex(list(AGE_BANDS)).to_numpy(dtype=float)
    return tot / tot.sum()


def synthetic_region(cfg: RegionSection) -> Region:
    """A region of ``synthetic_municipalities`` municipalities and ``synthetic_population`` residents.

    Municipal populations are lognormal (sd ``synthetic_size_sigma`` of the log), rescaled to
    the total by largest remainder with at least 100 residents each; ages follow the real
    region's profile; consecutive municipalities form councils, trusts and hospital areas.
    """
    n = cfg.synthetic_municipalities
    if cfg.synthetic_population < 100 * n:
        raise ValueError(f"region.synthetic_population must be >= 100 per municipality ({100 * n}), got {cfg.synthetic_population}")
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(1,)))
    weights = np.sort(rng.lognormal(0.0, cfg.synthetic_size_sigma, n))[::-1]
    pops = 100 + largest_remainder(cfg.synthetic_population - 100 * n, weights)
    i = np.arange(n)
    trust = i // cfg.synthetic_municipalities_per_trust
    within = i % cfg.synthetic_municipalities_per_trust
    hosp = within * cfg.synthetic_hospitals_per_trust // cfg.synthetic_municipalities_per_trust
    knr, names, trusts = synthetic_names(n, cfg.synthetic_municipalities_per_trust)
    munis = pd.DataFrame({
        "kommunenummer": knr,
        "name": names,
        "county": [f"County {t + 1}" for t in trust],
        "population": pops.astype(np.int64),
        "regional_council": [f"Council {k // cfg.synthetic_municipalities_per_council + 1}" for k in i],
        "hospital_trust": trusts,
        "local_hospital": [f"Hospital {t + 1}.{h + 1}" for t, h in zip(trust, hosp)],
    })
    profile = region_age_profile()
    age_pop = np.vstack([largest_remainder(int(p), profile) for p in pops])
    return _finish(f"Synthetic ({n} municipalities)", munis, age_pop, cfg)


def load_region(cfg: RegionSection) -> Region:
    """The region a config names: real or synthetic."""
    return real_region(cfg) if cfg.kind == "real" else synthetic_region(cfg)
