"""Tests of companion.research: the chessboard, the reading plan, the hypothesis log."""

from __future__ import annotations

import itertools
import math
import pathlib
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from companion.research import (  # noqa: E402
    EVIDENCE_KINDS,
    Chessboard,
    Evidence,
    Hypothesis,
    ReadingPlan,
    ResearchLog,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"

SMALL_BIB = """
% a comment line is not an entry
@inproceedings{goyal2017accurate,
  author  = {Goyal, Priya and others},
  title   = {Accurate, Large Minibatch {SGD}},
  year    = {2017},
  problem = {large-batch training},
  method  = {learning-rate schedules, stochastic gradient}
}
@inproceedings{kingma2015adam,
  title   = {Adam},
  year    = {2015},
  problem = {optimization},
  method  = {adaptive learning rates, momentum}
}
@article{polyak1964some,
  title   = {Some methods},
  year    = {1964},
  problem = {optimization},
  method  = {momentum}
}
"""

TEXTBOOK = """
@book{goodfellow2016deep,
  title     = {Deep Learning},
  publisher = {MIT Press},
  year      = {2016}
}
"""


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- strategies
LABELS = st.sampled_from(["p0", "p1", "p2", "p3"])
METHODS = st.sampled_from(["m0", "m1", "m2", "m3", "m4"])


@st.composite
def boards(draw: st.DrawFn) -> tuple[Chessboard, dict[str, tuple[list[str], list[str]]]]:
    """A random board and the papers it was built from."""
    n = draw(st.integers(1, 12))
    papers = {}
    for i in range(n):
        problems = draw(st.lists(LABELS, min_size=1, max_size=3, unique=True))
        methods = draw(st.lists(METHODS, min_size=1, max_size=3, unique=True))
        papers[f"key{i}"] = (problems, methods)
    board = Chessboard()
    for key, (ps, ms) in papers.items():
        board.add(key, ps, ms)
    return board, papers


# ----------------------------------------------------------------------------- Chessboard
class TestChessboardKnownAnswers:
    def test_from_small_bibtex(self) -> None:
        board = Chessboard.from_bibtex(SMALL_BIB)
        assert board.problems == ["large-batch training", "optimization"]
        assert board.methods == ["learning-rate schedules", "stochastic gradient", "adaptive learning rates", "momentum"]
        assert board.keys == ["goyal2017accurate", "kingma2015adam", "polyak1964some"]
        assert board.cell("optimization", "momentum") == ("kingma2015adam", "polyak1964some")
        assert board.gaps() == [
            ("large-batch training", "adaptive learning rates"),
            ("large-batch training", "momentum"),
            ("optimization", "learning-rate schedules"),
            ("optimization", "stochastic gradient"),
        ]
        assert board.ranked_gaps() == [
            (("large-batch training", "momentum"), 2),
            (("optimization", "learning-rate schedules"), 2),
            (("optimization", "stochastic gradient"), 2),
            (("large-batch training", "adaptive learning rates"), 1),
        ]
        assert board.crowded(2) == [
            (("optimization", "momentum"), 2),
            (("large-batch training", "learning-rate schedules"), 1),
        ]
        assert board.skipped == ()
        assert len(board) == 3 and board.shape == (2, 4)
        assert "kingma2015adam" in board and "nobody" not in board
        assert repr(board) == "Chessboard(3 papers, 2 problems x 4 methods, 4 gaps)"

    def test_path_and_text_give_the_same_board(self, tmp_path: pathlib.Path) -> None:
        path = tmp_path / "small.bib"
        path.write_text(SMALL_BIB, encoding="utf-8")
        from_text = Chessboard.from_bibtex(SMALL_BIB)
        for source in (path, str(path)):
            board = Chessboard.from_bibtex(source)
            assert board.to_markdown() == from_text.to_markdown()

    def test_a_path_containing_an_at_sign_is_a_path(self, tmp_path: pathlib.Path) -> None:
        folder = tmp_path / "me@lab"
        folder.mkdir()
        path = folder / "refs@2024.bib"
        path.write_text(SMALL_BIB, encoding="utf-8")
        expected = Chessboard.from_bibtex(SMALL_BIB).to_markdown()
        assert Chessboard.from_bibtex(path).to_markdown() == expected
        assert Chessboard.from_bibtex(str(path)).to_markdown() == expected
        with pytest.raises(FileNotFoundError, match="nope@x.bib"):
            Chessboard.from_bibtex(tmp_path / "nope@x.bib")

    def test_a_comma_inside_braces_does_not_split_a_label(self) -> None:
        board = Chessboard.from_bibtex("@misc{a, problem = {{Smith, Jones} effect, other}, method = {m}}")
        assert board.problems == ["Smith, Jones effect", "other"]

    def test_a_bar_in_a_label_is_escaped_in_markdown(self) -> None:
        board = Chessboard(problems=["p|q"], methods=["m", "a|b"])
        board.add("k", "p|q", "a|b")
        table = board.to_markdown(gap="|")
        header, rule, row = table.splitlines()
        assert header == "| problem \\ method | m | a\\|b |"
        assert row == "| p\\|q | \\| | k |"
        # every line has the same number of unescaped cell separators as the rule
        count = lambda line: len(re.findall(r"(?<!\\)\|", line))  # noqa: E731
        assert count(header) == count(rule) == count(row) == 4

    def test_a_latin1_file_is_named_with_its_encoding(self, tmp_path: pathlib.Path) -> None:
        path = tmp_path / "latin.bib"
        path.write_bytes("@misc{a, problem = {r\u00e9gularisation}, method = {m}}".encode("latin-1"))
        with pytest.raises(ValueError, match=r"latin\.bib' is not valid utf-8 text .*encoding='latin-1'"):
            Chessboard.from_bibtex(path)
        board = Chessboard.from_bibtex(path, encoding="latin-1")
        assert board.problems == ["r\u00e9gularisation"]
        with pytest.raises(ValueError, match="encoding 'no-such-codec' is not a known text encoding"):
            Chessboard.from_bibtex(path, encoding="no-such-codec")

    def test_braces_and_whitespace_are_removed(self) -> None:
        bib = "@misc{a, problem = {{ImageNet}   classification}, method = { residual\n connections }}"
        board = Chessboard.from_bibtex(bib)
        assert board.problems == ["ImageNet classification"]
        assert board.methods == ["residual connections"]

    def test_field_names_are_case_insensitive(self) -> None:
        board = Chessboard.from_bibtex("@misc{a, Problem = {p}, METHOD = {m}}")
        assert board.cell("p", "m") == ("a",)

    def test_skip_records_textbooks(self) -> None:
        board = Chessboard.from_bibtex(SMALL_BIB + TEXTBOOK, missing="skip")
        assert board.skipped == ("goodfellow2016deep",)
        assert "goodfellow2016deep" not in board
        assert len(board) == 3

    def test_skip_with_only_textbooks_gives_an_empty_board(self) -> None:
        board = Chessboard.from_bibtex(TEXTBOOK, missing="skip")
        assert len(board) == 0 and board.shape == (0, 0) and board.gaps() == []
        assert board.skipped == ("goodfellow2016deep",)

    def test_course_bibliography(self) -> None:
        board = Chessboard.from_bibtex(BIB, missing="skip")
        assert len(board) >= 30
        assert "goyal2017accurate" in board
        assert "goodfellow2016deep" in board.skipped and "keshav2007read" in board.skipped
        # every entry of the file is either on the board or skipped, never dropped
        import bibtexparser

        keys = [e.key for e in bibtexparser.parse_file(str(BIB)).entries]
        assert sorted(keys) == sorted(board.keys + list(board.skipped))

    def test_declared_axes_keep_their_order_and_empty_rows(self) -> None:
        board = Chessboard(problems=["b", "a"], methods=["y"])
        board.add("k", "a", ["x", "y"])
        assert board.problems == ["b", "a"] and board.methods == ["y", "x"]
        assert board.gaps() == [("b", "y"), ("b", "x")]

    def test_add_one_paper_in_many_cells(self) -> None:
        board = Chessboard()
        board.add("he2016deep", ["vanishing gradients", "image classification"], ("residual connections",))
        assert board.paper("he2016deep") == (("vanishing gradients", "image classification"), ("residual connections",))
        assert board.count("image classification", "residual connections") == 1

    def test_select(self) -> None:
        board = Chessboard.from_bibtex(SMALL_BIB)
        small = board.select(problems=["optimization"], methods=["momentum", "adaptive learning rates"])
        assert small.problems == ["optimization"]
        assert small.methods == ["momentum", "adaptive learning rates"]
        assert small.keys == ["kingma2015adam", "polyak1964some"]  # goyal is outside the selection
        assert small.gaps() == []
        assert board.select().to_markdown() == board.to_markdown()

    def test_to_dataframe(self) -> None:
        board = Chessboard.from_bibtex(SMALL_BIB)
        keys = board.to_dataframe()
        counts = board.to_dataframe(counts=True)
        assert isinstance(keys, pd.DataFrame)
        assert keys.shape == counts.shape == (2, 4)
        assert keys.loc["optimization", "momentum"] == "kingma2015adam, polyak1964some"
        assert keys.loc["optimization", "stochastic gradient"] == ""
        assert counts.loc["optimization", "momentum"] == 2
        assert list(counts.index) == board.problems and list(counts.columns) == board.methods

    def test_to_markdown(self) -> None:
        board = Chessboard()
        board.add("a", "p", ["m", "n"])
        board.add("b", "q", "m")
        assert board.to_markdown().splitlines() == [
            "| problem \\ method | m | n |",
            "|---|---|---|",
            "| p | a | a |",
            "| q | b | · |",
        ]
        assert board.to_markdown(counts=True, gap="").splitlines()[3] == "| q | 1 |  |"
        assert "{cite:p}`a`" in board.to_markdown(cite=True)

    @pytest.mark.parametrize("annotate", ["keys", "counts", "none"])
    def test_plot(self, annotate: str) -> None:
        board = Chessboard.from_bibtex(SMALL_BIB)
        fig = board.plot(annotate=annotate, max_keys=1)
        assert isinstance(fig, Figure)
        ax = fig.axes[0]
        assert ax.get_xlabel() == "method" and ax.get_ylabel() == "problem or application"
        assert ax.get_title() == "Chessboard: 3 papers, 4 of 8 cells empty"
        # one hatched rectangle per gap
        assert sum(1 for p in ax.patches if p.get_hatch() == "//") == len(board.gaps())
        texts = [t.get_text() for t in ax.texts]
        if annotate == "keys":
            assert "kingma2015adam\n+1" in texts
        elif annotate == "counts":
            assert sorted(texts) == ["1", "1", "1", "2"]
        else:
            assert texts == []

    def test_plot_on_given_axes(self) -> None:
        fig, ax = plt.subplots()
        board = Chessboard.from_bibtex(SMALL_BIB)
        assert board.plot(ax=ax, title="mine") is fig
        assert ax.get_title() == "mine"


class TestChessboardLaws:
    @given(boards())
    def test_cells_partition(self, data) -> None:
        board, papers = data
        rows, cols = board.shape
        filled = [(p, m) for p in board.problems for m in board.methods if board.cell(p, m)]
        assert len(filled) + len(board.gaps()) == rows * cols
        assert set(filled).isdisjoint(board.gaps())

    @given(boards())
    def test_each_paper_fills_its_product(self, data) -> None:
        board, papers = data
        for key, (ps, ms) in papers.items():
            for p, m in itertools.product(board.problems, board.methods):
                assert (key in board.cell(p, m)) == (p in ps and m in ms)
        total = int(board.to_dataframe(counts=True).to_numpy().sum())
        assert total == sum(len(ps) * len(ms) for ps, ms in papers.values())

    @given(boards(), st.integers(1, 30))
    def test_crowded_is_sorted_and_consistent(self, data, n) -> None:
        board, _ = data
        top = board.crowded(n)
        counts = [c for _, c in top]
        assert counts == sorted(counts, reverse=True)
        assert all(c == board.count(*cell) >= 1 for cell, c in top)
        everything = board.crowded(10_000)
        assert top == everything[:n]
        if len(everything) > n:
            assert counts[-1] >= everything[n][1]

    @given(boards())
    def test_ranked_gaps(self, data) -> None:
        board, papers = data
        ranked = board.ranked_gaps()
        assert sorted(g for g, _ in ranked) == sorted(board.gaps())
        scores = [s for _, s in ranked]
        assert scores == sorted(scores, reverse=True)
        for (p, m), score in ranked:
            in_row = sum(1 for ps, _ in papers.values() if p in ps)
            in_col = sum(1 for _, ms in papers.values() if m in ms)
            assert score == in_row * in_col
        assert board.ranked_gaps(1) == ranked[:1]

    @given(boards())
    def test_bibtex_round_trip(self, data) -> None:
        board, papers = data
        bib = "\n".join(
            f"@misc{{{key}, problem = {{{', '.join(ps)}}}, method = {{{', '.join(ms)}}}}}"
            for key, (ps, ms) in papers.items()
        )
        again = Chessboard.from_bibtex(bib)
        assert again.to_markdown() == board.to_markdown()
        assert again.gaps() == board.gaps()

    @given(boards(), st.data())
    def test_select_keeps_cells(self, data, draw) -> None:
        board, _ = data
        rows = draw.draw(st.lists(st.sampled_from(board.problems), min_size=1, unique=True))
        cols = draw.draw(st.lists(st.sampled_from(board.methods), min_size=1, unique=True))
        small = board.select(rows, cols)
        for p, m in itertools.product(rows, cols):
            assert small.cell(p, m) == board.cell(p, m)
        assert set(small.gaps()) == {g for g in board.gaps() if g[0] in rows and g[1] in cols}


class TestChessboardErrors:
    def test_malformed_bibtex_names_the_entry(self) -> None:
        bib = SMALL_BIB + "\n@article{broken2020, title = {Unclosed,\n  problem = {x}\n"
        with pytest.raises(ValueError, match="broken2020"):
            Chessboard.from_bibtex(bib)

    def test_duplicate_key_in_bibtex(self) -> None:
        dup = "@misc{kingma2015adam, problem = {optimization}, method = {momentum}}"
        with pytest.raises(ValueError, match="kingma2015adam"):
            Chessboard.from_bibtex(SMALL_BIB + dup)

    def test_duplicate_field_in_entry(self) -> None:
        with pytest.raises(ValueError, match="twice2020"):
            Chessboard.from_bibtex("@misc{twice2020, problem = {a}, problem = {b}, method = {m}}")

    def test_missing_fields_raise_by_default(self) -> None:
        with pytest.raises(ValueError, match="goodfellow2016deep.*missing='skip'"):
            Chessboard.from_bibtex(SMALL_BIB + TEXTBOOK)

    @pytest.mark.parametrize("missing", ["raise", "skip"])
    def test_half_tagged_entry_raises_in_both_modes(self, missing: str) -> None:
        with pytest.raises(ValueError, match="half2020.*method"):
            Chessboard.from_bibtex("@misc{half2020, problem = {optimization}}", missing=missing)
        with pytest.raises(ValueError, match="half2021.*problem"):
            Chessboard.from_bibtex("@misc{half2021, method = {momentum}}", missing=missing)

    @pytest.mark.parametrize("value", ["{}", "{a, }", "{ , b}"])
    def test_empty_field_items(self, value: str) -> None:
        with pytest.raises(ValueError, match="empty2020.*problem"):
            Chessboard.from_bibtex(f"@misc{{empty2020, problem = {value}, method = {{m}}}}")

    def test_repeated_label_in_field(self) -> None:
        with pytest.raises(ValueError, match="rep2020.*twice"):
            Chessboard.from_bibtex("@misc{rep2020, problem = {a, a}, method = {m}}")

    def test_bad_missing(self) -> None:
        with pytest.raises(ValueError, match="missing"):
            Chessboard.from_bibtex(SMALL_BIB, missing="ignore")

    def test_no_entries(self) -> None:
        with pytest.raises(ValueError, match="no BibTeX entry"):
            Chessboard.from_bibtex("% only a comment\n")

    def test_missing_file(self, tmp_path: pathlib.Path) -> None:
        with pytest.raises(FileNotFoundError, match="source"):
            Chessboard.from_bibtex(str(tmp_path / "nope.bib"))
        with pytest.raises(FileNotFoundError, match="source"):
            Chessboard.from_bibtex(tmp_path / "nope.bib")

    def test_bad_source_type(self) -> None:
        with pytest.raises(TypeError, match="source"):
            Chessboard.from_bibtex(42)  # type: ignore[arg-type]

    def test_add_errors(self) -> None:
        board = Chessboard()
        board.add("a", "p", "m")
        with pytest.raises(ValueError, match="key 'a' is already on the board"):
            board.add("a", "q", "n")
        with pytest.raises(TypeError, match="key"):
            board.add(3, "p", "m")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="key"):
            board.add("  ", "p", "m")
        with pytest.raises(ValueError, match="problem"):
            board.add("b", [], "m")
        with pytest.raises(ValueError, match="problem"):
            board.add("b", "", "m")
        with pytest.raises(TypeError, match="problem"):
            board.add("b", 5, "m")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="method"):
            board.add("b", "p", ["m", 1])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="method lists 'm' twice"):
            board.add("b", "p", ["m", "m"])
        assert board.keys == ["a"]  # failed adds leave the board unchanged

    def test_constructor_errors(self) -> None:
        with pytest.raises(TypeError, match="problems"):
            Chessboard(problems="optimization")
        with pytest.raises(TypeError, match="methods"):
            Chessboard(methods=3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="problems lists 'a' twice"):
            Chessboard(problems=["a", "a"])

    def test_lookup_errors(self) -> None:
        board = Chessboard.from_bibtex(SMALL_BIB)
        with pytest.raises(ValueError, match="problem 'vision'"):
            board.cell("vision", "momentum")
        with pytest.raises(ValueError, match="method 'dropout'"):
            board.count("optimization", "dropout")
        with pytest.raises(ValueError, match="key 'nobody'"):
            board.paper("nobody")
        with pytest.raises(ValueError, match="problem 'vision'"):
            board.select(problems=["vision"])
        with pytest.raises(ValueError, match="method 'dropout'"):
            board.select(methods=["dropout"])

    def test_crowded_errors(self) -> None:
        board = Chessboard.from_bibtex(SMALL_BIB)
        with pytest.raises(ValueError, match="n must be >= 1"):
            board.ranked_gaps(0)
        with pytest.raises(TypeError, match="n must be an int"):
            board.ranked_gaps("3")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="n must be >= 1"):
            board.crowded(0)
        with pytest.raises(TypeError, match="n must be an int"):
            board.crowded(2.0)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="n must be an int"):
            board.crowded(True)

    def test_drawing_errors(self) -> None:
        board = Chessboard.from_bibtex(SMALL_BIB)
        with pytest.raises(TypeError, match="counts"):
            board.to_dataframe(counts="yes")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="counts"):
            board.to_markdown(counts=1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="cite"):
            board.to_markdown(cite=None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="gap"):
            board.to_markdown(gap=0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="annotate"):
            board.plot(annotate="titles")
        with pytest.raises(ValueError, match="max_keys"):
            board.plot(max_keys=0)
        with pytest.raises(TypeError, match="max_keys"):
            board.plot(max_keys=1.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="empty board"):
            Chessboard().plot()


