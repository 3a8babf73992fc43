"""The simulated campaign: designed response types, a small average effect, known uplift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from growthlab.data.dataset import Columns
from growthlab.data.simulator import (
    CAMPAIGN_COLUMNS,
    RESPONSE_TYPE_SHARES,
    RESPONSE_TYPES,
    MarketingSimulator,
    SimulatedCampaign,
)
from growthlab.errors import UserError
from growthlab.metrics.uplift import average_treatment_effect, qini_coefficient
from growthlab.paths import CONF_DIR

N = 200_000


@pytest.fixture(scope="module")
def campaign() -> pd.DataFrame:
    return MarketingSimulator(0).campaign(N)


def test_response_type_shares_as_designed(campaign: pd.DataFrame) -> None:
    shares = campaign["response_type"].value_counts(normalize=True)
    assert set(shares.index) == set(RESPONSE_TYPES)
    for kind, share in RESPONSE_TYPE_SHARES.items():
        assert shares[kind] == pytest.approx(share, rel=0.08), kind


def test_truth_is_consistent(campaign: pd.DataFrame) -> None:
    np.testing.assert_allclose(
        campaign["true_uplift"], campaign["p_treated"] - campaign["p_control"], atol=1e-12
    )
    assert campaign["treatment"].isin([0, 1]).all()
    assert campaign["treatment"].mean() == pytest.approx(0.5, abs=0.01)
    # Outcomes follow the type: sure things always convert, lost causes never.
    by_type = campaign.groupby(["response_type", "treatment"])["converted"].mean()
    assert by_type["sure_thing"].tolist() == [1.0, 1.0]
    assert by_type["lost_cause"].tolist() == [0.0, 0.0]
    assert by_type["persuadable"].tolist() == [0.0, 1.0]
    assert by_type["sleeping_dog"].tolist() == [1.0, 0.0]


def test_small_average_effect_near_design(campaign: pd.DataFrame) -> None:
    designed = RESPONSE_TYPE_SHARES["persuadable"] - RESPONSE_TYPE_SHARES["sleeping_dog"]
    ate, low, high = average_treatment_effect(campaign["converted"], campaign["treatment"])
    assert 0.01 <= ate <= 0.03
    assert low < designed < high
    assert campaign["true_uplift"].mean() == pytest.approx(designed, abs=0.002)
    # Heterogeneous: some customers are hurt by the e-mail.
    assert 0.1 < (campaign["true_uplift"] < 0).mean() < 0.35


def test_oracle_qini_beats_random(campaign: pd.DataFrame) -> None:
    y, t = campaign["converted"], campaign["treatment"]
    oracle = qini_coefficient(y, t, campaign["true_uplift"], normalize=True)
    shuffled = qini_coefficient(y, t, np.random.default_rng(1).random(N), normalize=True)
    assert oracle > 0.1 > abs(shuffled)


def test_reproducible_by_seed() -> None:
    a = MarketingSimulator(3).campaign(2000)
    pd.testing.assert_frame_equal(a, MarketingSimulator(3).campaign(2000))
    assert not a.equals(MarketingSimulator(4).campaign(2000))


def test_features_exclude_truth_and_arm() -> None:
    frame = MarketingSimulator(0).campaign(1000)
    columns = Columns.from_mapping(CAMPAIGN_COLUMNS)
    columns.check(frame, "the campaign")
    features = columns.features(frame)
    hidden = {"treatment", "converted", "true_uplift", "response_type", "p_control", "p_treated"}
    assert not hidden & set(features.columns)
    assert {"discount_share", "email_opens_90d", "signup_channel"} <= set(features.columns)


def test_dataset_from_yaml() -> None:
    node = OmegaConf.load(CONF_DIR / "dataset" / "simulated_campaign.yaml")
    node.seed = 0
    node.n_customers = 1000
    dataset = instantiate(node)
    assert isinstance(dataset, SimulatedCampaign)
    assert dataset.columns.treatment == "treatment"
    assert len(dataset.load()) == 1000


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 10}, "n_customers"),
        ({"treated_share": 1.0}, "treated_share"),
        ({"seed": -1}, "seed"),
    ],
)
def test_dataset_rejects_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(UserError, match=match):
        SimulatedCampaign("c", CAMPAIGN_COLUMNS, **kwargs)  # type: ignore[arg-type]


def test_cli_writes_a_campaign_file_to_score(tmp_path) -> None:  # noqa: ANN001
    from growthlab.data.simulator.cli import main

    main(["campaign", "--customers", "200", "--to-score", "--out", str(tmp_path / "c.csv")])
    frame = pd.read_csv(tmp_path / "c.csv")
    assert len(frame) == 200 and "customer_id" in frame
    assert not {"treatment", "converted", "true_uplift"} & set(frame.columns)
