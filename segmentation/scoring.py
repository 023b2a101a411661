"""VALOR scoring math: value, potential, gap, priority tier, key accounts and clusters.

Pure functions over a pandas frame with one row per customer (no Django imports), so the
job and the tests share one implementation and a reference can be computed by hand.

**Current value** (per-tenant weights, ``ValueConfig``) over the last ``window_months``
complete months of the monthly account summaries::

    current_value = revenue_weight * Σ revenue            (spread and fee income)
                  + fee_weight     * Σ fees               (extra weight on fees, default 0)
                  + balance_weight * Σ average_balance / window_months
                                                           (a carry rate on the mean balance)

summed over all of the customer's accounts; months without a summary count as zero.
Defaults: 1, 0, 0 — the contribution is the income the bank booked.

**Potential value** is what comparable customers reach: the ``potential_percentile``
(default 0.75, linear interpolation) of current value within the customer's peer group,
and never below the customer's own value. Peer groups, finest first:

* persons: kind + age band (<25, 25-34, 35-44, 45-54, 55-64, 65+) + income band;
  companies: kind + economic sector + size band by employees (<10, 10-49, 50-199, 200+);
* persons: kind + age band; companies: kind + economic sector;
* kind alone.

A customer is compared within the finest group that has at least ``peer_min_size``
customers (the last level always applies).

**Gap** = potential − current. **Priority** = current + ``gap_weight`` × gap. Customers
are ranked by priority (ties: lower customer id first); the first ``ceil(n × tier_a_share)``
are tier A, up to ``ceil(n × tier_b_share)`` tier B, the rest C. **Key accounts** are the
first ``ceil(n × key_account_share)`` by current value among those with a positive value.

**Clusters**: k-means (fixed seed) over standardised behaviour and profile features
(``CLUSTER_FEATURES``: age, income band, stratum, family life stage (``family_life_stage``,
ordinal), equity (companies), value, balance, its trend, transactions and their
seasonality, products and product families held, asset share, digital channel share,
satisfaction; constant ones are dropped, missing values take the median). The
model is fitted on a deterministic sample of at most ``FIT_SAMPLE`` customers and then
assigns everyone, so the cost is bounded at any portfolio size. Clusters are numbered by
descending mean current value; each carries the traits that distinguish it (features
whose standardised mean is furthest from the portfolio's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

AGE_BANDS = (25, 35, 45, 55, 65)
AGE_BAND_LABELS = ("<25", "25-34", "35-44", "45-54", "55-64", "65+")
EMPLOYEE_BANDS = (10, 50, 200)
EMPLOYEE_BAND_LABELS = ("micro", "small", "medium", "large")
INCOME_ORDER = {"lt1": 0, "1to2": 1, "2to4": 2, "4to8": 3, "8to16": 4, "gt16": 5}
DIGITAL_CHANNELS = ("email", "sms", "whatsapp", "web", "app")

CLUSTER_FEATURES = (
    "age",
    "income",
    "stratum",
    "life_stage",
    "log_equity",
    "log_value",
    "log_balance",
    "balance_trend",
    "transactions",
    "seasonality",
    "products",
    "families",
    "asset_share",
    "digital_share",
    "satisfaction",
)
FIT_SAMPLE = 20_000
KMEANS_INITS = 2
TRAIT_THRESHOLD = 0.5
MAX_TRAITS = 3


@dataclass(frozen=True)
class ScoringParams:
    """Every tunable of a run (from ``ValueConfig``), as plain numbers."""

    revenue_weight: float = 1.0
    fee_weight: float = 0.0
    balance_weight: float = 0.0
    window_months: int = 12
    potential_percentile: float = 0.75
    peer_min_size: int = 5
    gap_weight: float = 0.5
    tier_a_share: float = 0.2
    tier_b_share: float = 0.5
    key_account_share: float = 0.01
    clusters: int = 5
    random_seed: int = 42


# --- value ---------------------------------------------------------------------------------


def current_value(frame: pd.DataFrame, params: ScoringParams) -> np.ndarray:
    """The formula of the module docstring, rounded to cents. Needs ``revenue``, ``fees``
    and ``balance_sum`` (Σ monthly average balance over the window)."""
    value = (
        params.revenue_weight * frame["revenue"].to_numpy(dtype=float)
        + params.fee_weight * frame["fees"].to_numpy(dtype=float)
        + params.balance_weight * frame["balance_sum"].to_numpy(dtype=float) / params.window_months
    )
    return np.round(value, 2)


def _band_codes(values: pd.Series, edges: tuple[int, ...]) -> np.ndarray:
    """Band index per value (``len(edges) + 1`` for unknown)."""
    raw = values.to_numpy(dtype=float)
    codes = np.searchsorted(np.asarray(edges), np.nan_to_num(raw), side="right")
    return np.where(np.isnan(raw), len(edges) + 1, codes)


def _text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) of a text column, blank read as ``?``."""
    codes, uniques = pd.factorize(values.fillna("").astype(str).replace("", "?"), sort=True)
    return codes, np.asarray(uniques, dtype=object)


