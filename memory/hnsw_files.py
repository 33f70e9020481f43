"""A cheap structural check of Chroma's on-disk vector indexes (HNSW), without loading them into Chroma.

Why: a damaged index file makes Chroma segfault (garbage in `data_level0.bin`: exit 139, no message) or
silently answer wrong (a truncated file). Chroma's native code never validates these files, so brief reads
them itself: the header says how many elements the index holds and how big each is; the data file must hold
that many, each element's level-0 neighbour list must point inside the index, and every vector must be
finite. Reading ~1.7 KB per paper took 0.24-0.47 s at 20k papers here, so `brief weekly` runs it at every start.

Layout (Chroma's hnswlib fork, persist version 1): header.bin is 100 bytes: int32 version, then uint64
offset_level0, max_elements, cur_element_count, size_data_per_element, label_offset, offset_data, int32
max_level, uint32 entry_point, uint64 max_m, max_m0, m, float64 mult, uint64 ef_construction. Each element
of data_level0.bin: uint32 neighbour count, max_m0 uint32 neighbour ids, the vector (float32), the label.
length.bin and link_lists.bin hold the upper levels' links.
"""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_HEADER = struct.Struct("<i6QiI3QdQ")
_VECTOR_SEGMENT = "urn:chroma:segment/vector/hnsw-local-persisted"


@dataclass(frozen=True)
class IndexProblem:
    collection: str
    path: Path  # the damaged file (or the segment dir when a file is missing)
    problem: str


def vector_segments(chroma_dir: Path) -> dict[Path, str]:
    """segment dir → collection name, for every persisted vector index memory's catalogue lists."""
    db = chroma_dir / "chroma.sqlite3"
    # read-write (never creating it): a database left with a hot journal by a failed write needs SQLite to roll
    # it back before it can be read, which a read-only connection refuses ("attempt to write a readonly database")
    conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True)
    try:
        rows = conn.execute("SELECT s.id, c.name FROM segments s JOIN collections c ON c.id = s.collection "
                            "WHERE s.type = ?", (_VECTOR_SEGMENT,)).fetchall()
    finally:
        conn.close()
    return {chroma_dir / seg: name for seg, name in rows}


def index_problems(chroma_dir: Path) -> list[IndexProblem]:
    """What is structurally wrong with each collection's index files (an empty list when nothing is)."""
    found = []
    for segment, name in sorted(vector_segments(chroma_dir).items()):
        if not (segment / "header.bin").exists():  # not written yet: Chroma holds the vectors in its log
            continue
        problem = _segment_problem(segment)
        if problem:
            found.append(IndexProblem(name, *problem))
    return found


def _segment_problem(segment: Path) -> tuple[Path, str] | None:
    header_path, data_path = segment / "header.bin", segment / "data_level0.bin"
    raw = header_path.read_bytes()
    if len(raw) != _HEADER.size:
        return header_path, f"is {len(raw)} bytes, not {_HEADER.size}"
    (version, _, max_elements, count, size, label_at, data_at, _, entry, _, max_m0, _, _, _) = _HEADER.unpack(raw)
    if version != 1 or count > max_elements or not 0 < data_at < label_at < size or 4 + 4 * max_m0 > data_at:
        return header_path, "holds impossible values (not an index header)"
    if count and entry >= count:
        return header_path, "names an entry point outside the index"
    if not data_path.exists():
        return data_path, "is missing"
    if data_path.stat().st_size < count * size:
        return data_path, (f"is truncated: {data_path.stat().st_size:,} bytes where the header says "
                           f"{count:,} elements of {size:,} bytes")
    elements = np.fromfile(data_path, dtype=np.uint8, count=count * size).reshape(count, size)
    links = elements[:, : 4 + 4 * max_m0].copy().view(np.uint32)
    degree, neighbours = links[:, 0], links[:, 1:]
    if (degree > max_m0).any():
        return data_path, "is damaged: an element has more neighbours than the index allows"
    used = np.arange(max_m0)[None, :] < degree[:, None]
    if (neighbours[used] >= count).any():
        return data_path, "is damaged: a neighbour points outside the index"
    if not np.isfinite(elements[:, data_at:label_at].copy().view(np.float32)).all():
        return data_path, "is damaged: it holds vectors that are not numbers"
    return _links_problem(segment, count)


def _links_problem(segment: Path, count: int) -> tuple[Path, str] | None:
    """Upper-level links: only their presence is checked (length.bin's layout is not stable enough to read)."""
    for path in (segment / "length.bin", segment / "link_lists.bin"):
        if count and not path.exists():
            return path, "is missing"
    return None
