from __future__ import annotations

from typing import Any

import pytest

from insight.domain.ai_insights import (
    MAX_COMMENTS_CHARS,
    AiNote,
    Insight,
    fit_transcript,
    merge,
    normalise,
    normalise_rest,
    note_parts,
    read_insight,
)
from insight.domain.aircall_events import InvalidPayload, parse_envelope

SECTIONS = ("summary", "topics", "sentiment", "action_items")


def ai_event(event: str, data: dict[str, Any], *, timestamp: int = 1_795_000_300) -> dict[str, Any]:
    return {"resource": "conversation_intelligence", "event": event, "timestamp": timestamp, "data": data}


def insight_of(event: str, data: dict[str, Any], *, timestamp: int = 1_795_000_300) -> Insight:
    found = read_insight(parse_envelope(ai_event(event, data, timestamp=timestamp)))
    assert found is not None
    return found


@pytest.mark.parametrize("call_id", [123, "123", " 123 "])
def test_the_call_of_an_ai_event_is_data_call_id_as_an_integer_or_a_string_and_data_id_is_the_insight(
    call_id: object,
) -> None:
    envelope = parse_envelope(ai_event("summary.created", {"id": 991, "call_id": call_id, "content": "Hi"}))

    assert envelope.call_id == 123 and envelope.data["id"] == 991


def test_an_ai_event_without_a_call_id_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse_envelope(ai_event("topics.created", {"id": 5, "content": ["Java"]}))

    assert raised.value.field == "data.call_id"


@pytest.mark.parametrize(
    ("event", "data", "expected"),
    [
        ("summary.created", {"content": "Asked about the Java role."}, {"text": "Asked about the Java role."}),
        ("topics.created", {"content": ["Java", "Salary", "Java"]}, {"items": ["Java", "Salary", "Java"]}),
        ("topics.created", {"content": [{"name": "Relocation"}]}, {"items": ["Relocation"]}),
        ("sentiment.created", {"participants": [{"participant_type": "external", "phone_number": "+44 7700 900123",
                                                 "value": "POSITIVE"}, {"participant_type": "internal"}]},
         {"items": [{"who": "Caller", "value": "POSITIVE"}]}),
        ("sentiment.created", {"content": "NEGATIVE"}, {"items": [{"who": "Caller", "value": "NEGATIVE"}]}),
        ("sentiment.created", {"content": {"value": "NEUTRAL"}}, {"items": [{"who": "Caller", "value": "NEUTRAL"}]}),
        ("action_item.created", {"content": "Send the CV"}, {"items": ["Send the CV"]}),
        ("action_item.created", {"content": {"content": "Book the interview"}}, {"items": ["Book the interview"]}),
        ("action_item.created", {"content": ["Send the CV", {"content": "Call back Monday"}]},
         {"items": ["Send the CV", "Call back Monday"]}),
        ("transcription.created", {"content": {"language": "en", "utterances": [
            {"start_time": 0.4, "text": "Hello", "participant_type": "internal", "user_id": 456},
            {"start_time": 3.2, "text": "Hi, it's Jo", "participant_type": "external", "phone_number": "+44…"}]}},
         {"lines": [{"speaker": "Agent", "text": "Hello", "start_s": 0.4},
                    {"speaker": "Caller", "text": "Hi, it's Jo", "start_s": 3.2}]}),
    ],
    ids=["summary", "topics", "topic_objects", "sentiment_participants", "sentiment_content_string",
         "sentiment_content_object", "action_item_string", "action_item_object", "action_items_list",
         "transcript_utterances"],
)
def test_every_documented_shape_of_an_ai_event_is_read(event: str, data: dict[str, Any],
                                                         expected: dict[str, Any]) -> None:
    insight = insight_of(event, {"id": 7, "call_id": 123, **data})

    assert insight.content == expected


