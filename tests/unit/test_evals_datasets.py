"""Eval datasets and criteria: every format `brief eval --dataset/--criteria` reads, and the shipped set."""

import json
from pathlib import Path

import pytest

from brief.config import ConfigError, Criteria, Topic
from brief.evals import datasets as ds
from brief.evals.criteria import gold_topic, load_criteria, parse_topics_text

CRITERIA = Criteria(topics=[Topic(name="Near-Field Cosmology", description="dwarfs"),
                            Topic(name="Stellar Models", description="tracks")])
TOPICS_TEXT = """## Relevant Topics

Use the following relevance criteria when considering which papers to keep.

1. Near-Field Cosmology
   - Relevant: dwarf satellite galaxies of the Milky Way.
   - Irrelevant: the stellar disk and bar.

2. Shows new powerful test set contamination or membership inference methods for language models.
    - Relevant: test statistics that detect contamination.
    - Not relevant: papers that do not consider language models.

 In suggesting papers to your friend, remember that he enjoys statistics.

**Keywords:**

- Relevant: core-cusp, satellite quenching
- Irrelevant: bar, Galactic center
"""


def test_topics_text_becomes_criteria():  # through the product's importer (agents/criteria_import.py)
    c = parse_topics_text(TOPICS_TEXT)
    assert [t.name for t in c.topics][0] == "Near-Field Cosmology"
    assert c.topics[0].relevant.startswith("dwarf satellite") and c.topics[0].not_relevant.startswith("the stellar disk")
    assert c.topics[1].name and c.topics[1].description.startswith("Shows new powerful")
    assert c.topics[1].not_relevant.startswith("papers that do not")
    assert c.include_keywords == ["core-cusp", "satellite quenching"]
    assert "enjoys statistics" in c.interests and "Galactic center" in c.interests


def test_one_line_criterion_and_toml_criteria(tmp_path):
    one = tmp_path / "topic.txt"
    one.write_text("systematic literature reviews in software engineering\n")
    criteria, screening = load_criteria(one)
    assert [t.description for t in criteria.topics] == ["systematic literature reviews in software engineering"]
    assert criteria.topics[0].name.lower() == "systematic literature reviews in software engineering"
    assert screening is None
    toml = tmp_path / "brief.toml"
    toml.write_text('[criteria]\n[[criteria.topics]]\nname = "A"\ndescription = "a"\n[screening]\nsimilarity_threshold = 0.5\n')
    criteria, screening = load_criteria(toml)
    assert criteria.topics[0].name == "A" and screening.similarity_threshold == 0.5
    bad = tmp_path / "bad.toml"
    bad.write_text('[criteria]\ntopics = []\n')
    with pytest.raises(ConfigError, match="bad.toml"):
        load_criteria(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_criteria(tmp_path / "missing.txt")


def test_gold_topic_from_a_labellers_comment():
    assert gold_topic("Matches criteria 2 (stellar tracks) and 1.", CRITERIA) == "Stellar Models"
    assert gold_topic("directly matches the 'Near-Field Cosmology' criterion", CRITERIA) == "Near-Field Cosmology"
    assert gold_topic("unrelated", CRITERIA) is None


def test_jsonl_with_labels_and_dates(tmp_path, caplog):
    path = tmp_path / "set.jsonl"
    rows = [
        {"arxiv_id": "2605.00001v2", "title": "A", "abstract": "x", "label": 1, "source_file_date": "2026-05-14",
         "COMMENT": "Matches criterion 2"},
        {"arxiv_id": "2605.00002", "title": "B", "abstract": "y", "label": 0, "source_file_date": "2026-05-21"},
        {"arxiv_id": "2605.00001", "title": "A again", "abstract": "x", "label": 0, "source_file_date": "2026-05-22"},
        {"arxiv_id": "2605.00003", "title": "", "label": 1},
        {"arxiv_id": "2605.00004", "title": "D", "abstract": "z", "label": "maybe"},
        {"arxiv_id": "2605.00005", "title": "E", "abstract": "w"},  # unlabelled: unknown, skipped without a word
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with caplog.at_level("WARNING", logger="brief.evals.datasets"):
        d = ds.load(str(path), CRITERIA)
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: 1 records skipped: their label (first: 'maybe') is not 1/0, yes/no or true/false",
        f"{path}: 1 records without a title skipped"]
    assert [(i.paper.id, i.label, i.week) for i in d.items] == [("2605.00001", 1, "2026-W20"), ("2605.00002", 0, "2026-W21")]
    assert d.items[0].paper.version == 2 and d.items[0].topic == "Stellar Models"
    assert d.weeks == ["2026-W20", "2026-W21"] and d.positives == 1


def test_relevance_needs_a_threshold_and_output_json_dicts(tmp_path):
    day = tmp_path / "2026-02-03-output.json"
    day.write_text(json.dumps({
        "2602.00001": {"title": "Dwarf satellites", "abstract": "arXiv:2602.00001v1 Announce Type: new  Abstract: Satellites.",
                       "authors": ["A B"], "RELEVANCE": 8, "COMMENT": "the Near-Field Cosmology criterion"},
        "2602.00002": {"title": "Black holes", "abstract": "SMBH.", "authors": ["C D"], "RELEVANCE": 3},
    }))
    with pytest.raises(ds.DatasetError, match="--positive-threshold"):
        ds.load(str(tmp_path), CRITERIA)
    d = ds.load(str(tmp_path / "2026-02-*"), CRITERIA, positive_threshold=7)
    first = d.items[0]
    assert first.label == 1 and first.relevance == 8 and first.topic == "Near-Field Cosmology"
    assert first.paper.abstract == "Satellites." and first.paper.announced.isoformat() == "2026-02-03"
    assert [i.label for i in d.items] == [1, 0] and d.items[1].week == "2026-W06"


def test_csv_with_a_column_mapping(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text('Document Title,Abstract,Year,abs,label\n'
                    '"A systematic review of testing","We review, systematically, 40 studies.",2008,yes,no\n'
                    'Agile teams,A case study.,2007,no,no\n')
    d = ds.load(str(path), CRITERIA, columns=ds.Columns.parse(["label=abs"]))
    assert [(i.paper.title, i.label) for i in d.items] == [("A systematic review of testing", 1), ("Agile teams", 0)]
    assert d.items[0].paper.id.startswith("title:") and d.weeks == [ds.UNDATED]
    assert d.name == "k"
    with pytest.raises(ds.DatasetError, match="no column 'nope'"):
        ds.load(str(path), CRITERIA, columns=ds.Columns.parse(["title=nope"]))
    with pytest.raises(ds.DatasetError, match="FIELD=COLUMN"):
        ds.Columns.parse(["colour=red"])


def test_missing_dataset_is_a_user_error(tmp_path):
    with pytest.raises(ds.DatasetError, match="no dataset files"):
        ds.load(str(tmp_path / "nothing-*.jsonl"), CRITERIA)


def test_shipped_set_is_small_labelled_and_dated():
    root = Path(ds.__file__).parent / "data"
    assert sum(p.stat().st_size for p in root.iterdir()) <= 2_000_000
    sets = {d.name: d for d in ds.shipped()}
    assert set(sets) == {"astro", "cs"}
    for d in sets.values():
        assert len(d.items) >= 300 and 20 <= d.positives < len(d.items) / 4
        assert len(d.weeks) >= 3 and ds.UNDATED not in d.weeks
        assert d.screening is None, "the shipped set is screened with brief's defaults"
        assert any(i.topic for i in d.items if i.label), "positives carry the labeller's topic"
    assert sets["astro"].fingerprint() != sets["cs"].fingerprint()