# ----------------------------------------------------------------------------- ReadingPlan
class TestReadingPlan:
    def test_ten_pages(self) -> None:
        plan = ReadingPlan(10)
        assert plan.triage_minutes == 15 and plan.skim_minutes == 75
        assert plan.comprehension_minutes == 90  # within the 1-2 hours of the rule of thumb
        assert 60 <= plan.comprehension_minutes <= 120
        assert plan.critical_minutes == 210 and plan.total_minutes == 300
        assert [p.name for p in plan.passes] == ["triage", "skim", "critical"]
        assert [p.kind for p in plan.passes] == ["comprehension", "comprehension", "critical thinking"]
        assert sum(p.minutes for p in plan.passes) == pytest.approx(plan.total_minutes)

    def test_goyal(self) -> None:
        plan = ReadingPlan(12, title="goyal2017accurate")
        assert (plan.comprehension_minutes, plan.critical_minutes, plan.total_minutes) == pytest.approx((105, 245, 350))
        text = str(plan)
        assert text.startswith("Reading plan for goyal2017accurate: 12 pages, 5 h 50 min in all")
        assert "triage" in text and "[ ]" in text
        md = plan.to_markdown()
        assert "| critical | critical thinking | 245 |" in md
        assert md.count("- [ ]") == sum(len(p.questions) for p in plan.passes)
        assert repr(plan) == "ReadingPlan(pages=12, comprehension=105 min, critical=245 min, total=350 min)"

    @given(st.integers(1, 200), st.floats(0.05, 0.95), st.floats(1, 60), st.floats(0.5, 30))
    def test_share_and_linearity(self, pages, share, triage, rate) -> None:
        plan = ReadingPlan(pages, comprehension_share=share, triage_minutes=triage, skim_minutes_per_page=rate)
        assert plan.comprehension_minutes / plan.total_minutes == pytest.approx(share)
        assert plan.comprehension_minutes == pytest.approx(triage + rate * pages)
        assert plan.critical_minutes == pytest.approx(plan.comprehension_minutes * (1 - share) / share)
        longer = ReadingPlan(pages + 1, comprehension_share=share, triage_minutes=triage, skim_minutes_per_page=rate)
        assert longer.total_minutes - plan.total_minutes == pytest.approx(rate / share)

    def test_checklists(self) -> None:
        plan = ReadingPlan(8)
        for p in plan.passes:
            assert plan.checklist(p.name) == p.questions and len(p.questions) >= 3
        assert any("relevant" in q for q in plan.checklist("triage"))
        with pytest.raises(ValueError, match="name"):
            plan.checklist("third")

    def test_assess(self) -> None:
        plan = ReadingPlan(10)
        assert plan.assess(90, 210) == []
        assert plan.assess(60, 200) == []
        textbook = plan.assess(90, 30)  # on budget, but no time left to think
        assert len(textbook) == 1 and "textbook" in textbook[0] and "75%" in textbook[0]
        off_track = plan.assess(150, 400)  # right share, but far over the budget
        assert len(off_track) == 1 and "off track" in off_track[0] and "60 min over" in off_track[0]
        assert len(plan.assess(240, 60)) == 2
        assert plan.assess(92, 208) == []  # within the 5 % tolerance
        assert len(plan.assess(92, 208, tolerance=0.0)) == 2

    def test_errors(self) -> None:
        with pytest.raises(TypeError, match="pages"):
            ReadingPlan(10.0)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="pages"):
            ReadingPlan(True)
        with pytest.raises(ValueError, match="pages"):
            ReadingPlan(0)
        with pytest.raises(ValueError, match="comprehension_share"):
            ReadingPlan(10, comprehension_share=1.0)
        with pytest.raises(ValueError, match="comprehension_share"):
            ReadingPlan(10, comprehension_share=0.0)
        with pytest.raises(ValueError, match="triage_minutes"):
            ReadingPlan(10, triage_minutes=-1)
        with pytest.raises(ValueError, match="skim_minutes_per_page"):
            ReadingPlan(10, skim_minutes_per_page=math.inf)
        with pytest.raises(TypeError, match="skim_minutes_per_page"):
            ReadingPlan(10, skim_minutes_per_page="7")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="title"):
            ReadingPlan(10, title=" ")
        plan = ReadingPlan(10)
        with pytest.raises(ValueError, match="comprehension_minutes"):
            plan.assess(-1, 10)
        with pytest.raises(TypeError, match="critical_minutes"):
            plan.assess(10, "5")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="tolerance"):
            plan.assess(10, 10, tolerance=-0.1)
        with pytest.raises(ValueError, match="both 0"):
            plan.assess(0, 0)


