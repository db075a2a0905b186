"""Prices: organisation type → tier; an estimate for a resource, a tier and an amount of use."""

import math
from dataclasses import dataclass, field

from babel.numbers import format_currency, get_currency_precision

from rrc.models import Organisation, PriceTier, Resource
from rrc.models.catalogue import BookingMode


@dataclass(frozen=True)
class Money:
    """An integer amount of the currency's minor unit (KRW has none) and its currency."""

    amount: int
    currency: str = "KRW"

    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise ValueError("cannot add amounts in different currencies")
        return Money(self.amount + other.amount, self.currency)

    def __mul__(self, factor: int) -> "Money":
        return Money(self.amount * factor, self.currency)

    def format(self, locale: str = "en") -> str:
        """The amount written for ``locale`` (₩300,000)."""
        precision = get_currency_precision(self.currency)
        return format_currency(self.amount / 10**precision, self.currency, locale=locale)

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class EstimateLine:
    """One line of an estimate: a set-up fee, or units times the unit price."""

    label: str  # "setup" or "units"
    unit_price: Money
    quantity: int
    total: Money


@dataclass(frozen=True)
class Estimate:
    """What a request would cost a tier; ``on_quote`` when staff must quote it."""

    tier: PriceTier
    currency: str
    on_quote: bool
    quantity: int
    lines: list[EstimateLine] = field(default_factory=list)

    @property
    def total(self) -> Money | None:
        """The sum of the lines (None when the price is on quote)."""
        if self.on_quote:
            return None
        total = Money(0, self.currency)
        for line in self.lines:
            total = total + line.total
        return total

    def as_snapshot(self) -> dict:
        """A plain dict to store with a request: never recomputed silently later."""
        return {
            "tier": str(self.tier),
            "currency": self.currency,
            "on_quote": self.on_quote,
            "quantity": self.quantity,
            "lines": [
                {
                    "label": line.label,
                    "unit_price": line.unit_price.amount,
                    "quantity": line.quantity,
                    "total": line.total.amount,
                }
                for line in self.lines
            ],
            "total": self.total.amount if self.total is not None else None,
        }


class PricingError(ValueError):
    """The estimate cannot be computed (no rate for the tier, a bad amount)."""


def tier_for(organisation: Organisation | None) -> PriceTier:
    """The tier an organisation pays; visitors without one see industry prices."""
    return organisation.tier if organisation is not None else PriceTier.INDUSTRY


def units_for_duration(resource: Resource, minutes: int) -> int:
    """How many priced units a booking of ``minutes`` uses (a started unit counts whole)."""
    if resource.booking_mode != BookingMode.SLOT or not resource.unit_minutes:
        raise PricingError("only slot resources are priced by duration")
    if minutes <= 0:
        raise PricingError("a duration must be positive")
    return math.ceil(minutes / resource.unit_minutes)


def estimate(
    resource: Resource,
    tier: PriceTier,
    *,
    quantity: int | None = None,
    duration_minutes: int | None = None,
) -> Estimate:
    """Estimate ``resource`` for ``tier``: a quantity of units, or a duration for slot resources."""
    if duration_minutes is not None:
        quantity = units_for_duration(resource, duration_minutes)
    if quantity is None or quantity <= 0:
        raise PricingError("the quantity must be a positive whole number")
    rate = resource.rate_for(tier)
    if rate is None:
        raise PricingError(f"{resource.code} has no rate for the {tier} tier")
    if rate.on_quote:
        return Estimate(tier=tier, currency=resource.currency, on_quote=True, quantity=quantity)
    lines = []
    if rate.setup_fee:
        fee = Money(rate.setup_fee, resource.currency)
        lines.append(EstimateLine("setup", fee, 1, fee))
    unit_price = Money(rate.unit_price or 0, resource.currency)
    lines.append(EstimateLine("units", unit_price, quantity, unit_price * quantity))
    return Estimate(
        tier=tier, currency=resource.currency, on_quote=False, quantity=quantity, lines=lines
    )
