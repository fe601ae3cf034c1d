"""Phone numbers: stored free text to E.164, and the Lucene clauses that find a number however it was stored.

Bullhorn keeps phones as whatever users typed, and its index splits them on non-digits, so a
lookup searches for the token sequences real formats produce (`search_variants`) and then
re-normalises what comes back to keep only true matches (`holds_number`: a value without a country
code is read in the tenant's region, else in the caller's own country, DESIGN §9). The phone index
keys values by what `index_keys` reads in them and looks a caller up by its `national_keys` too.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat
from phonenumbers.phonenumber import CountryCodeSource

__all__ = [
    "PhoneError",
    "display",
    "holds_number",
    "index_keys",
    "national_keys",
    "normalize",
    "parse_caller",
    "search_variants",
]

#: what Aircall and carriers put where a number is withheld; never looked up
_WITHHELD = frozenset({"anonymous", "unknown", "private", "withheld", "restricted", "unavailable"})

# phonenumbers only understands the default region's own international prefix (00 in GB, 011 in
# US): under region US "0044 20 7946 0958" reads as a 15-digit US number. `00` (most of the world)
# and `011` (North America) are both common in stored data whatever the tenant's region, so when
# the region's own reading fails they are retried as "+". Only as a fallback: in GB "0117 496 0000"
# is Bristol, not "+7 …".
_FOREIGN_IDD = re.compile(r"^[^\d+]*(?:00|011)(?=[\s.\-/()]*[1-9])")

_EXPLICIT_COUNTRY = frozenset(
    {
        CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN,
        CountryCodeSource.FROM_NUMBER_WITH_IDD,
        # only ever the default region's own code written without "+" ("44 20 7946 0958" in GB)
        CountryCodeSource.FROM_NUMBER_WITHOUT_PLUS_SIGN,
    }
)


#: a national key shorter than this is no phone number anywhere; longer is not one Bullhorn could store
_MIN_KEY_DIGITS, _MAX_KEY_DIGITS = 5, 20


class PhoneError(ValueError):
    """A caller number given to the API is not a usable phone number; the message says why."""


def normalize(raw: str, default_region: str) -> str | None:
    """E.164 for any stored format (extension dropped), or None when it is not a usable number.

    National numbers take `default_region`; `00`/`011` work from any region; `+44 (0)20 …` needs
    nothing of ours, as phonenumbers drops a trunk prefix written after a country code (tests pin it).
    """
    number, _reason = _parse(raw, default_region)
    return None if number is None else phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_caller(raw: str, default_region: str) -> str:
    """E.164 of a number given to the API, or PhoneError naming what is wrong with it."""
    number, reason = _parse(raw, default_region)
    if number is None:
        raise PhoneError(reason)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def holds_number(value: object, e164: str, default_region: str) -> bool:
    """Whether a stored value is the caller's number `e164` (DESIGN §9); never raises.

    A value without a country code is a national number of some country. The default region's
    reading decides when it is a valid number there: `(207) 946-0958` on a US tenant is Maine's,
    never London's. Otherwise the value is read in the caller's own country: `020 7946 0958` (no
    number in the US) holds a `+44 20 7946 0958` caller on a US tenant, never a `+1 207-946-0958`
    one. Last, the default region's reading of a possible number written with its trunk prefix
    (`normalize` accepts those: new or fictional ranges); it yields to the caller's country reading
    because the caller's is a valid number there, as `01 42 68 53 00` is Paris on a UK tenant.
    The value must also keep the number's last four digits as typed, as every stored format does:
    a vanity `1-800-FLOWERS` normalises, but no search finds it, and the index must answer as one.
    """
    if not isinstance(value, str) or _tail(e164) not in phonenumbers.normalize_digits_only(value):
        return False
    own, _reason = _parse(value, default_region)
    if own is not None and phonenumbers.is_valid_number(own):
        return _e164(own) == e164
    region = _region_of(e164)
    if region is not None and region != default_region and normalize(value, region) == e164:
        return True
    return own is not None and _e164(own) == e164


def index_keys(value: str, default_region: str) -> tuple[str | None, str | None]:
    """The phone index keys of a stored value: the E.164 the default region reads in it, and its national key.

    The E.164 only when the value keeps the number's last four digits as typed (`holds_number`).
    The national key, the value's digits as typed without the extension, only when the default
    region reads no valid number in it: then it may be a national number of a caller's country,
    unknown when the index is built, and `national_keys` of a caller's number are the digit strings
    it can have when written in that caller's country, so a lookup finds it by digits and then
    verifies it. A value the default region reads as a valid number is never read otherwise.
    """
    digits = phonenumbers.normalize_digits_only(value)
    own, _reason = _parse(value, default_region)
    e164 = _e164(own) if own is not None else None
    if e164 is not None and _tail(e164) not in digits:
        e164 = None
    if own is not None and phonenumbers.is_valid_number(own):
        return e164, None
    number = own or _try_parse(value.strip(), default_region)
    if number is None:
        return e164, None
    if number.extension and digits.endswith(number.extension):
        digits = digits[: len(digits) - len(number.extension)]
    return e164, digits if _MIN_KEY_DIGITS <= len(digits) <= _MAX_KEY_DIGITS else None


@lru_cache(maxsize=4096)
def national_keys(e164: str) -> tuple[str, ...]:
    """The national keys (`index_keys`) a value holding `e164` can have: its number written in its own country.

    The national significant number, with the country's trunk prefix (`02079460958`), as the
    national format writes it, and with the country code but no `+` (`442079460958`).
    """
    number = phonenumbers.parse(e164, None)
    nsn = phonenumbers.national_significant_number(number)
    region = _region_of(e164)
    trunk = (phonenumbers.ndd_prefix_for_region(region, True) or "") if region else ""
    national = phonenumbers.normalize_digits_only(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    keys = dict.fromkeys((nsn, trunk + nsn, national, str(number.country_code) + nsn))
    return tuple(key for key in keys if _MIN_KEY_DIGITS <= len(key) <= _MAX_KEY_DIGITS)


def display(e164: str) -> str:
    """International display form ("+44 20 7946 0958"); the input unchanged when it does not parse."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def search_variants(e164: str) -> list[str]:
    """Lucene clauses (bare terms and quoted phrases, field-less) that find `e164` in any stored format.

    The index splits on non-digits, so a stored value is a sequence of digit tokens and a clause must
    equal one token (a term) or a run of consecutive tokens (a phrase). Real formats give:
    - one run: the national significant number (`4155550123`), with the trunk prefix
      (`02079460958`), with the country code (`+442079460958`, `14155550123`) or `00` and it;
    - groups after a country code (`+44 20 7946 0958`, `0044 …`, `+44 (0)20 …`, `1-415-555-0123`):
      the country code, `(0)` and `1` are tokens of their own in front and an extension only adds
      tokens after, so the phrase of the groups alone matches them all;
    - national groups with the trunk prefix glued on (`020 7946 0958`, `01 42 68 53 00`), a phrase
      of its own since `020` is not the token `20`;
    - the same two for the other groupings phonenumbers' own matcher accepts for the number
      (`0207 946 0958`, `07400 123 456`, `030 123 45 67`; see `_other_groupings`).
    A caller's national forms are the ones its own country writes: the variants hold for a `+44`
    caller on a US tenant as for a UK one, whichever region the tenant reads national numbers in.
    Trade-off: every clause is a whole number, never a bare trailing group such as `555 0123`, so a
    search stays selective and the true record is not pushed off the result page by near misses
    (verification drops those anyway); the price is that an unusual grouping is not found. A clause
    that another one already covers is left out: at most about twenty clauses, each once per phone
    field, far below Lucene's 1024-clause limit.
    """
    return list(_variants(e164))


