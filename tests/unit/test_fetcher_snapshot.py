import json
from datetime import date

from brief.agents.fetcher import build_sources, fetch, latest_window
from brief.ids import canonical_arxiv_id
from brief.sources.window import parse_week


def _line(pid, title="A title", summary="An abstract.", cats=("cs.RO",), authors=("A B",)):
    return json.dumps({"id": pid, "categories": list(cats), "authors": list(authors), "title": title, "summary": summary})


def test_canonical_ids():
    assert canonical_arxiv_id("2606.01234v3") == ("2606.01234", 3)
    assert canonical_arxiv_id("arXiv:hep-th/9901001") == ("hep-th/9901001", None)
    assert canonical_arxiv_id("https://arxiv.org/pdf/1707.08567v1") == ("1707.08567", 1)


def test_daily_files_dedup_and_take_their_date_from_the_name(tmp_path, settings):
    (tmp_path / "2026-06-08_x.jsonl").write_text(_line("2606.00001") + "\n" + _line("2606.00002") + "\n")
    (tmp_path / "2026-06-09_x.jsonl").write_text(_line("2606.00002v2", summary="A longer, richer abstract.") + "\n{broken\n")
    (tmp_path / "2026-06-20_x.jsonl").write_text(_line("2606.00003") + "\n")
    result = fetch(build_sources([f"snapshot:{tmp_path}"], settings), parse_week("2026-W24"))
    ids = [p.id for p in result.papers]
    assert ids == ["2606.00001", "2606.00002"]
    merged = result.papers[1]
    assert merged.version == 2 and merged.abstract == "A longer, richer abstract."
    assert merged.announced == date(2026, 6, 8), "earliest announcement kept"
    assert result.counts.duplicates_merged == 1 and result.counts.skipped_records == 1
    assert result.counts.by_day["2026-06-10"] == 0
    assert any("days had no announcements" in n for n in result.notes)


def test_author_names_written_in_tex_come_out_as_one_spelling(tmp_path, settings):
    # arXiv listings write accents in TeX; the watch-list, shared-author links and reports need the name itself
    tex = ["Ren\\'e D. Oudmaijer", "Johannes J{\\o}rgensen", "Loreto Barcos-Mu\\~noz", 'G\\"ulay G\\"urkan', "A. Plain"]
    (tmp_path / "2026-06-08_x.jsonl").write_text(_line("2606.00001", authors=tex) + "\n")
    result = fetch(build_sources([f"snapshot:{tmp_path}"], settings), parse_week("2026-W24"))
    assert result.papers[0].authors == ["René D. Oudmaijer", "Johannes Jørgensen", "Loreto Barcos-Muñoz",
                                        "Gülay Gürkan", "A. Plain"]


def test_only_a_silent_weekday_is_noted_arxiv_announces_nothing_at_weekends(tmp_path, settings):
    for day in ("08", "09", "11", "12"):  # Monday to Friday of 2026-W24 but Wednesday the 10th
        (tmp_path / f"2026-06-{day}_x.jsonl").write_text(_line(f"2606.000{day}") + "\n")
    result = fetch(build_sources([f"snapshot:{tmp_path}"], settings), parse_week("2026-W24"))
    assert result.counts.empty_days == ["2026-06-10", "2026-06-13", "2026-06-14"]
    assert [n for n in result.notes if "announcements" in n] == ["1 weekday had no announcements: 2026-06-10"]
    (tmp_path / "2026-06-10_x.jsonl").write_text(_line("2606.00010") + "\n")
    result = fetch(build_sources([f"snapshot:{tmp_path}"], settings), parse_week("2026-W24"))
    assert not [n for n in result.notes if "announcements" in n], "a quiet weekend is no news"


