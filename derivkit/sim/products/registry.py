"""The registry of every contract product the simulator prices, buys, follows and settles.

``product_for(contract_type)`` gives the :class:`~derivkit.sim.products.base.Product` of a type;
the types of the API's enum that no product models (lookbacks, resets, spreads, snowballs, the
"E" range types) are refused as not offered, as Deriv refuses types a symbol does not offer.
"""

from __future__ import annotations

from derivkit.sim.products.accumulator import AccumulatorProduct
from derivkit.sim.products.base import NOT_OFFERED_ASSET, Contract, Product, offerings
from derivkit.sim.products.binary import BinaryProduct
from derivkit.sim.products.multiplier import MultiplierProduct
from derivkit.sim.products.turbos import TurbosProduct
from derivkit.sim.products.vanilla import VanillaProduct

#: Every contract type of the API's ``proposal``/``buy`` schema.
ALL_CONTRACT_TYPES = (
    "ACCU",
    "ASIAND",
    "ASIANU",
    "CALL",
    "CALLE",
    "CALLSPREAD",
    "DIGITDIFF",
    "DIGITEVEN",
    "DIGITMATCH",
    "DIGITODD",
    "DIGITOVER",
    "DIGITUNDER",
    "EXPIRYMISS",
    "EXPIRYMISSE",
    "EXPIRYRANGE",
    "EXPIRYRANGEE",
    "LBFLOATCALL",
    "LBFLOATPUT",
    "LBHIGHLOW",
    "MULTDOWN",
    "MULTUP",
    "NOTOUCH",
    "ONETOUCH",
    "PUT",
    "PUTE",
    "PUTSPREAD",
    "RANGE",
    "RESETCALL",
    "RESETPUT",
    "RUNHIGH",
    "RUNLOW",
    "SNOWDOWN",
    "SNOWUP",
    "TICKHIGH",
    "TICKLOW",
    "TURBOSLONG",
    "TURBOSSHORT",
    "UPORDOWN",
    "VANILLALONGCALL",
    "VANILLALONGPUT",
)

PRODUCTS: tuple[Product, ...] = (
    BinaryProduct(),
    MultiplierProduct(),
    AccumulatorProduct(),
    TurbosProduct(),
    VanillaProduct(),
)
_BY_TYPE = {ct: p for p in PRODUCTS for ct in p.contract_types}


def product_for(contract_type: str) -> Product:
    """The product of ``contract_type``; ``OfferingsValidationError`` when none models it."""
    product = _BY_TYPE.get(contract_type)
    if product is None:
        raise offerings(NOT_OFFERED_ASSET, "contract_type")
    return product


__all__ = ["ALL_CONTRACT_TYPES", "PRODUCTS", "Contract", "Product", "product_for"]