@dataclass
class PeerLevel:
    """One level of peer groups: a dense group number per customer and each group's label."""

    groups: np.ndarray
    labels: np.ndarray

    @classmethod
    def from_parts(cls, parts: list[tuple[np.ndarray, np.ndarray]]) -> PeerLevel:
        """Groups of the combinations of ``parts`` (codes, labels-by-code), labelled ``a|b|c``."""
        key = np.zeros(len(parts[0][0]), dtype=np.int64)
        for codes, labels in parts:
            key = key * (len(labels) + 1) + codes
        uniques, first, groups = np.unique(key, return_index=True, return_inverse=True)
        labels = np.array(["|".join(str(lab[c[i]]) for c, lab in parts) for i in first], dtype=object)
        return cls(groups=groups.reshape(-1), labels=labels if len(uniques) else np.zeros(0, dtype=object))


def peer_levels(frame: pd.DataFrame) -> list[PeerLevel]:
    """The peer groups of every customer, finest level first (see the docstring)."""
    kind, kind_labels = _text_codes(frame["kind"])
    person = frame["kind"].to_numpy(dtype=object) == "person"
    age = _band_codes(frame["age"], AGE_BANDS)
    size = _band_codes(frame["employees"], EMPLOYEE_BANDS)
    income, income_labels = _text_codes(frame["income_band"])
    sector, sector_labels = _text_codes(frame["economic_sector"])
    age_labels = np.array([*AGE_BAND_LABELS, "?"], dtype=object)
    size_labels = np.array([*EMPLOYEE_BAND_LABELS, "?"], dtype=object)
    # Persons and companies use different attributes; offsetting the company codes keeps
    # both in one integer key (labels: the person's labels first, then the company's).
    first = np.where(person, age, len(age_labels) + sector)
    second = np.where(person, income, len(income_labels) + size)
    first_labels = np.concatenate([age_labels, sector_labels])
    second_labels = np.concatenate([income_labels, size_labels])
    kinds = (kind, kind_labels)
    return [
        PeerLevel.from_parts([kinds, (first, first_labels), (second, second_labels)]),
        PeerLevel.from_parts([kinds, (first, first_labels)]),
        PeerLevel.from_parts([kinds]),
    ]


def potential_value(
    values: np.ndarray, levels: list[PeerLevel], params: ScoringParams
) -> tuple[np.ndarray, np.ndarray]:
    """(potential value, the peer-group label used) for every customer."""
    n = len(values)
    chosen_label = np.full(n, "", dtype=object)
    chosen_quantile = np.full(n, np.nan)
    decided = np.zeros(n, dtype=bool)
    for depth, level in enumerate(levels):
        sizes = np.bincount(level.groups, minlength=len(level.labels))[level.groups]
        use = ~decided & ((sizes >= params.peer_min_size) | (depth == len(levels) - 1))
        if not use.any():
            continue
        quantiles = pd.Series(values).groupby(level.groups).quantile(params.potential_percentile)
        by_group = np.full(len(level.labels), np.nan)
        by_group[quantiles.index.to_numpy()] = quantiles.to_numpy()
        chosen_quantile[use] = by_group[level.groups[use]]
        chosen_label[use] = level.labels[level.groups[use]]
        decided |= use
    potential = np.round(np.maximum(values, chosen_quantile), 2)
    return potential, chosen_label


def _rank_positions(order_keys: list[np.ndarray]) -> np.ndarray:
    """Position of each row when sorted by ``order_keys`` (last key is the primary one)."""
    order = np.lexsort(order_keys)
    positions = np.empty(len(order), dtype=np.int64)
    positions[order] = np.arange(len(order))
    return positions


def priority_tiers(
    values: np.ndarray, potential: np.ndarray, customer_ids: np.ndarray, params: ScoringParams
) -> tuple[np.ndarray, np.ndarray]:
    """(priority, tier letter) per customer."""
    gap = potential - values
    priority = np.round(values + params.gap_weight * gap, 2)
    n = len(values)
    positions = _rank_positions([customer_ids, -priority])
    a_count = math.ceil(n * params.tier_a_share)
    b_count = max(a_count, math.ceil(n * params.tier_b_share))
    tiers = np.where(positions < a_count, "A", np.where(positions < b_count, "B", "C"))
    return priority, tiers


