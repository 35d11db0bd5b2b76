"""companion.research: the details that a mutation run of the module found unpinned.

Issue 19's mutation run left survivors in the chessboard (its validators, ``from_bibtex``,
``_split_field`` and the figure of ``Chessboard.plot``) and in ``check_experiment``. Each test
below pins one documented behaviour completely: whole messages compared with ``==`` (a
fragment would let the rest of the text change), nested braces in a BibTeX field, the
inclusive tolerance of a rerun, and the figure read back (colour bar, legend, text colours at
the dark-text threshold, size caps) with the values that the code's comments and docstrings
give.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from companion.research import Chessboard, Hypothesis, _split_field, check_experiment  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def message(exc: type[BaseException], call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(exc) as info:
        call()
    return str(info.value)


# ------------------------------------------------------------------------------------------
# the board's validators


def test_label_and_axis_errors_name_the_type_they_got():
    assert message(TypeError, lambda: Chessboard().add("k", 3, "m")) == "problem must be a str or an iterable of str, got int"
    assert message(TypeError, lambda: Chessboard().add("k", "p", 2.5)) == "method must be a str or an iterable of str, got float"
    assert message(ValueError, lambda: Chessboard().add("k", [], "m")) == "problem must name at least one label, got an empty list"
    assert message(ValueError, lambda: Chessboard().add("k", "p", ())) == "method must name at least one label, got an empty tuple"
    assert message(TypeError, lambda: Chessboard(problems=3)) == "problems must be an iterable of str, got int"
    assert message(TypeError, lambda: Chessboard(methods=None)) == "methods must be an iterable of str, got NoneType"


# ------------------------------------------------------------------------------------------
# from_bibtex and _split_field


@pytest.mark.parametrize(
    "value, items",
    [
        ("optimization,dropout", ["optimization", "dropout"]),       # no space after the comma
        ("a,b,c", ["a", "b", "c"]),
        ("{{ImageNet}, CIFAR} benchmarks, optimization", ["ImageNet, CIFAR benchmarks", "optimization"]),
        ("{a, {b}}, c", ["a, b", "c"]),
        ("{{a}, b}", ["a, b"]),
    ],
)
def test_split_field_splits_only_at_top_level_commas(value, items):
    assert _split_field(value) == items


def test_nested_braces_and_tight_commas_in_a_bib_file():
    bib = "@misc{a, problem = {{{ImageNet}, CIFAR} benchmarks,optimization}, method = {momentum,dropout}}"
    board = Chessboard.from_bibtex(bib)
    assert board.problems == ["ImageNet, CIFAR benchmarks", "optimization"]
    assert board.methods == ["momentum", "dropout"]


def test_from_bibtex_messages_in_full(tmp_path):
    assert message(TypeError, lambda: Chessboard.from_bibtex(3)) == "source must be a path or a str of BibTeX text, got int"
    dup = "@misc{a, problem={p}, method={m}}\n@misc{a, problem={p}, method={m}}\n"
    assert message(ValueError, lambda: Chessboard.from_bibtex(dup)) == (
        "malformed BibTeX in the BibTeX text: entry 'a' (line 2): Duplicate entry key 'a'"
    )
    # every failed block is named, separated by "; "
    two = dup + "@misc{b, problem={p}, method={m}}\n@misc{b, problem={p}, method={m}}\n"
    assert message(ValueError, lambda: Chessboard.from_bibtex(two)) == (
        "malformed BibTeX in the BibTeX text: entry 'a' (line 2): Duplicate entry key 'a'; "
        "entry 'b' (line 4): Duplicate entry key 'b'"
    )
    # a file is named by its path
    path = tmp_path / "dup.bib"
    path.write_text(dup, encoding="utf-8")
    assert message(ValueError, lambda: Chessboard.from_bibtex(path)) == (
        f"malformed BibTeX in {path}: entry 'a' (line 2): Duplicate entry key 'a'"
    )
    empty = tmp_path / "empty.bib"
    empty.write_text("% no entry here\n", encoding="utf-8")
    assert message(ValueError, lambda: Chessboard.from_bibtex(str(empty))) == f"source has no BibTeX entry ({empty})"
    assert message(ValueError, lambda: Chessboard.from_bibtex("@comment{x}")) == "source has no BibTeX entry (the BibTeX text)"
    # a Latin-1 file read as UTF-8: byte 22 is the 0xe9 of "caf\xe9", followed by "}"
    latin = tmp_path / "latin.bib"
    latin.write_bytes(b"@misc{a, title = {caf\xe9}, problem = {p}, method = {m}}")
    assert message(ValueError, lambda: Chessboard.from_bibtex(latin)) == (
        f"{str(latin)!r} is not valid utf-8 text (invalid continuation byte at byte 21); "
        "pass the file's encoding, e.g. encoding='latin-1'"
    )
    assert Chessboard.from_bibtex(latin, encoding="latin-1").keys == ["a"]


@pytest.mark.parametrize(
    "fields, text",
    [
        ("problem = {p}", "entry 'a' has a problem field but no method field"),
        ("method = {m}", "entry 'a' has a method field but no problem field"),
        ("title = {t}", "entry 'a' has neither a problem nor a method field (use missing='skip' for textbooks and talks)"),
    ],
)
def test_missing_field_messages_in_full(fields, text):
    assert message(ValueError, lambda: Chessboard.from_bibtex(f"@misc{{a, {fields}}}")) == text


# ------------------------------------------------------------------------------------------
# Chessboard.plot, read back


def test_colour_bar_belongs_to_the_heat_map_and_is_shrunk():
    board = Chessboard()
    board.add("a", "p1", ["m1", "m2"])
    board.add("b", "p2", "m2")
    board.add("c", "p2", "m2")
    fig = board.plot(annotate="counts")
    ax, cax = fig.axes
    colorbar = ax.images[0].colorbar           # the colour bar of the heat map itself
    assert colorbar is not None and colorbar.ax is cax
    assert colorbar.cmap.name == "Blues" and cax.get_ylim() == (0.0, 2.5)   # vmax = 1.25 x the busiest cell
    assert cax.get_ylabel() == "papers in the cell"
    assert cax.get_position().height / ax.get_position().height == pytest.approx(0.8)   # shrink=0.8


def test_legend_sits_right_of_the_axes_just_below_them():
    board = Chessboard()
    board.add("a", "p1", "m1")
    board.add("b", "p2", "m2")
    fig = board.plot()
    ax = fig.axes[0]
    legend = ax.get_legend()
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.bounds == pytest.approx((1.0, -0.02, 0.0, 0.0))   # a point: right edge, just below the bottom


def test_text_turns_white_only_above_55_percent_of_vmax():
    # busiest cell 16: vmax = 20, threshold 0.55 * 20 = 11 exactly; a cell of 11 is not above it
    board = Chessboard()
    for i in range(16):
        board.add(f"a{i}", "p", "m1")
    for i in range(11):
        board.add(f"b{i}", "p", "m2")
    for i in range(12):
        board.add(f"c{i}", "p", "m3")
    for i in range(10):
        board.add(f"d{i}", "q", "m1")
    assert 0.55 * (16 * 1.25) == 11.0
    fig = board.plot(annotate="counts")
    colours = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert colours == {"16": "white", "11": "black", "12": "white", "10": "black"}


def test_the_figure_height_is_capped_at_30_inches():
    tall = Chessboard()
    for i in range(64):
        tall.add(f"k{i}", f"p{i}", "m")
    fig = tall.plot(annotate="none")       # 2.5 + 0.45 * 64 = 31.3 in: capped at 30
    assert tuple(fig.get_size_inches()) == pytest.approx((3.6, 30.0))


# ------------------------------------------------------------------------------------------
# check_experiment

BASE = [0.80, 0.82, 0.79, 0.81, 0.80]
UP = [0.85, 0.86, 0.83, 0.87, 0.84]
NOISE = [0.81, 0.81, 0.80, 0.80, 0.81]
DOWN = [2 * b - u for b, u in zip(BASE, UP)]
ABOVE, BELOW = "[+0.03489, +0.05711]", "[-0.05711, -0.03489]"


@pytest.mark.parametrize(
    "treatment, predicted, conclusion, text",
    [
        (NOISE, "increase", "supported",
         "the data say 'inconclusive', not 'supported': the 95% interval of treatment - baseline, [-0.0116, +0.0156], "
         "contains 0: the seeds cannot tell the difference from noise"),
        (UP, "decrease", "supported",
         f"the data say 'refuted', not 'supported': the 95% interval of treatment - baseline, {ABOVE}, "
         "lies entirely above 0, against the predicted decrease"),
        (UP, "increase", "inconclusive",
         f"the data say 'supported', not 'inconclusive': the 95% interval of treatment - baseline, {ABOVE}, "
         "lies entirely above 0, as predicted"),
        (DOWN, "decrease", "refuted",
         f"the data say 'supported', not 'refuted': the 95% interval of treatment - baseline, {BELOW}, "
         "lies entirely below 0, as predicted"),
        (DOWN, "increase", "inconclusive",
         f"the data say 'refuted', not 'inconclusive': the 95% interval of treatment - baseline, {BELOW}, "
         "lies entirely below 0, against the predicted increase"),
    ],
)
def test_conclusion_messages_in_full(treatment, predicted, conclusion, text):
    report = check_experiment(BASE, treatment, predicted=predicted, conclusion=conclusion)
    assert [(f.rule, f.message) for f in report.failures] == [("conclusion", text)]


def _hypothesis(*record: tuple[str, str]) -> Hypothesis:
    h = Hypothesis("low accuracy", "momentum", needs=["experiment"])
    for how, kind in record:
        getattr(h, how)(kind, "note")
    return h


@pytest.mark.parametrize(
    "treatment, conclusion, record, text",
    [
        (UP, "supported", [],
         "the conclusion is 'supported' but the hypothesis is proposed without supporting experiment evidence: "
         "record it with hypothesis.support('experiment', ...)"),
        # supported by an experiment but refuted by theory: still refuted, and more support cannot help
        (UP, "supported", [("support", "experiment"), ("refute", "theory")],
         "the conclusion is 'supported' but the hypothesis is refuted: evidence against it is recorded, "
         "and more support does not undo it"),
        (UP, "supported", [("refute", "experiment")],
         "the conclusion is 'supported' but the hypothesis is refuted: evidence against it is recorded, "
         "and more support does not undo it"),
        (DOWN, "refuted", [("support", "experiment")],
         "the conclusion is 'refuted' but the hypothesis is supported: record it with hypothesis.refute('experiment', ...)"),
        (DOWN, "refuted", [],
         "the conclusion is 'refuted' but the hypothesis is proposed: record it with hypothesis.refute('experiment', ...)"),
        (NOISE, "inconclusive", [("support", "experiment")],
         "the conclusion is 'inconclusive', so the experiment is evidence neither way: do not record it as evidence"),
    ],
)
def test_hypothesis_messages_in_full(treatment, conclusion, record, text):
    predicted = "increase"
    report = check_experiment(BASE, treatment, predicted=predicted, conclusion=conclusion, hypothesis=_hypothesis(*record))
    assert [(f.rule, f.message) for f in report.failures] == [("hypothesis", text)]


def test_a_refuting_theory_without_experiments_passes_an_inconclusive_experiment():
    report = check_experiment(BASE, NOISE, predicted="increase", conclusion="inconclusive",
                              hypothesis=_hypothesis(("refute", "theory")))
    assert report.ok


def test_rerun_messages_and_inclusive_tolerance():
    seeds = [10, 11, 12, 13, 14]
    data = {s: (b, t) for s, b, t in zip(seeds, BASE, UP)}
    kwargs = dict(predicted="increase", conclusion="supported", seeds=seeds, rerun=lambda s: data[s])
    assert check_experiment(BASE, UP, atol=0.0, **kwargs).ok          # an exact rerun passes with atol = 0
    faked = list(BASE)
    faked[2] = 0.75                       # 0.79 was run; recorded 0.75
    report = check_experiment(faked, UP, **kwargs)
    assert [(f.rule, f.message) for f in report.failures] == [
        ("rerun", "seed 12, baseline: the run gives 0.79 now, but 0.75 was recorded: the data do not come from "
                  "this code, or the run is not seeded")
    ]
    # "within atol" includes atol itself: |0.5 - 0.75| = 0.25 exactly in binary
    halves = dict(predicted="increase", conclusion="inconclusive", min_seeds=2, rerun=lambda s: (0.5, 0.5))
    assert check_experiment([0.5, 0.75], [0.5, 0.5], atol=0.25, rerun_seeds=[1], **halves).ok
    report = check_experiment([0.5, 0.75], [0.5, 0.5], atol=0.125, rerun_seeds=[1], **halves)
    assert report.rules == ("rerun",)


def test_experiment_type_errors_in_full():
    ok = dict(predicted="increase", conclusion="supported")
    assert message(TypeError, lambda: check_experiment(BASE, UP, seeds="01234", **ok)) == "seeds must be a sequence of int, got a str"
    assert message(TypeError, lambda: check_experiment(BASE, UP, hypothesis="h", **ok)) == "hypothesis must be a Hypothesis, got str"
    assert message(TypeError, lambda: check_experiment(BASE, UP, rerun=3, **ok)) == "rerun must be callable, got int"
    assert message(TypeError, lambda: check_experiment(BASE, UP, rerun=lambda s: 0.8, **ok)) == (
        "rerun(seed) must return a (baseline, treatment) pair, got float"
    )
    assert message(TypeError, lambda: check_experiment(BASE, UP, rerun=lambda s: (0.8, 0.8), rerun_seeds=[1.0], **ok)) == (
        "each rerun seed must be an int, got float"
    )