# one lookup builds the query once per entity; a cold lookup's variants cost about a millisecond
@lru_cache(maxsize=4096)
def _variants(e164: str) -> tuple[str, ...]:
    number = phonenumbers.parse(e164, None)
    country = str(number.country_code)
    nsn = phonenumbers.national_significant_number(number)
    national = _groups(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    international = _groups(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
    if international and international[0] == country:
        international = international[1:]
    trunk = ""
    if national and international and national[0] != international[0] and national[0].endswith(international[0]):
        trunk = national[0][: -len(international[0])]
    runs = (nsn, "".join(national), country + nsn, "00" + country + nsn)
    candidates: list[tuple[str, ...]] = [(run,) for run in runs]
    if national:
        candidates.append(tuple(national))
    for groups in [international, *_other_groupings(number, international, trunk)]:
        if groups:
            candidates.append(tuple(groups))
            if trunk:
                candidates.append((trunk + groups[0], *groups[1:]))
    kept: list[tuple[str, ...]] = []
    for tokens in candidates:
        # a clause is redundant when a kept one matches wherever it does (its tokens run inside it)
        if not any(_contains_run(tokens, other) for other in kept):
            kept = [other for other in kept if not _contains_run(other, tokens)] + [tokens]
    # tokens are digits only, so a phrase needs quoting but no escaping
    return tuple(tokens[0] if len(tokens) == 1 else '"' + " ".join(tokens) + '"' for tokens in kept)


def _other_groupings(number: PhoneNumber, international: list[str], trunk: str) -> list[list[str]]:
    # Groupings besides the official one, vouched for by phonenumbers' public matcher: a candidate is
    # kept when the matcher, at its EXACT_GROUPING leniency (official and alternate formats of the
    # country), accepts the number written nationally that way. Candidates: every official format of
    # the country that fits the digits (other area-code lengths: `0207 946 0958`) and the usual ways
    # of regrouping the subscriber part after the area code (`030 123 45 67`, `07400 123 456`).
    # The matcher only judges valid numbers: a fictional range keeps its official grouping alone.
    region = phonenumbers.region_code_for_number(number)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region) if region else None
    if region is None or metadata is None:
        return []
    nsn = phonenumbers.national_significant_number(number)
    candidates: list[list[str]] = []
    for pattern in metadata.number_format:
        found = re.fullmatch(pattern.pattern, nsn) if pattern.pattern else None
        if found is not None and pattern.format:
            candidates.append(_groups(found.expand(pattern.format)))
    if len(international) >= 2:
        area, subscriber = international[0], "".join(international[1:])
        candidates += [[area, *groups] for groups in _subscriber_groupings(subscriber)]
    # each matcher run costs ~0.1 ms: every distinct grouping is judged once
    distinct = {tuple(groups): groups for groups in candidates if groups and groups != international}
    return [groups for groups in distinct.values() if _accepted(trunk, groups, region)]


def _subscriber_groupings(subscriber: str) -> list[list[str]]:
    size = len(subscriber)
    half = size // 2
    pairs_from = 3 if size % 2 else 2
    pairs = [subscriber[:pairs_from]] + [subscriber[at : at + 2] for at in range(pairs_from, size, 2)]
    shapes = [[subscriber], [subscriber[:half], subscriber[half:]], [subscriber[:3], subscriber[3:]],
              [subscriber[:-4], subscriber[-4:]], pairs]
    return [shape for shape in shapes if all(shape)]


def _accepted(trunk: str, groups: list[str], region: str) -> bool:
    text = " ".join([trunk + groups[0], *groups[1:]])
    return any(
        found.raw_string == text
        for found in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.EXACT_GROUPING)
    )


