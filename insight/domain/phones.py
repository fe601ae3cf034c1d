"""Phone numbers: stored free text to E.164, and the Lucene clauses that find a number however it was stored.

Bullhorn keeps phones as whatever users typed, and its index splits them on non-digits, so a
lookup searches for the token sequences real formats produce (`search_variants`) and then
re-normalises what comes back (`normalize`) to keep only true matches.
"""

from __future__ import annotations

import re

import phonenumbers
import phonenumbers.data
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat
from phonenumbers.phonenumber import CountryCodeSource

__all__ = ["PhoneError", "display", "normalize", "parse_caller", "search_variants"]

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
    - the same two for the other groupings phonenumbers knows to be in use (`0207 946 0958`,
      `07700 900 123`, `030 123 45 67`).
    Trade-off: every clause is a whole number, never a bare trailing group such as `555 0123`, so a
    search stays selective and the true record is not pushed off the result page by near misses
    (verification drops those anyway); the price is that an unusual grouping is not found. A clause
    that another one already covers is left out: at most about twenty clauses, each once per phone
    field, far below Lucene's 1024-clause limit.
    """
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
    for groups in [international, *_alternate_groupings(number.country_code or 0, nsn)]:
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
    return [tokens[0] if len(tokens) == 1 else '"' + " ".join(tokens) + '"' for tokens in kept]


def _alternate_groupings(country_code: int, nsn: str) -> list[list[str]]:
    # phonenumbers ships the groupings seen in the wild besides the official one (its own matcher
    # uses them to recognise numbers in text); they are data, not API, hence the defensive getattr.
    groupings = []
    for pattern in getattr(phonenumbers.data, "_ALT_NUMBER_FORMATS", {}).get(country_code, ()):
        leading = pattern.leading_digits_pattern
        if leading and not re.match(leading[0], nsn):
            continue
        found = re.fullmatch(pattern.pattern, nsn)
        if found is not None:
            groupings.append(_groups(found.expand(pattern.format)))
    return groupings


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
    if number is not None and _acceptable(number, text):
        return number, ""
    foreign = _FOREIGN_IDD.match(text)
    if foreign is not None:
        retried = _try_parse("+" + text[foreign.end() :], default_region)
        if retried is not None and phonenumbers.is_possible_number(retried):
            return retried, ""
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


def _trunk_written(number: PhoneNumber, text: str) -> bool:
    digits = phonenumbers.normalize_digits_only(text)
    if number.extension:
        digits = digits[: len(digits) - len(number.extension)]
    nsn = phonenumbers.national_significant_number(number)
    return len(digits) > len(nsn) and digits.endswith(nsn)
