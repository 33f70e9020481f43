"""Fields over the arXiv taxonomy: what "cross-field" means in links and bridges.

cs.AI, cs.CL, cs.LG, cs.CV, cs.IR, cs.MA and cs.NE (and stat.ML) are one field, "AI/ML": a cs.AI paper tied to a
cs.CL paper is not news. Robotics (cs.RO), the rest of computer science, electrical engineering and signal
processing (eess.*), statistics (stat.*), mathematics, physics (astro-ph.*, cond-mat.*, physics.*, hep-*, gr-qc,
quant-ph, nucl-*), quantitative biology (q-bio.*), finance and economics (q-fin.*, econ.*) are fields of their own.
"""

from __future__ import annotations

AI_ML = frozenset({"cs.AI", "cs.CL", "cs.LG", "cs.CV", "cs.IR", "cs.MA", "cs.NE", "stat.ML"})
_BY_ARCHIVE = {
    "eess": "Electrical engineering & signals", "stat": "Statistics", "math": "Mathematics",
    "q-bio": "Quantitative biology", "q-fin": "Finance & economics", "econ": "Finance & economics",
    "astro-ph": "Physics", "cond-mat": "Physics", "physics": "Physics", "gr-qc": "Physics", "quant-ph": "Physics",
    "hep-th": "Physics", "hep-ph": "Physics", "hep-ex": "Physics", "hep-lat": "Physics", "nucl-th": "Physics",
    "nucl-ex": "Physics", "nlin": "Physics", "math-ph": "Physics",
}


def field_of(category: str) -> str:
    """The field of an arXiv category: "cs.CL" → "AI/ML", "cs.RO" → "Robotics", "astro-ph.GA" → "Physics"."""
    if category in AI_ML:
        return "AI/ML"
    if category == "cs.RO":
        return "Robotics"
    archive = category.split(".")[0]
    if archive == "cs":
        return "Computer science"
    return _BY_ARCHIVE.get(archive, archive or "unknown")


def cross_field(a: str, b: str) -> bool:
    """Whether two primary categories lie in different fields (both known)."""
    return bool(a) and bool(b) and field_of(a) != field_of(b)
