"""Notes and NoteEntity rows, indexed both ways so that 10,000 simulated calls stay fast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FIRST_NOTE_ID = 50001
FIRST_LINK_ID = 70001


@dataclass
class Link:
    """A NoteEntity row: a note shown on a person's (or job's) record."""

    id: int
    note_id: int
    target_id: int
    target_entity_name: str
    date_added: int

    def as_record(self) -> dict[str, Any]:
        return {"id": self.id, "note": {"id": self.note_id}, "targetEntityID": self.target_id,
                "targetEntityName": self.target_entity_name}


class NoteStore:
    def __init__(self) -> None:
        self.notes: dict[int, dict[str, Any]] = {}
        self.links: dict[int, Link] = {}
        self._by_note: dict[int, list[Link]] = {}
        self._by_target: dict[tuple[str, int], list[Link]] = {}
        self._next_note_id = FIRST_NOTE_ID
        self._next_link_id = FIRST_LINK_ID

    def add_note(self, note: dict[str, Any]) -> int:
        note_id = self._next_note_id
        self._next_note_id += 1
        note["id"] = note_id
        self.notes[note_id] = note
        return note_id

    def add_link(self, note_id: int, target_id: int, target_entity_name: str, now_ms: int) -> Link | None:
        """The new row, or None when the note is already linked to that target (DUPLICATE_VALUE)."""
        if any(link.target_id == target_id and link.target_entity_name == target_entity_name
               for link in self._by_note.get(note_id, ())):
            return None
        link = Link(self._next_link_id, note_id, target_id, target_entity_name, now_ms)
        self._next_link_id += 1
        self.links[link.id] = link
        self._by_note.setdefault(note_id, []).append(link)
        self._by_target.setdefault((target_entity_name, target_id), []).append(link)
        return link

    def links_of_note(self, note_id: int) -> list[Link]:
        return list(self._by_note.get(note_id, ()))

    def note_ids_of(self, target_entity_name: str, target_id: int) -> list[int]:
        return sorted({link.note_id for link in self._by_target.get((target_entity_name, target_id), ())})
