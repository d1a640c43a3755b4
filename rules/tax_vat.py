"""EU VAT numbers and the reverse charge decision (pure).

A VAT number is valid here when its form is that of its member state (the country prefix and the
digits each state issues); whether the number is registered is a question for VIES, which a
provider pack may ask. The reverse charge applies when a business buyer with a valid number in
the destination's state buys from a seller established in another member state.
"""
from __future__ import annotations

import re

from rules.tax_jurisdictions import EU_COUNTRIES

#: The form of each member state's VAT number after its prefix (Greece's prefix is EL).
VAT_FORMS = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]", "CZ": r"\d{8,10}",
    "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}", "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}", "FR": r"[A-Z0-9]{2}\d{9}", "HR": r"\d{11}", "HU": r"\d{8}", "IE": r"\d{7}[A-Z]{1,2}|\d[A-Z]\d{5}[A-Z]",
    "IT": r"\d{11}", "LT": r"\d{9}|\d{12}", "LU": r"\d{8}", "LV": r"\d{11}", "MT": r"\d{8}", "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}", "PT": r"\d{9}", "RO": r"\d{2,10}", "SE": r"\d{12}", "SI": r"\d{8}", "SK": r"\d{10}",
}
_PATTERNS = {prefix: re.compile(rf"^{prefix}(?:{form})$") for prefix, form in VAT_FORMS.items()}


def normalize(number: str) -> str:
    return re.sub(r"[\s.\-]", "", number or "").upper()


def valid_for(number: str | None, country: str) -> bool:
    """Whether ``number`` has the form of a VAT number issued by ``country``."""
    prefix = "EL" if country == "GR" else country
    pattern = _PATTERNS.get(prefix)
    return bool(number) and pattern is not None and bool(pattern.match(normalize(number)))


def reverse_charge(*, destination: str, seller: str | None, vat_number: str | None) -> bool:
    """Intra-EU supply between businesses: the buyer accounts for the VAT, none is charged."""
    return (seller is not None and destination != seller and destination in EU_COUNTRIES
            and seller in EU_COUNTRIES and valid_for(vat_number, destination))
