"""Phone numbers for the demo tenant, drawn unique and typed the way recruiters type them.

Every number is valid for `phonenumbers`; fictional ranges are used where libphonenumber still
accepts them (US 555-01xx, Ofcom's drama ranges, ARCEP's 01 99 00, ACMA's 02 5550 and 0491 570).
Stored values are national, international, 00-prefixed, dotted or carry extensions, and
`Phones.stored` remembers which. Australian and Indian numbers are only drawn on request: the demo
tenant stores a few in their national format (DESIGN §9).
"""

from __future__ import annotations

import random
import re

import phonenumbers

_REGION_WEIGHTS = {"US": 45, "GB": 33, "FR": 17, "DE": 5}
COUNTRY_CODE = {"US": 1, "GB": 44, "FR": 33, "DE": 49, "AU": 61, "IN": 91}
# US area codes starting 2 or 7 are left out: their 10 digits could equal a London or UK mobile
# number's, and the one such pair in the tenant is put there on purpose
_US_AREAS = "312 415 404 305 512 617 646 303 602 503 480 614 901 916 832 858 469 347 630 508 952 425 972 612".split()
_GB_DRAMA_CITIES = "113 114 116 117 118 121 131 141 151 161".split()

Number = tuple[str, tuple[str, ...]]  # (region, national significant number in display groups)


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randrange(10**count)).zfill(count)


def _draw_groups(rng: random.Random, region: str, fictional: bool) -> tuple[str, ...]:
    if region == "US":
        area = rng.choice(_US_AREAS)
        if fictional:
            return area, "555", "01" + _digits(rng, 2)
        return area, str(rng.randrange(200, 1000)), _digits(rng, 4)
    if region == "GB":
        if fictional:
            city = rng.choice(("20", *_GB_DRAMA_CITIES))
            return ("20", "7946", "0" + _digits(rng, 3)) if city == "20" else (city, "496", "0" + _digits(rng, 3))
        if rng.random() < 0.5:
            return "20", rng.choice("378") + _digits(rng, 3), _digits(rng, 4)
        return "7" + rng.choice("45789") + _digits(rng, 2), _digits(rng, 6)
    if region == "FR":
        if fictional:
            return "1", "99", "00", _digits(rng, 2), _digits(rng, 2)
        return rng.choice("1167"), *(_digits(rng, 2) for _ in range(4))
    if region == "AU":
        if fictional:
            if rng.random() < 0.5:
                return "2", "5550", _digits(rng, 4)
            return "491", "570", rng.choice("12") + _digits(rng, 2)
        return rng.choice("2378"), str(rng.randrange(5, 10)) + _digits(rng, 3), _digits(rng, 4)
    if region == "IN":
        if rng.random() < 0.5:
            return rng.choice(("22", "11", "80")), str(rng.randrange(2, 7)) + _digits(rng, 3), _digits(rng, 4)
        return rng.choice("6789") + _digits(rng, 4), _digits(rng, 5)
    return "30", str(rng.randrange(2, 10)) + _digits(rng, 6)


def e164_of(number: Number) -> str:
    return f"+{COUNTRY_CODE[number[0]]}{''.join(number[1])}"


def _is_valid(number: Number) -> bool:
    # a fixed-line or mobile match is what is_valid_number needs to call a number valid (it also takes
    # toll-free and the like, never generated here); checked directly it is 5x faster at 50,000 records
    nsn = "".join(number[1])
    return any(len(nsn) in lengths and pattern.fullmatch(nsn) for lengths, pattern in _validity(number[0]))


_VALIDITY: dict[str, list[tuple[frozenset[int], re.Pattern[str]]]] = {}