def test_the_default_week_is_the_newest_the_snapshot_covers_to_its_friday(tmp_path, settings):
    for day in ("2026-06-10", "2026-06-12", "2026-06-15"):  # W24 Wed and Fri, then W25's Monday only
        (tmp_path / f"{day}_x.jsonl").write_text(_line(f"2606.{day[-2:]}001") + "\n")
    sources = build_sources([f"snapshot:{tmp_path}"], settings)
    assert latest_window(sources, date(2030, 1, 1)).label == "2026-W24", "not the week it stops in on Monday"
    result = fetch(sources, parse_week("2026-W25"))  # chosen by --week: its missing days are not "no announcements"
    assert [n for n in result.notes if "2026-06-16" in n] == [
        "the snapshot ends on 2026-06-15: 4 weekdays of this week (2026-06-16, 2026-06-17, 2026-06-18, 2026-06-19) "
        "are not in it, so this briefing covers part of the week"]
    (tmp_path / "2026-06-10_x.jsonl").unlink()
    (tmp_path / "2026-06-12_x.jsonl").unlink()
    assert latest_window(build_sources([f"snapshot:{tmp_path}"], settings), date(2030, 1, 1)).label == "2026-W25", \
        "a snapshot of one part-week still briefs it"


def test_sample_latest_week_is_w24(settings):
    sources = build_sources(["sample"], settings)
    window = latest_window(sources, date(2030, 1, 1))
    assert window.label == "2026-W24"
    result = fetch(sources, window)
    assert 300 < result.counts.unique < 600
    assert len({p.id for p in result.papers}) == result.counts.unique


def test_an_empty_week_says_so(tmp_path, settings):
    (tmp_path / "2026-06-08_x.jsonl").write_text(_line("2606.00001") + "\n")
    result = fetch(build_sources([f"snapshot:{tmp_path}"], settings), parse_week("2026-W30"))
    assert result.papers == []
    assert any("no papers were announced" in n and "7 days had no announcements" in n for n in result.notes)


def test_a_journals_notices_are_listed_not_screened_by_their_title_or_their_item_type():
    from brief.models import Paper

    day = date(2026, 6, 10)

    class Journal:
        name = "journal"

        def fetch(self, window):
            return [Paper(id="doi:10.1/a", title="Integrated single-cell atlas", abstract="a", announced=day,
                          categories=["Genomics"]),
                    Paper(id="doi:10.1/b", title="Author Correction: Integrated single-cell atlas", abstract="", announced=day),
                    Paper(id="doi:10.1/c", title="A retracted claim about CRISPR screens", abstract="", announced=day,
                          categories=["Retraction"])]

    result = fetch([Journal()], parse_week("2026-W24"))
    assert [p.id for p in result.papers] == ["doi:10.1/a"]
    assert any(n.startswith("2 notices (corrections, retractions) not screened as papers") and "A retracted claim" in n
               for n in result.notes), result.notes


def test_a_preprint_and_its_published_version_in_one_week_are_one_paper():
    from brief.models import Paper

    day = date(2026, 6, 10)
    title = "Gaussian Splatting for Robot Manipulation at Scale"

    class Arxiv:
        name = "arxiv"

        def fetch(self, window):
            return [Paper(id="2606.01234", version=2, title=title, abstract="We splat. " * 20, authors=["Ann Lee", "Bo Chen"],
                          announced=day),
                    Paper(id="2606.05555", title="Editorial", abstract="x", announced=day),
                    Paper(id="2606.07777", title="Learning to grasp transparent objects from video", abstract="y",
                          authors=["Cy Wu"], announced=day)]

    class Journal:
        name = "journal"

        def fetch(self, window):
            return [Paper(id="doi:10.1038/s1", title=r"Gaussian splatting for robot manipulation at scale", abstract="We splat.",
                          authors=["A. Lee"], journal_ref="Nature Methods 23, 1", announced=day),
                    Paper(id="doi:10.1038/s2", title="Editorial", abstract="z", announced=day),  # too short to tell
                    Paper(id="doi:10.1038/s3", title="Learning to grasp transparent objects from video", abstract="w",
                          authors=["Di Xu"], announced=day)]  # same title, no author in common: another paper

    result = fetch([Arxiv(), Journal()], parse_week("2026-W24"))
    ids = [p.id for p in result.papers]
    assert sorted(ids) == ["2606.01234", "2606.05555", "2606.07777", "doi:10.1038/s2", "doi:10.1038/s3"]
    merged = next(p for p in result.papers if p.id == "2606.01234")
    assert merged.doi == "10.1038/s1" and merged.journal_ref == "Nature Methods 23, 1" and merged.version == 2
    assert result.counts.duplicates_merged == 1 and result.counts.unique == 5
    assert any(n.startswith("1 paper arrived under two ids") and title in n for n in result.notes), result.notes
