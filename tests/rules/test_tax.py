"""The pure tax engine: jurisdiction lookup, stages, compound, excise, inclusive, rounding."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.tax import Rate, TaxableLine, calculate
from rules.tax_jurisdictions import AddressError, Geography, Jurisdiction, parse_postal
from rules.tax_vat import reverse_charge, valid_for
from runtime.money import Money, minor_units

DAY = date(2026, 12, 2)

WA = [
    Jurisdiction("US", "country", "United States", "US"),
    Jurisdiction("US-WA", "region", "Washington", "US", "US-WA", shipping_taxable=True),
    Jurisdiction("US-WA-KING", "county", "King County", "US", "US-WA", parse_postal("98001-98199")),
    Jurisdiction("US-WA-SEATTLE", "city", "Seattle", "US", "US-WA", parse_postal("98101-98199"), "Seattle"),
    Jurisdiction("US-WA-RTA", "district", "Sound Transit RTA", "US", "US-WA", parse_postal("98001-98199")),
    Jurisdiction("US-OR", "region", "Oregon", "US", "US-OR"),
]
DE = [Jurisdiction("DE", "country", "Germany", "DE", shipping_taxable=True)]
GEO = Geography(WA + DE)
RATES = [
    Rate("wa", "US-WA", "standard", Decimal("0.065")),
    Rate("king", "US-WA-KING", "standard", Decimal("0.002")),
    Rate("sea", "US-WA-SEATTLE", "standard", Decimal("0.0225")),
    Rate("rta", "US-WA-RTA", "standard", Decimal("0.014")),
    Rate("de", "DE", "standard", Decimal("0.19"), kind="vat"),
    Rate("de7", "DE", "reduced", Decimal("0.07"), kind="vat"),
]


def allocator(currency: str):
    return lambda total, weights: [m.amount for m in Money(total, currency).allocate(list(weights))]


def run(lines, jurisdictions, rates=RATES, currency="USD", **options):
    return calculate(lines, jurisdictions, rates, day=DAY, places=minor_units(currency),
                     allocate=allocator(currency), **options)


def test_a_seattle_address_lies_in_state_county_city_and_district():
    found = GEO.resolve({"country": "US", "region": "WA", "postalCode": "98101-1234", "city": "Seattle"})
    assert [j.code for j in found] == ["US", "US-WA", "US-WA-KING", "US-WA-SEATTLE", "US-WA-RTA"]


def test_an_address_in_the_county_but_no_city():
    found = GEO.resolve({"country": "US", "region": "US-WA", "postalCode": "98002", "city": "Auburn"})
    assert [j.code for j in found] == ["US", "US-WA", "US-WA-KING", "US-WA-RTA"]


def test_a_postal_code_in_the_city_range_with_another_city_name_is_not_the_city():
    found = GEO.resolve({"country": "US", "region": "WA", "postalCode": "98150", "city": "Tukwila"})
    assert "US-WA-SEATTLE" not in [j.code for j in found]


def test_unknown_country_and_region_are_refused_naming_the_field():
    with pytest.raises(AddressError) as country:
        GEO.resolve({"country": "XX", "region": "WA"})
    assert country.value.field == "address.country"
    assert str(country.value) == "address.country: 'XX' is not an ISO 3166-1 country code"
    with pytest.raises(AddressError) as region:
        GEO.resolve({"country": "US", "region": "ZZ"})
    assert str(region.value) == "address.region: 'US-ZZ' is not a region of US"
    with pytest.raises(AddressError) as missing:
        GEO.resolve({"country": "US", "postalCode": "98101"})
    assert str(missing.value) == "address.region: required: US taxes by region"


def test_a_region_with_no_table_resolves_to_the_country_only():
    assert [j.code for j in GEO.resolve({"country": "US", "region": "TX", "postalCode": "98101"})] == ["US"]


def test_a_country_with_no_jurisdictions_resolves_to_none():
    assert GEO.resolve({"country": "JP", "region": "13"}) == []


def test_seattle_exclusive_to_the_cent():
    # 10.35 % of 100.00 across four jurisdictions, one stage: 6.50 + 0.20 + 2.25 + 1.40
    result = run([TaxableLine("1", Decimal("100.00"))], GEO.resolve({"country": "US", "region": "WA",
                                                                     "postalCode": "98101", "city": "Seattle"}))
    assert [(t.jurisdiction, t.amount) for t in result.lines] == [
        ("US-WA", Decimal("6.50")), ("US-WA-KING", Decimal("0.20")),
        ("US-WA-SEATTLE", Decimal("2.25")), ("US-WA-RTA", Decimal("1.40"))]
    assert result.total == Decimal("10.35")


def test_compound_stage_taxes_the_earlier_tax_and_excise_comes_first():
    jurisdictions = [Jurisdiction("CA", "country", "Canada", "CA"),
                     Jurisdiction("CA-QC", "region", "Quebec", "CA", "CA-QC")]
    rates = [Rate("duty", "CA", "excise:spirits", Decimal("2.50"), stage=0, excise_unit="volume"),
             Rate("gst", "CA", "standard", Decimal("0.05"), stage=1, compound=True),
             Rate("qst", "CA-QC", "standard", Decimal("0.09975"), stage=2, compound=True)]
    line = TaxableLine("1", Decimal("40.00"), quantity=2, excise_category="spirits", volume=Decimal("1.5"))
    result = run([line], jurisdictions, rates, currency="CAD")
    # duty 2.50 × 1.5 l = 3.75; GST 5 % of 43.75 = 2.1875 → 2.19; QST 9.975 % of 45.9375 = 4.58227 → 4.58
    assert [(t.rate_id, t.base, t.amount) for t in result.lines] == [
        ("duty", Decimal("1.5"), Decimal("3.75")), ("gst", Decimal("43.75"), Decimal("2.19")),
        ("qst", Decimal("45.94"), Decimal("4.58"))]
    assert result.total == Decimal("10.52")


def test_inclusive_vat_is_extracted_and_the_buyer_pays_the_price():
    result = run([TaxableLine("1", Decimal("119.00")), TaxableLine("2", Decimal("10.70"), tax_class="reduced")],
                 DE, currency="EUR", inclusive=True)
    assert [(t.line_id, t.base, t.amount) for t in result.lines] == [
        ("1", Decimal("100.00"), Decimal("19.00")), ("2", Decimal("10.00"), Decimal("0.70"))]
    assert result.net == {"1": Decimal("100.00"), "2": Decimal("10.00")}


def test_reverse_charge_lifts_vat_but_not_sales_tax():
    result = run([TaxableLine("1", Decimal("100.00"))], DE, currency="EUR", reverse_charge=True)
    assert result.lines == [] and result.total == 0 and result.reverse_charge


def test_shipping_is_taxed_only_where_the_jurisdiction_says():
    oregon_free = Geography(WA + [Jurisdiction("US-WA-X", "county", "X", "US", "US-WA", parse_postal("99001"))])
    found = oregon_free.resolve({"country": "US", "region": "WA", "postalCode": "99001"})
    rates = RATES + [Rate("x", "US-WA-X", "standard", Decimal("0.01"))]
    result = run([TaxableLine("ship", Decimal("10.00"), is_shipping=True)], found, rates)
    assert [(t.jurisdiction, t.amount) for t in result.lines] == [("US-WA", Decimal("0.65"))]


def test_validity_dates_and_exempt_class():
    rates = [Rate("old", "DE", "standard", Decimal("0.16"), valid_to=date(2020, 12, 31), kind="vat"),
             Rate("new", "DE", "standard", Decimal("0.19"), valid_from=date(2021, 1, 1), kind="vat")]
    result = run([TaxableLine("1", Decimal("10.00")), TaxableLine("2", Decimal("10.00"), tax_class="exempt")],
                 DE, rates, currency="EUR")
    assert [(t.line_id, t.rate_id, t.amount) for t in result.lines] == [("1", "new", Decimal("1.90"))]


def test_per_total_rounding_differs_from_per_line_and_still_adds_up():
    lines = [TaxableLine(str(i), Decimal("0.10")) for i in range(3)]
    per_line = run(lines, DE, currency="EUR")
    per_total = run(lines, DE, currency="EUR", per_total=True)
    assert per_line.total == Decimal("0.06")  # 0.019 → 0.02, three times
    assert per_total.total == Decimal("0.06") and [t.amount for t in per_total.lines] == [Decimal("0.02")] * 3
    lines = [TaxableLine(str(i), Decimal("0.05")) for i in range(4)]  # 0.0095 each
    assert run(lines, DE, currency="EUR").total == Decimal("0.04")
    assert run(lines, DE, currency="EUR", per_total=True).total == Decimal("0.04")
    lines = [TaxableLine(str(i), Decimal("0.02")) for i in range(4)]  # 0.0038 each: 0 per line, 0.02 per total
    assert run(lines, DE, currency="EUR").total == Decimal("0.00")
    assert run(lines, DE, currency="EUR", per_total=True).total == Decimal("0.02")


def test_input_order_does_not_change_the_result():
    found = GEO.resolve({"country": "US", "region": "WA", "postalCode": "98101", "city": "Seattle"})
    lines = [TaxableLine("1", Decimal("19.99"))]
    assert run(lines, found, RATES).lines == run(lines, list(reversed(found)), list(reversed(RATES))).lines


amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("5000"), places=2)
currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD"])
compound_rates = st.lists(st.tuples(st.integers(0, 3), st.booleans(),
                                    st.decimals(min_value=Decimal("0"), max_value=Decimal("0.3"), places=5)),
                          min_size=1, max_size=5)


def _rates(spec):
    return [Rate(f"r{i}", "DE", "standard", rate, stage=stage, compound=compound)
            for i, (stage, compound, rate) in enumerate(spec)]


@settings(max_examples=150, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=12), compound_rates, currencies, st.booleans(), st.booleans())
def test_line_taxes_add_up_to_the_total(values, spec, currency, inclusive, per_total):
    places = minor_units(currency)
    lines = [TaxableLine(str(i), Money(v, currency).amount) for i, v in enumerate(values)]
    result = run(lines, DE, _rates(spec), currency=currency, inclusive=inclusive, per_total=per_total)
    assert sum((t.amount for t in result.lines), Decimal(0)) == result.total
    assert all(t.amount == t.amount.quantize(Decimal(1).scaleb(-places)) for t in result.lines)


@settings(max_examples=150, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=12), compound_rates, currencies, st.booleans())
def test_inclusive_prices_never_change_what_the_buyer_pays(values, spec, currency, per_total):
    lines = [TaxableLine(str(i), Money(v, currency).amount) for i, v in enumerate(values)]
    result = run(lines, DE, _rates(spec), currency=currency, inclusive=True, per_total=per_total)
    for line in lines:
        assert result.net[line.id] + result.line_tax(line.id) == line.amount
    assert sum(result.net.values(), Decimal(0)) + result.total == sum((l.amount for l in lines), Decimal(0))


def test_vat_numbers_have_their_member_states_form():
    assert valid_for("DE 987.654-321", "DE") and valid_for("ATU12345678", "AT") and valid_for("EL123456789", "GR")
    assert not valid_for("AT12345678", "AT")  # Austria's numbers start with U
    assert not valid_for("DE987654321", "AT") and not valid_for("", "DE") and not valid_for("US123", "US")


def test_reverse_charge_is_cross_border_inside_the_eu_only():
    assert reverse_charge(destination="DE", seller="AT", vat_number="DE987654321")
    assert not reverse_charge(destination="AT", seller="AT", vat_number="ATU12345678")  # domestic
    assert not reverse_charge(destination="DE", seller=None, vat_number="DE987654321")  # seller unknown
    assert not reverse_charge(destination="CH", seller="AT", vat_number="CHE123456789")  # not in the EU
