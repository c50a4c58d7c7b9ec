"""Schemathesis hooks for orderpay's contract run (.ci/schemathesis.sh).

The one hook here narrows `positive_data_acceptance` (ST202, "a request the
document allows was refused") for refusals that depend on facts no OpenAPI
schema can state. Each code below is a 422 orderpay answers for a request of
the right shape that names something that does not exist or cannot be made
up; any other refusal of a schema-valid request stays a failure.
"""

import json

import schemathesis

# error.code -> why a schema cannot rule it out
REFUSALS_THE_SCHEMA_CANNOT_STATE = {
    # Cursors are opaque tokens the server issues (`pagination.next_cursor`);
    # a made-up one has the right characters but names no position.
    "invalid_cursor": "cursors are issued by the server, not constructed",
    # An order's skus must exist in the catalog (database content).
    "unknown_sku": "skus must exist in the catalog",
    # A webhook's Stripe-Signature is an HMAC of the exact body and a current
    # timestamp with the webhook secret: a generated one cannot be right.
    "malformed_signature": "only Stripe (or the simulator) can sign an event",
    "stale_signature": "only Stripe (or the simulator) can sign an event",
    "invalid_signature": "only Stripe (or the simulator) can sign an event",
    # Changing one's password needs the current one, which only its owner knows.
    "wrong_current_password": "the current password is a secret",
    # A PaymentMethod must exist at Stripe (made by Stripe.js).
    "unknown_payment_method": "PaymentMethods are made by Stripe, not by the client",
    # A seed document is checked as a whole: duplicate skus and numbers, orders
    # naming products and customers of the file or the database, prices in
    # their currency's decimals. Its fields' own rules are in the schema.
    "invalid_seed": "seed documents are checked across their entries",
    # OpenAPI 3.0 cannot make one query parameter depend on another
    # (`min_amount` needs `currency`).
    "currency_required": "parameter dependencies are not expressible",
    # How many decimals an amount may have, how large it may be and which
    # steps Stripe charges in depend on the currency given elsewhere.
    "too_many_decimals": "decimals depend on the currency",
    "amount_too_large": "the largest amount depends on the currency",
    "amount_not_chargeable": "chargeable steps depend on the currency",
    # An order's total must reach Stripe's minimum charge, which depends on
    # the catalog's prices and the currency.
    "amount_below_minimum": "the total depends on catalog prices",
    # Products can be deactivated, and each is priced in one currency.
    "product_inactive": "whether a product is on sale is catalog data",
    "currency_mismatch": "a product's currency is catalog data",
    # POST /shop/orders serves customers and admins with one schema: the
    # admin-only fields (`customer_email`, `unit_amount`, `line_items`) are
    # refused for a customer's token, which OpenAPI cannot tie to a scheme.
    "field_not_allowed": "which fields a caller may set depends on who calls",
}


def _error_code(response):
    try:
        return json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    if failure.code != "ST202":
        return True
    return _error_code(response) not in REFUSALS_THE_SCHEMA_CANNOT_STATE