def _contains_run(tokens: tuple[str, ...], run: tuple[str, ...]) -> bool:
    return any(tokens[start : start + len(run)] == run for start in range(len(tokens) - len(run) + 1))


def _groups(formatted: str) -> list[str]:
    return re.findall(r"\d+", formatted)


def _parse(raw: str, default_region: str) -> tuple[PhoneNumber | None, str]:
    text = (raw or "").strip()
    if not text:
        return None, "the phone number is empty"
    if text.lower() in _WITHHELD:
        return None, f"{text!r} is a withheld number, not a phone number"
    number = _try_parse(text, default_region)
    acceptable = number is not None and _acceptable(number, text)
    if number is not None and acceptable and _certain(number):
        return number, ""
    foreign = _FOREIGN_IDD.match(text)
    if foreign is not None:
        retried = _try_parse("+" + text[foreign.end() :], default_region)
        if retried is not None and phonenumbers.is_possible_number(retried):
            return retried, ""
    # a merely possible national number yields to a foreign prefix: in AU (whose own prefix is 0011)
    # "0061 2 1234 5678" is Sydney written with 00, not a 12-digit national number
    if number is not None and acceptable:
        return number, ""
    if number is None:
        return None, f"{text!r} is not a phone number"
    return None, f"{text!r} is not a valid phone number (numbers without a country code are read as {default_region})"


def _try_parse(text: str, region: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region, keep_raw_input=True)
    except NumberParseException:
        return None


def _acceptable(number: PhoneNumber, text: str) -> bool:
    # A written country code removes all doubt, so a possible length is enough: validity metadata
    # lags new ranges and rejects reserved fictional ones (UK 07700 900xxx), and the match is an
    # exact E.164 comparison anyway.
    if number.country_code_source in _EXPLICIT_COUNTRY:
        return bool(phonenumbers.is_possible_number(number))
    if phonenumbers.is_valid_number(number):
        return True
    # A national number the region cannot vouch for is accepted only when it was written with the
    # region's trunk prefix (dialled as a domestic call). Without it, it is most likely a foreign
    # number missing its country code ("030 1234567" on a US tenant), which must not be guessed.
    return bool(phonenumbers.is_possible_number(number)) and _trunk_written(number, text)


def _certain(number: PhoneNumber) -> bool:
    return number.country_code_source in _EXPLICIT_COUNTRY or bool(phonenumbers.is_valid_number(number))


def _trunk_written(number: PhoneNumber, text: str) -> bool:
    digits = phonenumbers.normalize_digits_only(text)
    if number.extension:
        digits = digits[: len(digits) - len(number.extension)]
    nsn = phonenumbers.national_significant_number(number)
    return len(digits) > len(nsn) and digits.endswith(nsn)


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _tail(e164: str) -> str:
    return phonenumbers.normalize_digits_only(e164)[-4:]


def _region_of(e164: str) -> str | None:
    # the region a national number of the caller's country is read in: the main one of its country
    # code, as trunk prefix and national formats are the country's (London and Guernsey read alike)
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return None if region == phonenumbers.UNKNOWN_REGION else region