# ----------------------------------------------------------------------------- Hypothesis
class TestHypothesis:
    def test_status_rules(self) -> None:
        h = Hypothesis("large batches lose accuracy", "linear scaling")
        assert h.status == "proposed" and h.evidence == ()
        h.support("theory", "k small steps ~ one large step")
        assert h.status == "proposed"  # theory alone is not enough
        h.support("experiment", "0.98 vs 0.99")
        assert h.status == "supported"
        h.refute("experiment", "diverges at batch 4096")
        assert h.status == "refuted"
        h.support("experiment", "works again at batch 1024")
        assert h.status == "refuted"  # one contradiction is enough
        assert h.evidence[0] == Evidence("theory", True, "k small steps ~ one large step")
        assert str(h) == "(large batches lose accuracy, linear scaling): refuted"
        assert "status='refuted'" in repr(h)

    def test_needs(self) -> None:
        h = Hypothesis("p", "s", needs=["experiment"])
        assert h.support("experiment", "ok").status == "supported"
        assert Hypothesis("p", "s", needs="theory").support("theory", "proof").status == "supported"

    @given(st.lists(st.tuples(st.sampled_from(EVIDENCE_KINDS), st.booleans()), max_size=8))
    def test_status_law(self, evidence) -> None:
        h = Hypothesis("p", "s")
        for kind, supports in evidence:
            h.add_evidence(kind, supports, "note")
        if any(not s for _, s in evidence):
            assert h.status == "refuted"
        elif {k for k, _ in evidence} == set(EVIDENCE_KINDS):
            assert h.status == "supported"
        else:
            assert h.status == "proposed"

    def test_errors(self) -> None:
        with pytest.raises(TypeError, match="problem"):
            Hypothesis(None, "s")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="solution"):
            Hypothesis("p", "")
        with pytest.raises(ValueError, match="needs"):
            Hypothesis("p", "s", needs=["intuition"])
        with pytest.raises(ValueError, match="needs"):
            Hypothesis("p", "s", needs=[])
        h = Hypothesis("p", "s")
        with pytest.raises(ValueError, match="kind"):
            h.add_evidence("anecdote", True, "x")
        with pytest.raises(TypeError, match="supports"):
            h.add_evidence("theory", 1, "x")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="note"):
            h.support("theory", "   ")
        with pytest.raises(TypeError, match="note"):
            h.refute("theory", None)  # type: ignore[arg-type]
        assert h.evidence == ()


