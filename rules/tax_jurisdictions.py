"""Tax jurisdictions and the address → jurisdictions lookup (pure: no database).

A jurisdiction is a country (ISO 3166-1), a region in it (ISO 3166-2: ``US-WA``), or a county,
city or special district inside a region. Below the region a jurisdiction is located by postal
codes (ranges ``98101-98199`` or single codes) and, for a city, optionally its name: an address
lies in it when its postal code is in one of the ranges (when any are given) and its city equals
the name (when one is given). A county, city or district whose parent does not match is never
matched, so one postal range can be reused under two regions without a false hit.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Levels from the widest to the narrowest; the order of tax lines within one stage.
LEVELS = ("country", "region", "county", "city", "district")

#: ISO 3166-1 alpha-2 codes: an address naming any other country is refused.
ISO_COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
YT ZA ZM ZW""".split())

#: ISO 3166-2 subdivisions of the countries whose regions tax on their own; a region elsewhere is
#: checked for its form (``XX-ABC``) only.
ISO_REGIONS = {
    "US": frozenset(f"US-{code}" for code in """AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI
        MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR UM
        VI""".split()),
    "CA": frozenset(f"CA-{code}" for code in "AB BC MB NB NL NS NT NU ON PE QC SK YT".split()),
}
_REGION_FORM = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")

#: EU member states: VAT reverse charge applies between businesses of two of them.
EU_COUNTRIES = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())


def region_problem(country: str, region: str) -> str | None:
    """Why ``region`` is not an ISO 3166-2 subdivision of ``country``, or ``None`` if it is."""
    if not _REGION_FORM.match(region) or not region.startswith(country + "-"):
        return f"{region!r} is not an ISO 3166-2 region of {country} (like {country}-XX)"
    if country in ISO_REGIONS and region not in ISO_REGIONS[country]:
        return f"{region!r} is not a region of {country}"
    return None


class AddressError(ValueError):
    """An address the lookup cannot place; ``field`` names the address field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    code: str
    level: str
    name: str
    country: str
    #: ISO 3166-2 code (``US-WA``) for a region and everything under it.
    region: str | None = None
    #: ``(low, high)`` postal codes, inclusive, compared as equal-length strings.
    postal: tuple[tuple[str, str], ...] = ()
    #: For a city: its name as written in addresses (compared case-insensitively).
    city: str | None = None
    #: Whether this jurisdiction taxes shipping charges.
    shipping_taxable: bool = False

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level: expected one of {', '.join(LEVELS)}, got {self.level!r}")
        if self.country not in ISO_COUNTRIES:
            raise ValueError(f"country: {self.country!r} is not an ISO 3166-1 alpha-2 code")
        if self.level != "country" and not self.region:
            raise ValueError(f"region: a {self.level} needs its ISO 3166-2 region")
        if self.region and (problem := region_problem(self.country, self.region)):
            raise ValueError(f"region: {problem}")

    def contains_postal(self, postal: str) -> bool:
        return any(len(low) == len(postal) and low <= postal <= high for low, high in self.postal)


def parse_postal(text: str) -> tuple[tuple[str, str], ...]:
    """``"98101-98199 98004"`` → ``(("98101", "98199"), ("98004", "98004"))``; a range whose ends
    differ in length or run backwards is refused."""
    ranges = []
    for part in text.replace(",", " ").replace(";", " ").split():
        low, _, high = part.partition("-") if part.count("-") == 1 else (part, "", part)
        high = high or low
        if len(low) != len(high) or low > high:
            raise ValueError(f"postal: {part!r} is not a range of equal-length codes from low to high")
        ranges.append((low, high))
    return tuple(ranges)


@dataclass
class Geography:
    """Every known jurisdiction, indexed for the lookup."""

    jurisdictions: Iterable[Jurisdiction]
    _countries: dict[str, Jurisdiction] = field(init=False, default_factory=dict)
    _regions: dict[str, Jurisdiction] = field(init=False, default_factory=dict)
    _below: dict[str, list[Jurisdiction]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for jurisdiction in sorted(self.jurisdictions, key=lambda j: (LEVELS.index(j.level), j.code)):
            if jurisdiction.level == "country":
                self._countries[jurisdiction.country] = jurisdiction
            elif jurisdiction.level == "region":
                self._regions[jurisdiction.region] = jurisdiction
            else:
                self._below.setdefault(jurisdiction.region, []).append(jurisdiction)

    def has_regions(self, country: str) -> bool:
        return any(region.startswith(country + "-") for region in self._regions)

    def resolve(self, address: Mapping[str, object]) -> list[Jurisdiction]:
        """The jurisdictions ``address`` lies in, widest first. Reads ``country`` (ISO 3166-1),
        ``region`` (``WA`` or ``US-WA``), ``postalCode`` and ``city``. An unknown country or region
        (ISO 3166), or no region where the table taxes by region, raises :class:`AddressError`."""
        country = str(address.get("country") or "").strip().upper()
        if country not in ISO_COUNTRIES:
            raise AddressError("address.country", f"{country or '(empty)'!r} is not an ISO 3166-1 country code")
        found = [self._countries[country]] if country in self._countries else []
        raw_region = str(address.get("region") or "").strip().upper()
        region = raw_region if raw_region.startswith(country + "-") else f"{country}-{raw_region}" if raw_region else ""
        if region and (problem := region_problem(country, region)):
            raise AddressError("address.region", problem)
        if not region and self.has_regions(country):
            raise AddressError("address.region", f"required: {country} taxes by region")
        if region in self._regions:
            found.append(self._regions[region])
        postal = str(address.get("postalCode") or address.get("postal_code") or "").strip().split("-")[0]
        city = str(address.get("city") or "").strip().casefold()
        for below in self._below.get(region, ()):
            if below.postal and not below.contains_postal(postal):
                continue
            if below.city and below.city.casefold() != city:
                continue
            if not below.postal and not below.city:
                continue
            found.append(below)
        return sorted(found, key=lambda j: (LEVELS.index(j.level), j.code))
