"""Persistent vector memory of papers: `Memory`, the one API over its Chroma collections.

Two collections: `papers` (accepted and imported papers: what links point to) and `seen` (rejected and
stage-1-cut papers, remembered so nothing is screened twice). A paper lives in exactly one of them; a
new decision moves it. Embeddings always come from our own embedder and are passed explicitly: Chroma's
default embedder would try to download a model. What a record holds and how it merges: records.py; how
Chroma is opened (local or a shared server) and the collections' embedder check: chroma.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from brief.memory.chroma import MemoryStoreError, location_hint, max_batch, open_client, open_collection, pages
from brief.memory.records import (
    ABSTRACT,
    MAX_ABSTRACT,
    PAPERS_STATUSES,
    Imported,
    Record,
    abstract_of,
    judged_relevant,
    metadata,
    previously_seen,
    record,
)
from brief.models import Paper
from brief.sources.window import week_ordinal

_BATCH = 4000  # records per call when the client does not tell its maximum (5461 for a local one)

__all__ = ["Memory", "MemoryStoreError", "Record"]


class Memory:
    def __init__(self, path: Path | None, embedder_name: str, host: str | None = None, port: int = 8000,
                 read_only: bool = False):
        """Memory at `path` (local Chroma) or on the server `host`:`port`, whose vectors come from the
        embedder `embedder_name`; MemoryStoreError when it can't be opened or was built by another one.
        `read_only` (stats, show, export) opens it whatever embedder built it, as `embedder_name` then says:
        records and metadata can be read; writes, searches and vectors raise MemoryStoreError."""
        self.path = None if host else path
        self.disk_identity: object = None  # set by open_memory: which database file this process wrote to
        self.client, self.location = open_client(path, host, port)
        try:
            self.papers = open_collection(self.client, "papers", embedder_name, self.location, read_only)
            self.seen = open_collection(self.client, "seen", embedder_name, self.location, read_only)
            self.embedder_name = (self.papers.metadata or {}).get("embedder") or embedder_name
            self.batch_size = max_batch(self.client, _BATCH)  # records per call: Chroma's maximum
        except MemoryStoreError:
            raise
        except Exception as exc:  # a server that went away or refuses: say where and how to fix it
            raise MemoryStoreError(f"cannot open memory at {location_hint(path, host, port)}: {exc}") from None

    # -- writing ---------------------------------------------------------------------------------------

    def remember(
        self,
        papers: list[Paper],
        embeddings: np.ndarray,
        week: str,
        status: str = "accepted",
        topics: dict[str, str] | None = None,
        tldrs: dict[str, str] | None = None,
        run_id: str = "",
        extra: dict[str, Any] | None = None,
        abstracts: bool = True,
        marks: dict[str, dict[str, Any]] | None = None,
    ) -> int:
        """Record `status` decided for `papers` in `week` by run `run_id`: upserts into `papers` (accepted,
        imported) or `seen` (rejected, cut), keeping each paper's first-seen week and appending the decision
        to its history (once per run). Returns how many were new to the collection they now live in.
        Without `abstracts` the abstracts are not stored (papers stage 1 cut: only their ids, titles and
        decisions matter, and a week's abstracts would cost more to write than its vectors). `extra` goes to
        every paper's metadata, `marks[id]` to one paper's."""
        topics, tldrs, marks = topics or {}, tldrs or {}, marks or {}
        return self._write(papers, embeddings, lambda p, old: {**metadata(
            p, old, week, status, run_id=run_id, topic=topics.get(p.id), tldr=tldrs.get(p.id)), **(extra or {}),
            **marks.get(p.id, {})}, abstracts=abstracts)

    def import_papers(self, items: list[Imported], embeddings: np.ndarray, week: str, run_id: str,
                      progress: Callable[[int], None] | None = None) -> int:
        """Store a user's library as status "imported" (so it counts as previously seen), each paper under
        its own first/last week. A paper memory already knows keeps its record and only gains the history
        entry and missing fields; a bare id (stub) never overwrites anything. Returns how many were new."""
        known = set(self.known(i.paper.id for i in items))
        keep = [n for n, item in enumerate(items) if not (item.stub and item.paper.id in known)]
        items = [items[n] for n in keep]
        by_id = {i.paper.id: i for i in items}
        return self._write(
            [i.paper for i in items], np.asarray(embeddings)[keep] if len(keep) else embeddings[:0],
            lambda p, old: metadata(p, old, week, "imported", first_week=by_id[p.id].first_week,
                                    last_week=by_id[p.id].last_week, run_id=run_id, dated=by_id[p.id].dated,
                                    stub=by_id[p.id].stub, fill_only=old is not None),
            progress=progress, importing=True,
        )

    def _write(self, papers: list[Paper], embeddings: np.ndarray, meta_for: Callable[[Paper, dict[str, Any] | None], dict[str, Any]],
               progress: Callable[[int], None] | None = None, importing: bool = False, abstracts: bool = True) -> int:
        """Upsert in batches. A paper whose status moves it to the other collection is deleted there. An
        import of a known paper with no richer text keeps memory's vector and abstract."""
        if not papers:
            return 0
        first: dict[str, int] = {}
        for n, paper in enumerate(papers):
            first.setdefault(paper.id, n)  # one write per id: Chroma rejects a batch with repeated ids
        rows = sorted(first.values())
        ids = [papers[n].id for n in rows]
        in_papers = self._existing(self.papers, ids, documents=True)
        in_seen = self._existing(self.seen, ids, documents=True)
        writes: dict[str, tuple[list[Any], ...]] = {"papers": ([], [], []), "seen": ([], [], [])}  # ids, vectors, metadatas
        updates: dict[str, tuple[list[Any], ...]] = {"papers": ([], []), "seen": ([], [])}  # metadata-only: the stored vector stays
        moves: dict[str, list[str]] = {"papers": [], "seen": []}  # ids to delete from that collection
        new = 0
        for n in rows:
            paper = papers[n]
            held_in = "papers" if paper.id in in_papers else "seen" if paper.id in in_seen else None
            old_meta, old_doc = (in_papers if held_in == "papers" else in_seen).get(paper.id, (None, None))
            old_abstract = abstract_of(old_meta, old_doc)
            meta = meta_for(paper, old_meta)
            target = "papers" if meta["status"] in PAPERS_STATUSES else "seen"
            poorer = (importing and old_meta is not None and not old_meta.get("stub")
                      and len(paper.abstract) <= len(old_abstract))
            meta[ABSTRACT] = (old_abstract if poorer or not abstracts else paper.abstract)[:MAX_ABSTRACT]
            if held_in == target and poorer:
                updates[target][0].append(paper.id)
                updates[target][1].append(meta)
                continue
            if held_in is not None and held_in != target:
                moves[held_in].append(paper.id)
            new += paper.id not in (in_papers if target == "papers" else in_seen)
            ids_, vectors, metas = writes[target]
            ids_.append(paper.id)
            vectors.append(self._vector(held_in, paper.id) if poorer else np.asarray(embeddings[n], dtype=np.float32))
            metas.append(meta)
        for name, collection in (("papers", self.papers), ("seen", self.seen)):
            ids_, vectors, metas = writes[name]
            for start in range(0, len(ids_), self.batch_size):
                chunk = slice(start, start + self.batch_size)
                collection.upsert(ids=ids_[chunk], embeddings=np.stack(vectors[chunk]).tolist(), metadatas=metas[chunk])
                if progress:
                    progress(len(ids_[chunk]))
            up_ids, up_metas = updates[name]
            for start in range(0, len(up_ids), self.batch_size):
                collection.update(ids=up_ids[start:start + self.batch_size], metadatas=up_metas[start:start + self.batch_size])
                if progress:
                    progress(len(up_ids[start:start + self.batch_size]))
        for name, collection in (("papers", self.papers), ("seen", self.seen)):
            for start in range(0, len(moves[name]), self.batch_size):
                collection.delete(ids=moves[name][start:start + self.batch_size])
        return new

    def _vector(self, collection: str | None, paper_id: str) -> np.ndarray:
        got = (self.papers if collection == "papers" else self.seen).get(ids=[paper_id], include=["embeddings"])
        return np.asarray(got["embeddings"][0], dtype=np.float32)

    def forget(self, paper_id: str) -> bool:
        found = False
        for collection in (self.papers, self.seen):
            if collection.get(ids=[paper_id])["ids"]:
                collection.delete(ids=[paper_id])
                found = True
        return found

    # -- reading ---------------------------------------------------------------------------------------

    def _existing(self, collection: Any, ids: list[str], documents: bool = False) -> dict[str, Any]:
        """id → metadata (or (metadata, document) with `documents`) for the ids the collection holds."""
        found: dict[str, Any] = {}
        include = ["metadatas", "documents"] if documents else ["metadatas"]
        for start in range(0, len(ids), self.batch_size):
            got = collection.get(ids=ids[start : start + self.batch_size], include=include)
            if documents:
                found.update((pid, (meta, doc)) for pid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"]))
            else:
                found.update(zip(got["ids"], got["metadatas"]))
        return found

    def known(self, ids: Iterable[str]) -> dict[str, str]:
        """id → status for the ids memory holds in either collection."""
        ids = list(ids)
        status = {pid: m.get("status", "seen") for pid, m in self._existing(self.seen, ids).items()}
        status.update({pid: m.get("status", "accepted") for pid, m in self._existing(self.papers, ids).items()})
        return status

    def first_seen(self, ids: Iterable[str]) -> dict[str, str]:
        """id → the week memory first saw it, for the ids it holds in either collection."""
        ids = list(ids)
        weeks = {pid: m.get("first_seen", "") for pid, m in self._existing(self.seen, ids).items()}
        weeks.update({pid: m.get("first_seen", "") for pid, m in self._existing(self.papers, ids).items()})
        return weeks

    def get(self, paper_id: str) -> Record | None:
        return self.get_many([paper_id]).get(paper_id)

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]:
        """id → record for the ids memory holds (accepted and imported papers first), in one read a collection."""
        ids = list(dict.fromkeys(ids))
        held = {**self._existing(self.seen, ids, documents=True), **self._existing(self.papers, ids, documents=True)}
        return {pid: record(pid, meta, doc) for pid, (meta, doc) in held.items()}

    def neighbours(self, embeddings: np.ndarray, before_week: str | None, k: int) -> list[list[Record]]:
        """For each query vector, its k nearest remembered papers seen before `before_week` (first seen in
        an earlier week, or an undated import: the user's own library; see records.previously_seen).

        Fast path: one unfiltered query for ids and distances only (a few more than k), then one `get` of
        the best candidates' records, filtered here. Chroma's `where` filter costs ~10x an unfiltered query
        at 50k+ papers (it scans the metadata first), and fetching metadata inside the query costs per row;
        the filtered query is only the fallback for rows that this week's own papers crowd out."""
        if len(embeddings) == 0:
            return []
        cutoff = week_ordinal(before_week) if before_week else None
        queries = np.asarray(embeddings, dtype=np.float32)
        fetch = max(4 * k, k + 20)  # no count() first: it costs as much as the query at 100k papers
        result = self.papers.query(query_embeddings=queries, n_results=fetch, include=["distances"])
        rows = [list(zip(ids, dists)) for ids, dists in zip(result["ids"], result["distances"])]
        held = self._hydrate({pid for row in rows for pid, _ in row[: k + 5]})
        out, redo = [], []
        for n, row in enumerate(rows):
            kept = self._earlier(row[: k + 5], held, cutoff, k)
            if len(kept) < k and len(row) > k + 5:  # crowded: read the rest of the candidates
                held.update(self._hydrate({pid for pid, _ in row[k + 5:]} - held.keys()))
                kept = self._earlier(row, held, cutoff, k)
            if len(kept) < k and len(row) == fetch:  # a full row: more papers lie beyond it
                redo.append(n)
            out.append(kept)
        if redo and cutoff is not None:
            where = {"$or": [{"first_seen_ord": {"$lt": cutoff}},
                             {"$and": [{"status": {"$eq": "imported"}}, {"dated": {"$eq": False}}]}]}
            for n, row in zip(redo, self._query(self.papers, queries[redo], 4 * k, where)):
                out[n] = [rec for rec, meta in row if previously_seen(meta, cutoff)][:k]
        return out

    def _hydrate(self, ids: set[str]) -> dict[str, tuple[dict[str, Any], str]]:
        return self._existing(self.papers, sorted(ids), documents=True) if ids else {}

    @staticmethod
    def _earlier(row: list[tuple[str, float]], held: dict[str, tuple[dict[str, Any], str]], cutoff: int | None, k: int) -> list[Record]:
        kept = []
        for pid, dist in row:
            meta, doc = held.get(pid, (None, None))
            if meta is not None and previously_seen(meta, cutoff):
                kept.append(record(pid, meta, doc, similarity=1.0 - dist))
                if len(kept) == k:
                    break
        return kept

    def _query(self, collection: Any, queries: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[list[tuple[Record, dict[str, Any]]]]:
        result = collection.query(query_embeddings=queries, n_results=n, where=where,
                                  include=["metadatas", "distances", "documents"])
        return [
            [(record(pid, meta, doc, similarity=1.0 - dist), meta) for pid, meta, doc, dist in zip(*cols)]
            for cols in zip(result["ids"], result["metadatas"], result["documents"], result["distances"])
        ]

    def search(self, vector: np.ndarray, limit: int = 10, since_week: str | None = None,
               include_seen: bool = False) -> list[Record]:
        """The remembered papers nearest a query vector, best first; `since_week` keeps those first seen in
        that week or later; `include_seen` adds rejected and cut papers."""
        where = {"first_seen_ord": {"$gte": week_ordinal(since_week)}} if since_week else None
        hits: list[Record] = []
        for collection in (self.papers, self.seen) if include_seen else (self.papers,):
            total = collection.count()
            if total:
                rows = self._query(collection, np.atleast_2d(np.asarray(vector, dtype=np.float32)), min(limit, total), where)
                hits += [rec for rec, _ in rows[0]]
        return sorted(hits, key=lambda r: -(r.similarity or 0.0))[:limit]

    def records(self, include_seen: bool = False, embeddings: bool = False) -> Iterator[tuple[Record, list[float] | None]]:
        """Every record (and its vector with `embeddings`), page by page, `papers` first."""
        include = ["metadatas", "documents"] + (["embeddings"] if embeddings else [])
        for collection in (self.papers, self.seen) if include_seen else (self.papers,):
            for got in pages(collection, include=include):
                vectors = got["embeddings"] if embeddings else [None] * len(got["ids"])
                for pid, meta, doc, vec in zip(got["ids"], got["metadatas"], got["documents"], vectors):
                    yield record(pid, meta, doc), vec

    def weekly_counts_near(
        self, vectors: np.ndarray, weeks: list[str], thresholds: float | Iterable[float]
    ) -> tuple[dict[str, int], list[dict[str, int]]]:
        """Per query vector, how many remembered papers (accepted or seen) first seen in each of `weeks` lie
        within cosine `threshold` of it; plus each week's total, since weekly volumes differ and trends
        should compare shares. One read of those weeks' embeddings serves every vector (theme trends)."""
        queries = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        cut = np.broadcast_to(np.asarray(thresholds, dtype=np.float32), (len(queries),))
        week_at = {week_ordinal(w): w for w in weeks}
        totals = {w: 0 for w in weeks}
        counts = [{w: 0 for w in weeks} for _ in range(len(queries))]
        where = {"first_seen_ord": {"$in": list(week_at)}}
        for collection in (self.papers, self.seen) if week_at else ():
            for got in pages(collection, where=where, include=["embeddings", "metadatas"]):
                # undated imports and stubs have no week of their own: off the timeline
                labels = [None if m.get("dated") is False or m.get("stub") else week_at.get(m.get("first_seen_ord"))
                          for m in got["metadatas"]]
                for label in labels:
                    if label is not None:
                        totals[label] += 1
                if len(queries):
                    emb = np.asarray(got["embeddings"], dtype=np.float32)
                    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
                    near = (queries @ emb.T) >= cut[:, None]
                    for row, hits in enumerate(near):
                        for col in np.flatnonzero(hits):
                            label = labels[col]
                            if label is not None:
                                counts[row][label] += 1
        return totals, counts

    # -- stage 1's history (screening, issue 10) ----------------------------------------------------------

    def set_feedback(self, paper_id: str, value: str) -> bool:
        """Record the user's verdict ("good" | "bad") on a remembered paper; False when memory lacks it."""
        for collection in (self.papers, self.seen):
            got = collection.get(ids=[paper_id], include=["metadatas"])
            if got["ids"]:
                collection.update(ids=[paper_id], metadatas=[{**(got["metadatas"][0] or {}), "feedback": value}])
                return True
        return False

    def labelled_history(
        self, limit: int = 8000, before_week: str | None = None, feedback_weight: float = 5.0, cut_weight: float = 0.05,
        embeddings: bool = True,
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """The decisions stage 1 learns from: (ids, embeddings, labels, weights, texts), newest first.

        accepted / imported, and rejects the week's cap left out (`capped`: judged relevant) → 1, other
        rejects → 0 (weight 1); papers stage 1 cut without asking the LLM
        (status "cut") → 0 with `cut_weight`, as they were never judged; the user's feedback ("good" / "bad")
        overrides the label with `feedback_weight`. `before_week` keeps only papers first seen earlier, so a
        re-run of a week learns from exactly what its first run did. Texts are "title. abstract". Without
        `embeddings` the vectors are not read (a (n, 0) array): the caller embeds the texts with its own embedder.
        """
        where = {"first_seen_ord": {"$lt": week_ordinal(before_week)}} if before_week and week_ordinal(before_week) else None
        found = []  # metadata first (cheap), then embeddings and texts of the newest `limit` only
        for collection in (self.papers, self.seen):
            for got in pages(collection, where=where, include=["metadatas"]):
                found += [(int(m.get("first_seen_ord", 0)), pid, collection) for pid, m in zip(got["ids"], got["metadatas"])
                          if not m.get("stub")]  # a bare id (imported offline): no text to learn from
        found.sort(key=lambda r: (-r[0], r[1]))
        rows = []
        for collection in (self.papers, self.seen):
            wanted = [pid for _, pid, c in found[:limit] if c is collection]
            for start in range(0, len(wanted), self.batch_size):
                include = ["embeddings", "metadatas", "documents"] if embeddings else ["metadatas", "documents"]
                got = collection.get(ids=wanted[start:start + self.batch_size], include=include)
                vecs = got["embeddings"] if embeddings else [np.zeros(0, np.float32)] * len(got["ids"])
                rows += [(int(m.get("first_seen_ord", 0)), pid, emb, m, doc or "")
                         for pid, emb, m, doc in zip(got["ids"], vecs, got["metadatas"], got["documents"])]
        rows.sort(key=lambda r: (-r[0], r[1]))
        ids, vectors, labels, weights, texts = [], [], [], [], []
        for _, pid, emb, meta, doc in rows:
            status, feedback = meta.get("status", ""), meta.get("feedback", "")
            if feedback in ("good", "bad"):
                label, weight = int(feedback == "good"), feedback_weight
            elif meta.get("judged_by") == "offline":  # stage 1's own decisions: not a judge's label
                continue
            elif status == "imported" or judged_relevant(meta):
                label, weight = 1, 1.0
            elif status == "cut":
                label, weight = 0, cut_weight
            else:
                label, weight = 0, 1.0
            ids.append(pid)
            vectors.append(np.asarray(emb, dtype=np.float32))
            labels.append(label)
            weights.append(weight)
            texts.append(f"{meta.get('title', '')}. {abstract_of(meta, doc)}")
        dim = len(vectors[0]) if vectors else 0
        return (ids, np.vstack(vectors) if vectors else np.zeros((0, dim), np.float32), np.array(labels, dtype=int),
                np.array(weights, dtype=float), texts)

    def count(self) -> int:
        return int(self.papers.count())

    def stats(self) -> dict[str, Any]:
        """What memory holds: counts by status and by first-seen week, where it lives, its size on disk."""
        weeks: dict[str, int] = {}
        statuses: dict[str, int] = {}
        undated = stubs = 0
        for collection in (self.papers, self.seen):
            for got in pages(collection, include=["metadatas"]):
                for meta in got["metadatas"]:
                    statuses[meta.get("status", "")] = statuses.get(meta.get("status", ""), 0) + 1
                    if collection is self.papers:
                        weeks[meta.get("first_seen", "")] = weeks.get(meta.get("first_seen", ""), 0) + 1
                    undated += meta.get("dated") is False
                    stubs += bool(meta.get("stub"))
        return {
            "location": self.location,
            "embedder": self.embedder_name,
            "papers": self.papers.count(),
            "seen_rejected": self.seen.count(),
            "by_status": dict(sorted(statuses.items())),
            "by_first_seen_week": dict(sorted(weeks.items())),
            "undated_imports": undated,
            "stubs": stubs,
            "disk_bytes": self.disk_bytes(),
        }

    def disk_bytes(self) -> int | None:
        """Bytes under the local Chroma directory (None for a server: its disk is not ours to measure)."""
        if self.path is None or not Path(self.path).exists():
            return None
        return sum(f.stat().st_size for f in Path(self.path).rglob("*") if f.is_file())