class TestResearchLog:
    def test_moves_on_and_exhausts(self) -> None:
        log = ResearchLog("accuracy drop at batch 512", ["sqrt scaling", "linear scaling + warmup"])
        assert log.current is log.hypotheses[0] and not log.exhausted
        first = log.record("theory", True, "keeps the gradient-noise variance")
        assert first.solution == "sqrt scaling" and log.current is first
        log.record("experiment", False, "0.955 < 0.97")
        assert first.status == "refuted"
        assert log.current.solution == "linear scaling + warmup"
        assert "moving on to 'linear scaling + warmup'" in log.history
        log.record("theory", True, "k steps ~ one large step")
        log.record("experiment", True, "0.981 >= 0.97")
        assert log.supported == (log.current,) and log.current.status == "supported"
        assert "Supported: 'linear scaling + warmup'" in log.report()
        log.record("experiment", False, "fails at batch 1438")
        assert log.exhausted and log.current is None
        assert log.history[-1] == "all 2 candidates refuted: back to the question"
        assert "All candidates are refuted" in str(log)
        with pytest.raises(ValueError, match="exhausted"):
            log.record("experiment", True, "late")
        new = log.add_candidate("LARS")
        assert log.current is new and not log.exhausted
        assert "Testing: 'LARS'" in log.report()
        md = log.to_markdown().splitlines()
        assert md[0] == "| solution | kind | verdict | note | status |"
        assert len(md) == 2 + 5 + 1  # five pieces of evidence, one untested candidate

    def test_needs_passed_on(self) -> None:
        log = ResearchLog("p", ["a"], needs=["experiment"])
        log.record("experiment", True, "ok")
        assert log.current.status == "supported"

    def test_errors(self) -> None:
        with pytest.raises(TypeError, match="candidates"):
            ResearchLog("p", "one solution")
        with pytest.raises(ValueError, match="candidates"):
            ResearchLog("p", [])
        with pytest.raises(ValueError, match="candidates lists 'a' twice"):
            ResearchLog("p", ["a", "a"])
        with pytest.raises(ValueError, match="problem"):
            ResearchLog("", ["a"])
        with pytest.raises(ValueError, match="needs"):
            ResearchLog("p", ["a"], needs=["vibes"])
        log = ResearchLog("p", ["a"])
        with pytest.raises(ValueError, match="solution 'a' is already a candidate"):
            log.add_candidate("a")
        with pytest.raises(ValueError, match="kind"):
            log.record("hunch", True, "x")
        assert log.current.evidence == ()
