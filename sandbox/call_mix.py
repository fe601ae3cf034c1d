"""A seeded, realistic mix of calls for the simulator: who calls, what kind of call, which tags.

About 70 % of calls involve a number the demo tenant knows (some of them shared by several
records, some from abroad and stored as their country writes them nationally), a quarter an
unknown number and a few an anonymous caller. Tags come during the call,
in wrap-up after hang-up, and sometimes much later; one is occasionally taken off again; missed
calls get Aircall's own "Callback Request" tag; comments land 60–90 s after hang-up. Now and then a
second agent calls the same number while the first call is still ringing or talking.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

from sandbox.calls import ENDED_DELAY_S, CallKind, CallScript, CommentScript, TagScript
from sandbox.people import AGENTS, LINES, SYSTEM_TAGS, TAGS

ANONYMOUS = "anonymous"
#: kinds of the demo callers whose number a record holds in their own country's national format
NATIONAL_KIND = "national_"
FIRST_CALL_ID = 900_000_000
#: share of calls that a colleague's call to the same number follows at once
COLLEAGUE_SHARE = 0.06

_KIND_WEIGHTS: dict[CallKind, int] = {
    CallKind.INBOUND_ANSWERED: 35,
    CallKind.OUTBOUND_ANSWERED: 25,
    CallKind.OUTBOUND_UNANSWERED: 10,
    CallKind.MISSED: 12,
    CallKind.VOICEMAIL: 10,
    CallKind.TRANSFERRED: 8,
}
_INBOUND_KINDS = (CallKind.INBOUND_ANSWERED, CallKind.MISSED, CallKind.VOICEMAIL, CallKind.TRANSFERRED)
_AGENT_TAGS = tuple(name for name in TAGS if name not in SYSTEM_TAGS)
_COMMENTS = (
    "Available from next Monday, happy with the rate.",
    "Wants to be called back after 5pm.\nPrefers e-mail for the contract.",
    "Asked for two more CVs for the warehouse role.",
    "Not looking right now, check again in Q3.",
    "Reference given, very positive <b>strong</b> hire & would rehire.",
)
#: Australia's range reserved for fiction; used only when the caller list has no unknown number
_FICTIONAL_PREFIX = "+61 491 570 1"


class CallerLike(Protocol):
    """What the simulator needs of a demo caller (sandbox.demo_data.Caller fits)."""

    @property
    def raw_digits(self) -> str: ...

    @property
    def expected(self) -> tuple[tuple[str, int], ...]: ...

    @property
    def kind(self) -> str: ...


def pick_caller(rng: random.Random, callers: Sequence[CallerLike]) -> str:
    """The other party's raw_digits: mostly known numbers, some shared, some unknown, a few anonymous.

    One call in ten is from abroad (a `national_*` demo caller, DESIGN §9), in Aircall's
    international form (`+44 121 496 0683`) while the record holds it nationally (`0121 496 0683`).
    """
    known = [caller for caller in callers if caller.expected]
    shared = [caller for caller in known if len(caller.expected) > 1]
    abroad = [caller for caller in known if caller.kind.startswith(NATIONAL_KIND)]
    unknown = [caller for caller in callers if not caller.expected]
    draw = rng.random()
    if draw < 0.05:
        return ANONYMOUS
    if draw < 0.15 and shared:
        return rng.choice(shared).raw_digits
    if draw < 0.25 and abroad:
        return rng.choice(abroad).raw_digits
    if draw < 0.75 and known:
        return rng.choice(known).raw_digits
    if unknown:
        return rng.choice(unknown).raw_digits
    return f"{_FICTIONAL_PREFIX}{rng.randint(0, 99):02d}"


def random_script(rng: random.Random, *, call_id: int, raw_digits: str, started_at: int) -> CallScript:
    kinds = _INBOUND_KINDS if raw_digits == ANONYMOUS else tuple(_KIND_WEIGHTS)
    kind = rng.choices(kinds, weights=[_KIND_WEIGHTS[k] for k in kinds])[0]
    agent = rng.choice(AGENTS)
    others = [a for a in AGENTS if a != agent]
    answered = kind in (CallKind.INBOUND_ANSWERED, CallKind.OUTBOUND_ANSWERED, CallKind.TRANSFERRED)
    ring_s = rng.randint(3, 20) if answered else rng.randint(2, 35)
    talk_s = rng.randint(20, 300) if answered else 0
    voicemail_s = rng.randint(8, 50) if kind is CallKind.VOICEMAIL else 0
    hangup_s = ring_s + talk_s + voicemail_s
    rung = (agent, *rng.sample(others, rng.randint(0, 2)))
    tags: list[TagScript] = []
    comments: list[CommentScript] = []
    if answered and rng.random() < 0.8:
        first_at = rng.randint(ring_s + 1, hangup_s) if rng.random() < 0.6 else hangup_s + rng.randint(2, 25)
        removed = first_at + rng.randint(5, 20) if rng.random() < 0.1 else None
        names = rng.sample(_AGENT_TAGS, 2)
        tags.append(TagScript(names[0], first_at, removed_at_s=removed))
        if rng.random() < 0.35:
            tags.append(TagScript(names[1], hangup_s + ENDED_DELAY_S + rng.randint(10, 240)))
    elif kind is CallKind.MISSED and rng.random() < 0.4:
        tags.append(TagScript("Callback Request", hangup_s + ENDED_DELAY_S + rng.randint(1, 60)))
    elif kind is CallKind.VOICEMAIL and rng.random() < 0.3:
        tags.append(TagScript("Left Message", hangup_s + ENDED_DELAY_S + rng.randint(60, 300)))
    if answered and rng.random() < 0.5:
        comments.append(CommentScript(rng.choice(_COMMENTS), hangup_s + rng.randint(60, 90)))
    missed_reason = None
    if kind is CallKind.MISSED:
        missed_reason = "short_abandoned" if ring_s < 5 else "agents_did_not_answer"
    return CallScript(
        call_id=call_id, kind=kind, agent=agent, line=rng.choice(LINES), raw_digits=raw_digits,
        started_at=started_at, ring_s=ring_s, talk_s=talk_s, voicemail_s=voicemail_s,
        rung=rung if kind in _INBOUND_KINDS else (), transfer_to=rng.choice(others) if kind is CallKind.TRANSFERRED
        else None, tags=tuple(tags), comments=tuple(comments), missed_call_reason=missed_reason,
    )


def plan_calls(
    count: int, *, seed: int, callers: Sequence[CallerLike], started_at: int, mean_gap_s: float = 20.0
) -> list[CallScript]:
    """`count` calls starting about `mean_gap_s` apart (Poisson arrivals) from `started_at`."""
    rng = random.Random(seed)
    # its own stream: whether a colleague calls the same number at once (DESIGN §13's "on a call now")
    pairs = random.Random(seed ^ 0x2A6)
    scripts: list[CallScript] = []
    offset = 0.0
    for index in range(count):
        call_id = FIRST_CALL_ID + seed % 1000 * 100_000 + index
        previous = scripts[-1] if scripts else None
        if previous is not None and previous.raw_digits != ANONYMOUS and pairs.random() < COLLEAGUE_SHARE:
            scripts.append(colleague_script(pairs, previous, call_id=call_id))
            continue
        scripts.append(random_script(
            rng, call_id=call_id, raw_digits=pick_caller(rng, callers), started_at=started_at + int(offset),
        ))
        offset += rng.expovariate(1.0 / mean_gap_s) if mean_gap_s > 0 else 0.0
    return scripts


def colleague_script(rng: random.Random, other: CallScript, *, call_id: int) -> CallScript:
    """Another agent calling `other`'s number while `other` is still going: two recruiters, one candidate."""
    agent = rng.choice([candidate for candidate in AGENTS if candidate not in (other.agent, *other.rung_agents)])
    return CallScript(
        call_id=call_id, kind=CallKind.OUTBOUND_ANSWERED, agent=agent, line=rng.choice(LINES),
        raw_digits=other.raw_digits, started_at=other.started_at + rng.randint(2, max(2, other.ring_s)),
        ring_s=rng.randint(3, 10), talk_s=rng.randint(20, 120),
    )