@pytest.mark.parametrize(
    ("event", "data"),
    [("summary.created", {}), ("summary.created", {"content": "  "}), ("topics.created", {"content": []}),
     ("sentiment.created", {"participants": [{"participant_type": "external"}]}),
     ("action_item.created", {}), ("transcription.created", {"content": {"utterances": []}})],
)
def test_an_ai_event_without_content_lacks_it_so_the_worker_fetches_it(event: str, data: dict[str, Any]) -> None:
    assert insight_of(event, {"id": 7, "call_id": 123, **data}).content is None


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        ("summary", {"summary": {"content": "From REST"}}, {"text": "From REST"}),
        ("summary", {"content": "No wrapper"}, {"text": "No wrapper"}),
        ("topics", {"topic": {"content": ["Pay"]}}, {"items": ["Pay"]}),
        ("topics", {"topics": ["Pay", "Hours"]}, {"items": ["Pay", "Hours"]}),
        ("sentiment", {"sentiment": {"participants": [{"type": "external", "value": "POSITIVE"}]}},
         {"items": [{"who": "Caller", "value": "POSITIVE"}]}),
        ("sentiment", {"sentiments": [{"participants": [{"participant_type": "external", "value": "NEGATIVE"}]}]},
         {"items": [{"who": "Caller", "value": "NEGATIVE"}]}),
        ("action_items", {"call_id": 1, "action_items": [{"content": "Send offer", "ai_generated": True}]},
         {"items": ["Send offer"]}),
        ("transcript", {"transcription": {"id": 1, "content": {"utterances": [{"text": "Hi",
                                                                               "participant_type": "external"}]}}},
         {"lines": [{"speaker": "Caller", "text": "Hi", "start_s": None}]}),
    ],
)
def test_a_rest_answer_is_read_under_every_wrapper_key_the_sources_give(kind: str, body: dict[str, Any],
                                                                        expected: dict[str, Any]) -> None:
    assert normalise_rest(kind, body) == expected


def test_a_rest_answer_without_content_is_none() -> None:
    assert normalise_rest("summary", {"summary": {"content": ""}}) is None
    assert normalise("topics", {}) is None


def test_merged_insights_keep_the_latest_of_a_kind_and_add_up_action_items_each_once() -> None:
    insights = [
        insight_of("summary.created", {"id": 1, "call_id": 9, "content": "Old"}, timestamp=100),
        insight_of("summary.created", {"id": 2, "call_id": 9, "content": "New"}, timestamp=200),
        insight_of("action_item.created", {"id": 3, "call_id": 9, "content": "Send CV"}, timestamp=150),
        insight_of("action_item.created", {"id": 4, "call_id": 9, "content": ["Send CV", "Call back"]}, timestamp=160),
    ]

    forward, backward, doubled = merge(insights), merge(reversed(insights)), merge(insights + insights)

    assert forward == backward == doubled
    assert forward.summary == "New" and forward.action_items == ("Send CV", "Call back")


def test_a_fetched_content_completes_an_insight_that_lacked_it() -> None:
    empty = insight_of("summary.created", {"id": 11, "call_id": 9})

    assert merge([empty]) == AiNote()
    assert merge([empty], {"summary:11": {"text": "Fetched"}}).summary == "Fetched"


def test_note_sections_are_escaped_and_follow_the_configured_order() -> None:
    ai = AiNote(summary="Wants <b>more</b>", topics=("Java",), sentiment=(("Caller", "POSITIVE"),),
                action_items=("Send CV",), kinds=frozenset(SECTIONS))

    parts = note_parts(ai, ("action_items", "summary", "sentiment", "topics"), used_chars=100, call_id=1,
                       transcript_link=None)

    assert parts == [
        "<p><b>Action items</b></p><ul><li>Send CV</li></ul>",
        "<p><b>Summary</b><br>Wants &lt;b&gt;more&lt;/b&gt;</p>",
        "<p><b>Sentiment</b></p><ul><li>Caller: Positive</li></ul>",
        "<p><b>Topics</b></p><ul><li>Java</li></ul>",
    ]


def test_a_long_transcript_is_cut_at_a_line_with_a_marker_naming_the_lines_kept_and_the_link() -> None:
    lines = tuple(("Caller" if n % 2 else "Agent", f"sentence number {n} " + "x" * 80, float(n * 5))
                  for n in range(2_000))
    ai = AiNote(summary="Short", transcript=lines, kinds=frozenset({"summary", "transcript"}))

    used = 5_000
    parts = note_parts(ai, ("summary", "transcript"), used_chars=used, call_id=77,
                       transcript_link="https://assets.aircall.io/calls/77/recording")

    total = used + sum(len(part) + 1 for part in parts)
    transcript = parts[-1]
    shown = transcript.count("<br>[")
    assert total <= MAX_COMMENTS_CHARS
    assert 0 < shown < 2_000
    assert f"{shown} of 2000 lines shown" in transcript
    assert 'href="https://assets.aircall.io/calls/77/recording"' in transcript


def test_a_short_transcript_is_written_whole_and_none_is_left_out_when_nothing_fits() -> None:
    lines = (("Agent", "Hello", 0.0), ("Caller", "Hi", 2.0))

    assert fit_transcript(lines, 1_000, call_id=1, link=None) == (
        "<p><b>Transcript</b><br>[00:00] Agent: Hello<br>[00:02] Caller: Hi</p>")
    assert fit_transcript(lines, 20, call_id=1, link=None) == ""