def key_accounts(values: np.ndarray, customer_ids: np.ndarray, params: ScoringParams) -> np.ndarray:
    """True for the top ``key_account_share`` of customers by current value (value > 0)."""
    count = math.ceil(len(values) * params.key_account_share)
    positions = _rank_positions([customer_ids, -values])
    return (positions < count) & (values > 0)


# --- features and clusters -----------------------------------------------------------------

# The family life cycle (Wells and Gubar's stages, in their order), for persons.
LIFE_STAGES = ("bachelor", "couple", "full_nest", "empty_nest", "solitary_survivor")
PARTNERED = ("married", "cohabiting")


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats (NaN where unknown, all NaN when the frame lacks it)."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def family_life_stage(frame: pd.DataFrame) -> np.ndarray:
    """Each person's stage in the family life cycle as its index in ``LIFE_STAGES`` (NaN for
    companies and for persons without age, or without both civil status and children):

    * 55 or older: empty nest with a partner or children, solitary survivor without;
    * younger: full nest with children, couple with a partner and no children, bachelor
      otherwise (single, divorced or widowed without children).

    Unknown children count as none, an unknown civil status as no partner.
    """
    age = frame["age"].to_numpy(dtype=float)
    civil = (
        frame["civil_status"].fillna("").astype(str).to_numpy() if "civil_status" in frame else np.full(len(frame), "")
    )
    children = _numbers(frame, "children")
    partnered = np.isin(civil, PARTNERED)
    has_children = np.nan_to_num(children, nan=0.0) > 0
    stage = np.select(
        [age >= 55, has_children, partnered],
        [np.where(partnered | has_children, 3.0, 4.0), 2.0, 1.0],
        default=0.0,
    )
    unknown = np.isnan(age) | ((civil == "") & np.isnan(children)) | (frame["kind"].to_numpy() != "person")
    return np.where(unknown, np.nan, stage)


def monthly_matrix(frame: pd.DataFrame, prefix: str) -> np.ndarray:
    """The window's monthly columns ``<prefix>_0 .. <prefix>_{w-1}`` (oldest first) as a matrix."""
    return frame.filter(regex=rf"^{prefix}_\d+$").to_numpy(dtype=float)


def mean_balance(frame: pd.DataFrame) -> np.ndarray:
    balances = monthly_matrix(frame, "bal")
    return balances.mean(axis=1) if balances.shape[1] else np.zeros(len(frame))