def _validity(region: str) -> list[tuple[frozenset[int], re.Pattern[str]]]:
    if region not in _VALIDITY:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        assert metadata is not None and metadata.general_desc is not None
        general = frozenset(metadata.general_desc.possible_length or ())
        _VALIDITY[region] = [
            (frozenset(desc.possible_length or ()) or general, re.compile(desc.national_number_pattern))
            for desc in (metadata.fixed_line, metadata.mobile)
            if desc is not None and desc.national_number_pattern
        ]
    return _VALIDITY[region]


#: region -> style -> (prefix, separator between the groups); US "paren" is the one that is not a join
_FORMATS: dict[str, dict[str, tuple[str, str]]] = {
    "US": {"paren": ("", ""), "dots": ("", "."), "dashes": ("", "-"), "intl": ("+1 ", " "), "one_dashes": ("1-", "-"),
           "intl_dots": ("+1 ", "."), "digits": ("", "")},
    "GB": {"national": ("0", " "), "intl": ("+44 ", " "), "idd": ("0044 ", " "), "intl_trunk": ("+44 (0)", " ")},
    "FR": {"national": ("0", " "), "intl": ("+33 ", " "), "idd": ("0033 ", " "), "dots": ("0", ".")},
    "DE": {"national": ("0", " "), "intl": ("+49 ", " ")},
    "AU": {"national": ("0", " "), "intl": ("+61 ", " ")},
    "IN": {"national": ("0", " "), "intl": ("+91 ", " ")},
}


class Phones:
    """Draws unique valid numbers and formats them; remembers the style of every stored value."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        #: every stored text -> (e164, style such as "gb_intl_trunk" or "us_paren+ext")
        self.stored: dict[str, tuple[str, str]] = {}

    def draw(self, region: str | None = None) -> Number:
        region = region or self.rng.choices(list(_REGION_WEIGHTS), list(_REGION_WEIGHTS.values()))[0]
        for attempt in range(200):
            # the fictional blocks hold a few thousand numbers: once they keep colliding, draw real-looking ones
            number = (region, _draw_groups(self.rng, region, fictional=attempt < 4 and self.rng.random() < 0.6))
            if e164_of(number) not in self.used and _is_valid(number):
                self.used.add(e164_of(number))
                return number
        raise RuntimeError(f"cannot draw another unique {region} number")

    def format(self, number: Number, style: str | None = None, extension: str | None = None) -> str:
        region, groups = number
        style = style or self.rng.choice(list(_FORMATS[region]))
        prefix, separator = _FORMATS[region][style]
        text = f"({groups[0]}) {groups[1]}-{groups[2]}" if style == "paren" else prefix + separator.join(groups)
        if extension is None and region == "US" and self.rng.random() < 0.08:
            extension = self.rng.choice((f" x{self.rng.randrange(10, 1000)}", f" ext. {self.rng.randrange(1, 10)}"))
        # Bullhorn's phone fields are String(20)
        if extension and len(text + extension) <= 20:
            text, style = text + extension, style + "+ext"
        self.stored[text] = (e164_of(number), f"{region.lower()}_{style}")
        return text


#: styles that carry their country code, so they read the same from any region
_INTERNATIONAL_STYLES = frozenset({"intl", "idd", "intl_trunk"})
#: countries whose national numbers are written with a trunk 0, as no NANP number ever starts
_TRUNK_ZERO = frozenset({"gb", "fr", "de", "au", "in"})
_NANP = frozenset({"US", "CA"})


def is_readable(style: str, default_region: str) -> bool:
    """Whether a value stored in `style` holds its own caller when national numbers are read in `default_region`.

    DESIGN §9: a national number of another country is read in the caller's country, unless the
    tenant's region reads a valid number of its own in it. A value with a trunk 0 never is a NANP
    number; for other tenant regions the sandbox does not model which foreign national values
    collide with their own numbers, and claims none.
    """
    region, _, shape = style.partition("_")
    if region == default_region.lower() or shape.partition("+")[0] in _INTERNATIONAL_STYLES:
        return True
    return region in _TRUNK_ZERO and shape.partition("+")[0] in ("national", "dots") and default_region in _NANP
