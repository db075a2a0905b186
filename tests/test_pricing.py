"""Price logic: tiers from organisation types; estimates for every tier and booking mode."""

import pytest

from rrc.catalogue.pricing import Money, PricingError, estimate, tier_for
from rrc.models import BookingMode, OrganisationType, PriceTier, ResourceKind
from rrc.models.accounts import TIER_BY_ORGANISATION_TYPE

TIERS = list(PriceTier)
PRICES = {
    PriceTier.INTERNAL: 10_000,
    PriceTier.ACADEMIC: 60_000,
    PriceTier.SME: 90_000,
    PriceTier.INDUSTRY: 180_000,
}


@pytest.mark.parametrize(
    ("org_type", "tier"),
    [
        (OrganisationType.UNIVERSITY, PriceTier.ACADEMIC),
        (OrganisationType.PUBLIC_INSTITUTE, PriceTier.ACADEMIC),
        (OrganisationType.HOSPITAL, PriceTier.ACADEMIC),
        (OrganisationType.FOREIGN_ACADEMIC, PriceTier.ACADEMIC),
        (OrganisationType.STARTUP, PriceTier.SME),
        (OrganisationType.SME, PriceTier.SME),
        (OrganisationType.LARGE_COMPANY, PriceTier.INDUSTRY),
        (OrganisationType.FOREIGN_INDUSTRY, PriceTier.INDUSTRY),
        (OrganisationType.INTERNAL, PriceTier.INTERNAL),
    ],
)
def test_tier_for_every_organisation_type(factory, org_type, tier):
    assert tier_for(factory.organisation(org_type=org_type)) == tier
    assert set(TIER_BY_ORGANISATION_TYPE) == set(OrganisationType)


def test_visitors_without_organisation_see_industry_tier():
    assert tier_for(None) == PriceTier.INDUSTRY


@pytest.mark.parametrize("tier", TIERS)
def test_slot_estimate_per_tier(factory, tier):
    resource = factory.resource(
        booking_mode=BookingMode.SLOT,
        unit_minutes=60,
        rates={t: (PRICES[t], None) for t in TIERS},
    )
    result = estimate(resource, tier, duration_minutes=150)  # 2.5 h -> 3 started hours
    assert not result.on_quote
    assert result.quantity == 3
    assert [line.label for line in result.lines] == ["units"]
    assert result.total == Money(3 * PRICES[tier], "KRW")


@pytest.mark.parametrize("tier", TIERS)
def test_quantity_estimate_with_setup_fee_per_tier(factory, tier):
    resource = factory.resource(
        booking_mode=BookingMode.QUANTITY,
        kind=ResourceKind.SERVICE,
        unit_label="plate",
        rates={t: (PRICES[t], 3_000_000) for t in TIERS},
    )
    result = estimate(resource, tier, quantity=40)
    assert [line.label for line in result.lines] == ["setup", "units"]
    assert result.lines[0].total == Money(3_000_000)
    assert result.lines[1].quantity == 40
    assert result.total == Money(3_000_000 + 40 * PRICES[tier])
    snapshot = result.as_snapshot()
    assert snapshot["tier"] == str(tier) and snapshot["total"] == result.total.amount


@pytest.mark.parametrize("mode", list(BookingMode))
def test_on_quote(factory, mode):
    resource = factory.resource(
        booking_mode=mode,
        unit_minutes=60 if mode == BookingMode.SLOT else None,
        rates=dict.fromkeys(TIERS),
    )
    kwargs = {"duration_minutes": 60} if mode == BookingMode.SLOT else {"quantity": 1}
    result = estimate(resource, PriceTier.SME, **kwargs)
    assert result.on_quote and result.total is None and result.lines == []
    assert result.as_snapshot()["total"] is None


def test_bad_amounts_and_missing_rates(factory):
    resource = factory.resource(rates={PriceTier.ACADEMIC: (1000, None)})
    with pytest.raises(PricingError):
        estimate(resource, PriceTier.INDUSTRY, quantity=1)
    with pytest.raises(PricingError):
        estimate(resource, PriceTier.ACADEMIC, quantity=0)
    with pytest.raises(PricingError):
        estimate(resource, PriceTier.ACADEMIC, duration_minutes=-5)


def test_money_formatting():
    assert Money(300_000).format("en") == "₩300,000"
    assert "300,000" in Money(300_000).format("ko")
    assert Money(1050, "EUR").format("en") == "€10.50"
    with pytest.raises(ValueError):
        Money(1, "KRW") + Money(1, "EUR")