def behaviour_features(frame: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """The numeric features the clusters are learned on (NaN where unknown)."""
    balances = monthly_matrix(frame, "bal")
    transactions = monthly_matrix(frame, "tx")
    months = balances.shape[1]
    avg_balance = mean_balance(frame)
    if months > 1:
        x = np.arange(months, dtype=float) - (months - 1) / 2
        slope = (balances * x).sum(axis=1) / (x**2).sum()
        trend = slope / (np.abs(avg_balance) + 1.0)
    else:
        trend = np.zeros(len(frame))
    tx_mean = transactions.mean(axis=1) if months else np.zeros(len(frame))
    tx_std = transactions.std(axis=1) if months else np.zeros(len(frame))
    with np.errstate(divide="ignore", invalid="ignore"):
        seasonality = np.where(tx_mean > 0, tx_std / tx_mean, 0.0)
        total_balance = frame["asset_balance"].to_numpy(float) + frame["liability_balance"].to_numpy(float)
        asset_share = np.where(total_balance > 0, frame["asset_balance"].to_numpy(float) / total_balance, np.nan)
        interactions = frame["interactions"].to_numpy(float)
        digital_share = np.where(interactions > 0, frame["digital_interactions"].to_numpy(float) / interactions, np.nan)
    return pd.DataFrame(
        {
            "age": frame["age"].to_numpy(dtype=float),
            "income": frame["income_band"].map(INCOME_ORDER).to_numpy(dtype=float),
            "stratum": _numbers(frame, "stratum"),
            "life_stage": family_life_stage(frame),
            "log_equity": np.log1p(np.maximum(_numbers(frame, "equity"), 0.0)),
            "log_value": np.sign(values) * np.log1p(np.abs(values)),
            "log_balance": np.log1p(np.maximum(avg_balance, 0.0)),
            "balance_trend": trend,
            "transactions": tx_mean,
            "seasonality": seasonality,
            "products": frame["products"].to_numpy(dtype=float),
            "families": _numbers(frame, "families"),
            "asset_share": asset_share,
            "digital_share": digital_share,
            "satisfaction": frame["satisfaction"].to_numpy(dtype=float),
        },
        index=frame.index,
    )


def _prepare(features: pd.DataFrame) -> pd.DataFrame:
    """Median-imputed features without the constant columns."""
    filled = features.fillna(features.median()).fillna(0.0)
    spread = filled.max() - filled.min()
    varying = [c for c in filled.columns if spread[c] > 0]
    return filled[varying]


@dataclass
class Clustering:
    labels: np.ndarray  # cluster number per customer, 1..k
    traits: dict[int, list[dict]]  # cluster number -> distinguishing traits
    sizes: dict[int, int]


def learn_clusters(features: pd.DataFrame, values: np.ndarray, params: ScoringParams) -> Clustering:
    """k-means over standardised features; clusters numbered by mean value, with traits."""
    n = len(features)
    prepared = _prepare(features)
    k = min(params.clusters, n)
    if n == 0:
        return Clustering(labels=np.zeros(0, dtype=np.int64), traits={}, sizes={})
    if prepared.shape[1] == 0 or k < 2:
        labels = np.ones(n, dtype=np.int64)
        return Clustering(labels=labels, traits={1: []}, sizes={1: n})
    scaled = StandardScaler().fit_transform(prepared.to_numpy(dtype=float))
    rng = np.random.default_rng(params.random_seed)
    fit_rows = np.sort(rng.choice(n, size=FIT_SAMPLE, replace=False)) if n > FIT_SAMPLE else slice(None)
    model = KMeans(n_clusters=k, random_state=params.random_seed, n_init=KMEANS_INITS, max_iter=100).fit(
        scaled[fit_rows]
    )
    raw = model.predict(scaled)
    # Number clusters by descending mean current value (ties: by raw label), stable run to run.
    means = pd.Series(values).groupby(raw).mean()
    order = sorted(means.index, key=lambda label: (-means[label], label))
    renumber = np.zeros(k, dtype=np.int64)
    for number, label in enumerate(order, start=1):
        renumber[label] = number
    labels = renumber[raw]
    traits = _traits(prepared, scaled, labels)
    sizes = {int(c): int(s) for c, s in zip(*np.unique(labels, return_counts=True), strict=True)}
    return Clustering(labels=labels, traits=traits, sizes=sizes)


def _traits(prepared: pd.DataFrame, scaled: np.ndarray, labels: np.ndarray) -> dict[int, list[dict]]:
    """Per cluster, the features whose standardised mean is furthest from 0 (the portfolio)."""
    columns = list(prepared.columns)
    raw = prepared.to_numpy(dtype=float)
    overall = raw.mean(axis=0)
    result: dict[int, list[dict]] = {}
    for cluster in np.unique(labels):
        rows = labels == cluster
        z = scaled[rows].mean(axis=0)
        ranked = sorted(range(len(columns)), key=lambda i: -abs(z[i]))
        chosen = [i for i in ranked if abs(z[i]) >= TRAIT_THRESHOLD][:MAX_TRAITS] or ranked[:1]
        result[int(cluster)] = [
            {
                "feature": columns[i],
                "direction": "high" if z[i] > 0 else "low",
                "z": round(float(z[i]), 2),
                "mean": round(float(raw[rows, i].mean()), 4),
                "overall": round(float(overall[i]), 4),
            }
            for i in chosen
        ]
    return result


# --- the whole scoring -----------------------------------------------------------------------


def score_frame(frame: pd.DataFrame, params: ScoringParams) -> tuple[pd.DataFrame, Clustering]:
    """Every output column of a run for ``frame`` (one row per customer, ``customer_id``)."""
    values = current_value(frame, params)
    levels = peer_levels(frame)
    potential, peer_key = potential_value(values, levels, params)
    customer_ids = frame["customer_id"].to_numpy(dtype=np.int64)
    priority, tiers = priority_tiers(values, potential, customer_ids, params)
    features = behaviour_features(frame, values)
    clustering = learn_clusters(features, values, params)
    scores = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "current_value": values,
            "potential_value": potential,
            "gap": np.round(potential - values, 2),
            "priority": priority,
            "tier": tiers,
            "key_account": key_accounts(values, customer_ids, params),
            "cluster_number": clustering.labels,
            "peer_group": peer_key,
            "age": frame["age"].to_numpy(dtype=float),
            "average_balance": np.round(mean_balance(frame), 2),
            "products": frame["products"].to_numpy(dtype=np.int64),
        }
    )
    return scores, clustering
