"""Persistent vector memory of papers: the only module that talks to Chroma.

Two collections: `papers` (accepted and imported papers: what links point to) and `seen` (rejected
papers, remembered so nothing is screened twice). Embeddings always come from our own embedder and are
passed explicitly: Chroma's default embedder would try to download a model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from brief.models import Paper

log = logging.getLogger(__name__)
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
_BATCH = 4000  # under Chroma's max batch of 5461


class MemoryStoreError(RuntimeError):
    """Memory can't be opened or used as asked; the message says how to fix it."""


class Record(BaseModel):
    id: str
    title: str
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    first_seen: str
    last_seen: str
    status: str = "accepted"
    version: int = 0
    topic: str = ""
    tldr: str = ""
    abstract: str = ""
    url: str = ""
    similarity: float | None = None

    @property
    def primary_archive(self) -> str:
        return (self.categories[0] if self.categories else "unknown").split(".")[0]


def week_ordinal(week: str) -> int:
    """`2026-W24` → 202624, so Chroma can filter `first seen before this week` numerically."""
    year, _, num = week.partition("-W")
    try:
        return int(year) * 100 + int(num)
    except ValueError:
        return 0


class Memory:
    def __init__(self, path: Path | None, embedder_name: str, host: str | None = None, port: int = 8000):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if host:
                self.client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
                self.location = f"http://{host}:{port}"
            else:
                assert path is not None
                path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                self.location = str(path)
        except Exception as exc:  # chroma raises many kinds; all mean "can't open"
            raise MemoryStoreError(f"cannot open memory at {host or path}: {exc}") from None
        self.embedder_name = embedder_name
        self.papers = self._collection("papers")
        self.seen = self._collection("seen")

    def _collection(self, name: str):
        collection = self.client.get_or_create_collection(
            name,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedder": self.embedder_name},
        )
        stored = (collection.metadata or {}).get("embedder")
        if stored and stored != self.embedder_name:
            raise MemoryStoreError(
                f"memory at {self.location} was built with embedder {stored!r}, not {self.embedder_name!r}: "
                "set [memory] embedder back, or use another --memory-dir"
            )
        return collection

    # -- writing ---------------------------------------------------------------------------------------

    def remember(
        self,
        papers: list[Paper],
        embeddings: np.ndarray,
        week: str,
        status: str = "accepted",
        topics: dict[str, str] | None = None,
        tldrs: dict[str, str] | None = None,
    ) -> int:
        """Upsert papers; keeps each paper's first-seen week. Returns how many were new to this collection."""
        if not papers:
            return 0
        collection = self.papers if status in ("accepted", "imported") else self.seen
        existing = self._existing(collection, [p.id for p in papers])
        topics, tldrs = topics or {}, tldrs or {}
        metadatas = []
        for paper in papers:
            old = existing.get(paper.id, {})
            first = old.get("first_seen", week)
            if week_ordinal(week) and week_ordinal(first) > week_ordinal(week):
                first = week
            metadatas.append(
                {
                    "title": paper.title,
                    "authors": "; ".join(paper.authors[:50]),
                    "categories": " ".join(paper.categories),
                    "primary": paper.primary_archive,
                    "first_seen": first,
                    "first_seen_ord": week_ordinal(first),
                    "last_seen": max(week, old.get("last_seen", week), key=week_ordinal),
                    "status": old.get("status", status) if status == "imported" else status,
                    "version": max(paper.version or 0, int(old.get("version", 0))),
                    "topic": topics.get(paper.id, old.get("topic", "")),
                    "tldr": tldrs.get(paper.id, old.get("tldr", ""))[:1000],
                    "url": paper.url or "",
                }
            )
        for start in range(0, len(papers), _BATCH):
            chunk = slice(start, start + _BATCH)
            collection.upsert(
                ids=[p.id for p in papers[chunk]],
                embeddings=np.asarray(embeddings[chunk], dtype=np.float32).tolist(),
                documents=[p.abstract[:4000] for p in papers[chunk]],
                metadatas=metadatas[chunk],
            )
        return sum(1 for p in papers if p.id not in existing)

    def forget(self, paper_id: str) -> bool:
        found = False
        for collection in (self.papers, self.seen):
            if collection.get(ids=[paper_id])["ids"]:
                collection.delete(ids=[paper_id])
                found = True
        return found

    # -- reading ---------------------------------------------------------------------------------------

    def _existing(self, collection, ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for start in range(0, len(ids), _BATCH):
            got = collection.get(ids=ids[start : start + _BATCH], include=["metadatas"])
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
        for collection in (self.papers, self.seen):
            got = collection.get(ids=[paper_id], include=["metadatas", "documents"])
            if got["ids"]:
                return _record(got["ids"][0], got["metadatas"][0], got["documents"][0])
        return None

    def neighbours(self, embeddings: np.ndarray, before_week: str | None, k: int) -> list[list[Record]]:
        """For each query vector, its k nearest remembered papers first seen before `before_week`."""
        if self.papers.count() == 0 or len(embeddings) == 0:
            return [[] for _ in range(len(embeddings))]
        where = {"first_seen_ord": {"$lt": week_ordinal(before_week)}} if before_week else None
        result = self.papers.query(
            query_embeddings=np.asarray(embeddings, dtype=np.float32).tolist(),
            n_results=min(k, self.papers.count()),
            where=where,
            include=["metadatas", "distances", "documents"],
        )
        return [
            [
                _record(pid, meta, doc, similarity=1.0 - dist)
                for pid, meta, doc, dist in zip(ids, metas, docs, dists)
            ]
            for ids, metas, docs, dists in zip(
                result["ids"], result["metadatas"], result["documents"], result["distances"]
            )
        ]

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
        for collection in (self.papers, self.seen):
            offset = 0
            while week_at:
                got = collection.get(where=where, include=["embeddings", "metadatas"], limit=5000, offset=offset)
                if not got["ids"]:
                    break
                labels = [week_at.get(m.get("first_seen_ord")) for m in got["metadatas"]]
                for label in labels:
                    totals[label] += 1
                if len(queries):
                    emb = np.asarray(got["embeddings"], dtype=np.float32)
                    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
                    near = (queries @ emb.T) >= cut[:, None]
                    for row, hits in enumerate(near):
                        for col in np.flatnonzero(hits):
                            counts[row][labels[col]] += 1
                if len(got["ids"]) < 5000:
                    break
                offset += 5000
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
        self, limit: int = 20000, before_week: str | None = None, feedback_weight: float = 5.0, cut_weight: float = 0.2
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """The decisions stage 1 learns from: (ids, embeddings, labels, weights, texts), newest first.

        accepted / imported → 1 and rejected → 0 (weight 1); papers stage 1 cut without asking the LLM
        (status "cut") → 0 with `cut_weight`, as they were never judged; the user's feedback ("good" / "bad")
        overrides the label with `feedback_weight`. `before_week` keeps only papers first seen earlier, so a
        re-run of a week learns from exactly what its first run did. Texts are "title. abstract".
        """
        rows = []
        where = {"first_seen_ord": {"$lt": week_ordinal(before_week)}} if before_week and week_ordinal(before_week) else None
        for collection in (self.papers, self.seen):
            offset = 0
            while True:
                got = collection.get(where=where, include=["embeddings", "metadatas", "documents"], limit=5000, offset=offset)
                for pid, emb, meta, doc in zip(got["ids"], got["embeddings"], got["metadatas"], got["documents"]):
                    rows.append((int(meta.get("first_seen_ord", 0)), pid, emb, meta, doc or ""))
                if len(got["ids"]) < 5000:
                    break
                offset += 5000
        rows.sort(key=lambda r: (-r[0], r[1]))
        rows = rows[:limit]
        ids, vectors, labels, weights, texts = [], [], [], [], []
        for _, pid, emb, meta, doc in rows:
            status, feedback = meta.get("status", ""), meta.get("feedback", "")
            if feedback in ("good", "bad"):
                label, weight = int(feedback == "good"), feedback_weight
            elif status in ("accepted", "imported"):
                label, weight = 1, 1.0
            elif status == "cut":
                label, weight = 0, cut_weight
            else:
                label, weight = 0, 1.0
            ids.append(pid)
            vectors.append(np.asarray(emb, dtype=np.float32))
            labels.append(label)
            weights.append(weight)
            texts.append(f"{meta.get('title', '')}. {doc}")
        dim = len(vectors[0]) if vectors else 0
        return (ids, np.vstack(vectors) if vectors else np.zeros((0, dim), np.float32), np.array(labels, dtype=int),
                np.array(weights, dtype=float), texts)

    def count(self) -> int:
        return self.papers.count()

    def stats(self) -> dict:
        weeks: dict[str, int] = {}
        offset = 0
        while True:
            got = self.papers.get(include=["metadatas"], limit=5000, offset=offset)
            for meta in got["metadatas"]:
                weeks[meta["first_seen"]] = weeks.get(meta["first_seen"], 0) + 1
            if len(got["ids"]) < 5000:
                break
            offset += 5000
        return {
            "location": self.location,
            "embedder": self.embedder_name,
            "papers": self.papers.count(),
            "seen_rejected": self.seen.count(),
            "by_first_seen_week": dict(sorted(weeks.items())),
        }


def _record(pid: str, meta: dict, doc: str | None, similarity: float | None = None) -> Record:
    return Record(
        id=pid,
        title=meta.get("title", ""),
        authors=[a for a in meta.get("authors", "").split("; ") if a],
        categories=meta.get("categories", "").split(),
        first_seen=meta.get("first_seen", ""),
        last_seen=meta.get("last_seen", ""),
        status=meta.get("status", ""),
        version=int(meta.get("version", 0)),
        topic=meta.get("topic", ""),
        tldr=meta.get("tldr", ""),
        abstract=doc or "",
        url=meta.get("url", ""),
        similarity=None if similarity is None else round(float(similarity), 4),
    )
