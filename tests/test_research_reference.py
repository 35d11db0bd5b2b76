"""companion.research, output for output: every text a reader sees, written out in full.

The reading plan, the hypothesis log and the chessboard print Markdown and plain text that the
chapters show. Matching a few words of that text leaves most of it free to change unnoticed,
so these tests pin complete outputs of small examples (worked out by hand from the
docstrings' formulas) and the exact boundaries of every rule.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from companion.research import Chessboard, Hypothesis, ReadingPlan, ResearchLog, _describe_failed_block, _hours

_TRIAGE = [
    "What problem does the paper address, in one sentence?",
    "What does it claim to contribute: a method, an analysis, a data set, a benchmark?",
    "Is it relevant to my research question? If not, stop here and drop it.",
]
_SKIM = [
    "What are the assumptions and the setting?",
    "What is the method's framework: its main idea in a few lines, or one figure?",
    "Which experiments support the main claim, and how big is the effect?",
    "What do the authors conclude, and what do they list as limitations?",
    "Which technical details can I skip for now (and note, to look up only if my question needs them)?",
]
_CRITICAL = [
    "Do the experiments test the claim: baselines, seeds, ablations, error bars?",
    "Which assumption is the weakest, and what happens when it fails?",
    "What did the authors not try, and why might it fail or work better?",
    "Where does the paper sit on my chessboard, and which neighbouring cell is empty?",
    "Which (problem, solution) hypothesis of my own does this suggest, and how would I test it?",
]
_WHAT = {
    "triage": "abstract and introduction (and a glance at the figures)",
    "skim": "the whole paper quickly: method, main results, conclusions; skip the technical details",
    "critical": "the parts that matter to your question, again, pen in hand",
}


def _plan() -> ReadingPlan:
    # C = 10 + 5 * 4 = 30 min; total = 30 / 0.25 = 120 min; critical = 90 min
    return ReadingPlan(4, title="Adam", triage_minutes=10, skim_minutes_per_page=5, comprehension_share=0.25)


def test_reading_plan_numbers_and_passes() -> None:
    plan = _plan()
    assert (plan.pages, plan.title, plan.triage_minutes, plan.skim_minutes_per_page, plan.comprehension_share) == (4, "Adam", 10.0, 5.0, 0.25)
    assert (plan.skim_minutes, plan.comprehension_minutes, plan.total_minutes, plan.critical_minutes) == (20.0, 30.0, 120.0, 90.0)
    assert [(p.name, p.kind, p.minutes, p.what, list(p.questions)) for p in plan.passes] == [
        ("triage", "comprehension", 10.0, _WHAT["triage"], _TRIAGE),
        ("skim", "comprehension", 20.0, _WHAT["skim"], _SKIM),
        ("critical", "critical thinking", 90.0, _WHAT["critical"], _CRITICAL),
    ]
    assert [list(plan.checklist(n)) for n in ("triage", "skim", "critical")] == [_TRIAGE, _SKIM, _CRITICAL]
    with pytest.raises(ValueError, match="name must be one of 'triage', 'skim', 'critical', got 'read'"):
        plan.checklist("read")
    default = ReadingPlan(1)
    assert (default.title, default.triage_minutes, default.skim_minutes_per_page, default.comprehension_share) == (None, 15.0, 7.5, 0.3)
    assert repr(plan) == "ReadingPlan(pages=4, comprehension=30 min, critical=90 min, total=120 min)"


def test_reading_plan_rejects_a_share_of_one() -> None:
    assert ReadingPlan(1, comprehension_share=0.999).comprehension_share == 0.999
    for share in (1, 1.0, 1.5):
        with pytest.raises(ValueError, match=rf"comprehension_share must be in \(0, 1\), got {share}"):
            ReadingPlan(1, comprehension_share=share)


def test_reading_plan_markdown_in_full() -> None:
    lines = [
        "**Reading plan for Adam** (4 pages, 2 h 00 min in all; comprehension 25%, critical thinking 75%)",
        "",
        "| pass | kind | minutes | read |",
        "|---|---|---|---|",
        f"| triage | comprehension | 10 | {_WHAT['triage']} |",
        f"| skim | comprehension | 20 | {_WHAT['skim']} |",
        f"| critical | critical thinking | 90 | {_WHAT['critical']} |",
    ]
    for name, minutes, questions in (("triage", 10, _TRIAGE), ("skim", 20, _SKIM), ("critical", 90, _CRITICAL)):
        lines += ["", f"*{name}* ({minutes} min):", ""] + [f"- [ ] {q}" for q in questions]
    assert _plan().to_markdown() == "\n".join(lines)
    assert ReadingPlan(2).to_markdown().startswith("**Reading plan for the paper** (2 pages, 1 h 40 min in all; comprehension 30%, critical thinking 70%)\n")


def test_reading_plan_text_in_full() -> None:
    lines = ["Reading plan for Adam: 4 pages, 2 h 00 min in all"]
    for name, minutes, kind, questions in (("triage", 10, "comprehension", _TRIAGE), ("skim", 20, "comprehension", _SKIM), ("critical", 90, "critical thinking", _CRITICAL)):
        lines.append(f"  {name:<9}{minutes:6d} min  ({kind}) {_WHAT[name]}")
        lines += [f"      [ ] {q}" for q in questions]
    assert str(_plan()) == "\n".join(lines)
    assert str(ReadingPlan(2)).splitlines()[0] == "Reading plan for the paper: 2 pages, 1 h 40 min in all"


def test_assess_boundaries() -> None:
    plan = _plan()  # share 0.25, budget C = 30 min
    assert plan.assess(30, 90) == []
    textbook = "comprehension took 50% of the time (plan: at most 25%): reading the paper like a textbook leaves too little time to think about it"
    off_track = "comprehension ran 30 min over its budget of 30 min: are you learning details your question does not need (going off track)?"
    assert plan.assess(60, 60) == [textbook, off_track]
    # share rule: share > s + tolerance (0.25 + 0.25 = 0.5 exactly)
    assert plan.assess(20, 20, tolerance=0.25) == []
    assert plan.assess(20.2, 19.8, tolerance=0.25) == ["comprehension took 50% of the time (plan: at most 25%): reading the paper like a textbook leaves too little time to think about it"]
    # budget rule: over > tolerance * C (0.5 * 30 = 15 exactly)
    assert plan.assess(45, 100, tolerance=0.5) == []
    assert plan.assess(45.5, 100, tolerance=0.5) == ["comprehension ran 16 min over its budget of 30 min: are you learning details your question does not need (going off track)?"]
    # default tolerance 5 %: 31 min is within 1.5 min of the budget, 32 is not
    assert plan.assess(31, 200) == [] and len(plan.assess(32, 200)) == 1
    assert plan.assess(0, 10) == [] and plan.assess(10, 0, tolerance=0) != []
    with pytest.raises(ValueError, match="comprehension_minutes and critical_minutes are both 0: nothing to assess"):
        plan.assess(0, 0)
    with pytest.raises(ValueError, match="critical_minutes"):
        plan.assess(1, -1)
    with pytest.raises(ValueError, match="tolerance"):
        plan.assess(1, 1, tolerance=-0.1)


def test_hours() -> None:
    assert [_hours(m) for m in (0, 59.4, 59.6, 60, 61, 125, 600)] == ["0 min", "59 min", "1 h 00 min", "1 h 00 min", "1 h 01 min", "2 h 05 min", "10 h 00 min"]


def test_hypothesis_needs_and_status() -> None:
    h = Hypothesis("  large   batches ", "warmup", needs=["experiment"])
    assert (h.problem, h.solution, h.needs, h.status, h.evidence) == ("large batches", "warmup", ("experiment",), "proposed", ())
    h.support("theory", "an argument")
    assert h.status == "proposed"  # theory is not needed, and not enough
    h.support("experiment", "3 seeds")
    assert h.status == "supported" and [e.kind for e in h.evidence] == ["theory", "experiment"]
    assert str(h) == "(large batches, warmup): supported"
    assert repr(h) == "Hypothesis(problem='large batches', solution='warmup', status='supported', evidence=2)"
    assert h.refute("theory", "a counterexample").status == "refuted"
    both = Hypothesis("p", "s")
    assert both.needs == ("theory", "experiment")
    assert both.support("experiment", "x").status == "proposed" and both.support("theory", "y").status == "supported"
    with pytest.raises(ValueError, match=r"needs must contain only \('theory', 'experiment'\), got 'proof'"):
        Hypothesis("p", "s", needs=["proof"])
    with pytest.raises(ValueError, match=r"kind must be one of \('theory', 'experiment'\), got 'hunch'"):
        both.add_evidence("hunch", True, "n")
    assert both.evidence[0].note == "x" and both.evidence[0].supports is True


def test_research_log_history_report_and_table() -> None:
    log = ResearchLog("large batches", ["lr scaling", "warmup"], needs=["experiment"])
    assert log.history == ["question: large batches; candidates: lr scaling, warmup"]
    assert log.report() == "Question: large batches\n -> lr scaling: proposed (0 evidence)\n    warmup: proposed (0 evidence)\nTesting: 'lr scaling'."
    assert log.record("theory", True, "a  reason").solution == "lr scaling"
    assert log.record("experiment", False, "diverged").solution == "lr scaling"
    assert log.history[1:] == [
        "theory supports 'lr scaling': a reason",
        "experiment contradicts 'lr scaling': diverged",
        "'lr scaling' is now refuted",
        "moving on to 'warmup'",
    ]
    assert str(log) == log.report() == (
        "Question: large batches\n    lr scaling: refuted (2 evidence)\n -> warmup: proposed (0 evidence)\nTesting: 'warmup'."
    )
    assert log.to_markdown() == "\n".join([
        "| solution | kind | verdict | note | status |",
        "|---|---|---|---|---|",
        "| lr scaling | theory | supports | a reason | refuted |",
        "| lr scaling | experiment | contradicts | diverged | refuted |",
        "| warmup | | | | proposed |",
    ])
    log.record("experiment", True, "works")
    assert log.history[-2:] == ["experiment supports 'warmup': works", "'warmup' is now supported"]
    assert log.report().splitlines()[-2:] == [" -> warmup: supported (1 evidence)", "Supported: 'warmup' (done for now; keep testing it)."]
    assert [h.solution for h in log.supported] == ["warmup"] and not log.exhausted
    log.record("experiment", False, "no")
    assert log.history[-3:] == ["experiment contradicts 'warmup': no", "'warmup' is now refuted", "all 2 candidates refuted: back to the question"]
    assert log.report() == (
        "Question: large batches\n    lr scaling: refuted (2 evidence)\n    warmup: refuted (2 evidence)\n"
        "All candidates are refuted: rethink the question or add a candidate."
    )
    assert log.exhausted and log.current is None and log.supported == ()
    with pytest.raises(ValueError, match=r"every candidate solution for 'large batches' is refuted \(the log is exhausted\); add_candidate\(\) a new one"):
        log.record("experiment", True, "x")
    h = log.add_candidate("  bigger   model ")
    assert h.solution == "bigger model" and h.needs == ("experiment",) and log.current is h
    assert log.history[-1] == "new candidate: bigger model" and [x.solution for x in log.hypotheses] == ["lr scaling", "warmup", "bigger model"]
    with pytest.raises(ValueError, match="solution 'warmup' is already a candidate"):
        log.add_candidate("warmup")
    with pytest.raises(TypeError, match="candidates must be an iterable of str \\(e.g. a list\\), got a single str 'a'"):
        ResearchLog("p", "a")
    assert ResearchLog("p", ["a"], needs="experiment").hypotheses[0].needs == ("experiment",)


def test_record_without_status_change_adds_one_line() -> None:
    log = ResearchLog("p", ["a"])
    log.record("theory", True, "t")
    assert log.history[1:] == ["theory supports 'a': t"]
    log.record("experiment", True, "e")
    assert log.history[-2:] == ["experiment supports 'a': e", "'a' is now supported"]


def _board() -> Chessboard:
    board = Chessboard(["p2"], ["m9"])
    board.add("k1", ["p1", "p2"], ["m1"])
    board.add("k2", "p1", ["m1", "m2"])
    return board


def test_board_markdown_and_dataframe_in_full() -> None:
    board = _board()
    assert (board.problems, board.methods) == (["p2", "p1"], ["m9", "m1", "m2"])
    assert board.to_markdown() == "\n".join([
        "| problem \\ method | m9 | m1 | m2 |",
        "|---|---|---|---|",
        "| p2 | · | k1 | · |",
        "| p1 | · | k1, k2 | k2 |",
    ])
    assert board.to_markdown(cite=True, gap="--") == "\n".join([
        "| problem \\ method | m9 | m1 | m2 |",
        "|---|---|---|---|",
        "| p2 | -- | {cite:p}`k1` | -- |",
        "| p1 | -- | {cite:p}`k1`, {cite:p}`k2` | {cite:p}`k2` |",
    ])
    assert board.to_markdown(counts=True).splitlines()[2:] == ["| p2 | · | 1 | · |", "| p1 | · | 2 | 1 |"]
    keys = board.to_dataframe()
    expected = pd.DataFrame(
        [["", "k1", ""], ["", "k1, k2", "k2"]],
        index=pd.Index(["p2", "p1"], name="problem"),
        columns=pd.Index(["m9", "m1", "m2"], name="method"),
    )
    pd.testing.assert_frame_equal(keys, expected)
    counts = board.to_dataframe(counts=True)
    pd.testing.assert_frame_equal(counts, pd.DataFrame([[0, 1, 0], [0, 2, 1]], index=expected.index, columns=expected.columns))


def test_board_select_and_paper() -> None:
    board = _board()
    small = board.select(problems=["p1", "p2"], methods=["m2"])
    assert (small.problems, small.methods, small.keys, len(small)) == (["p1", "p2"], ["m2"], ["k2"], 1)
    assert small.paper("k2") == (("p1",), ("m2",)) and "k1" not in small
    assert small.cell("p1", "m2") == ("k2",) and small.cell("p2", "m2") == ()
    cols = board.select(methods=["m1"])
    assert (cols.problems, cols.methods, cols.keys) == (["p2", "p1"], ["m1"], ["k1", "k2"])
    assert cols.paper("k1") == (("p1", "p2"), ("m1",)) and cols.paper("k2") == (("p1",), ("m1",))
    assert cols.cell("p1", "m1") == ("k1", "k2")
    everything = board.select()
    assert everything.to_markdown() == board.to_markdown() and everything.keys == board.keys
    assert board.paper("k1") == (("p1", "p2"), ("m1",))
    with pytest.raises(ValueError, match="key 'k3' is not on the board"):
        board.paper("k3")


def test_describe_failed_block() -> None:
    N = SimpleNamespace
    assert _describe_failed_block(N(key="k1", raw="@article{k1,\n title={x}", start_line=4, error=ValueError("bad field"))) == "entry 'k1' (line 5): bad field"
    assert _describe_failed_block(N(raw="  @misc ( abc , title={x}", start_line=0)) == "entry 'abc' (line 1)"
    long = "garbage line here that is long enough to be cut off at sixty characters, yes\nsecond line"
    assert _describe_failed_block(N(raw=long)) == f"block {long[:60]!r}"
    assert _describe_failed_block(N(raw="", error="")) == "block ''"
    assert _describe_failed_block(N(raw=None, error=ValueError(""))) == "block ''"
    assert _describe_failed_block(object()) == "block ''"
    assert _describe_failed_block(N(key=None, raw="@book{}", start_line="3", error=None)) == "block '@book{}'"
    assert _describe_failed_block(N(raw="\n  @inproceedings{ key2017 ,\n", start_line=9, error="x")) == "entry 'key2017' (line 10): x"


def _plot_board() -> Chessboard:
    board = Chessboard()
    board.add("a", "optimization", ["momentum", "dropout"])
    board.add("b", "optimization", "momentum")
    board.add("c", "optimization", "momentum")
    board.add("d", "overfitting", "dropout")
    return board  # cells: (opt, momentum) 3, (opt, dropout) 1, (overfitting, momentum) 0, (overfitting, dropout) 1


def test_board_plot_contents() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    board = _plot_board()
    fig = board.plot(max_keys=2)
    try:
        ax = fig.axes[0]
        # figure sized to the board: keys take 1.5 x (0.25 + 0.2 * min(2, 3)) per cell
        assert fig.get_size_inches() == pytest.approx([3.0 + 1.5 * 2, 2.5 + 0.65 * 2])
        (image,) = ax.get_images()
        data = image.get_array()
        assert data.data.tolist() == [[3.0, 1.0], [0.0, 1.0]] and data.mask.tolist() == [[False, False], [True, False]]
        assert image.get_clim() == (0, pytest.approx(3.75)) and image.get_cmap().name == "Blues"
        gaps = [p for p in ax.patches if p.get_hatch() == "//"]
        assert [(p.get_xy(), p.get_width(), p.get_height()) for p in gaps] == [((-0.5, 0.5), 1, 1)]
        assert matplotlib.colors.to_hex(gaps[0].get_facecolor()) == "#fff3c4" and matplotlib.colors.to_hex(gaps[0].get_edgecolor()) == "#d4a017"
        texts = {(t.get_position(), t.get_text()): (t.get_color(), t.get_fontsize(), t.get_ha(), t.get_va()) for t in ax.texts}
        # 3 papers > 0.55 * 3.75: white on the dark cell; black elsewhere; at most 2 keys, then +k
        assert texts == {
            ((0, 0), "a\nb\n+1"): ("white", 7, "center", "center"),
            ((1, 0), "a"): ("black", 7, "center", "center"),
            ((1, 1), "d"): ("black", 7, "center", "center"),
        }
        assert [t.get_text() for t in ax.get_xticklabels()] == ["momentum", "dropout"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["optimization", "overfitting"]
        assert ax.get_xticklabels()[0].get_rotation() == 45 and ax.get_xticklabels()[0].get_ha() == "right"
        assert ax.get_xticks(minor=True).tolist() == [-0.5, 0.5, 1.5] and ax.get_yticks(minor=True).tolist() == [-0.5, 0.5, 1.5]
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("method", "problem or application")
        assert ax.get_title() == "Chessboard: 4 papers, 1 of 4 cells empty"
        colorbar = fig.axes[1]
        assert colorbar.get_ylabel() == "papers in the cell"
        legend = ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["gap (no paper)"]
        handle = legend.legend_handles[0]
        assert handle.get_hatch() == "//" and matplotlib.colors.to_hex(handle.get_facecolor()) == "#fff3c4"
        assert matplotlib.colors.to_hex(handle.get_edgecolor()) == "#d4a017"
        assert legend._loc == 2 and not legend.get_frame_on() and legend.get_texts()[0].get_fontsize() == 8  # upper left
        assert data.dtype == np.float64 and ax.get_aspect() == "auto"
        minor = ax.xaxis.get_minor_ticks()[0]
        assert minor.gridline.get_visible() and minor.gridline.get_color() == "white" and minor.gridline.get_linewidth() == 1.5
        assert minor.tick1line.get_markersize() == 0 and not ax.xaxis.get_major_ticks()[0].gridline.get_visible()
        assert ax.xaxis.get_major_ticks()[0].tick1line.get_markersize() > 0
    finally:
        plt.close(fig)
    fig = board.plot(annotate="counts", title="mine")
    try:
        ax = fig.axes[0]
        assert fig.get_size_inches() == pytest.approx([3.0 + 0.6 * 2, 2.5 + 0.45 * 2])
        assert sorted((t.get_position(), t.get_text(), t.get_fontsize(), t.get_color()) for t in ax.texts) == [
            ((0, 0), "3", 9, "white"), ((1, 0), "1", 9, "black"), ((1, 1), "1", 9, "black")
        ]
        assert ax.get_title() == "mine"
    finally:
        plt.close(fig)
    fig = board.plot(annotate="none")
    try:
        assert len(fig.axes[0].texts) == 0 and len([p for p in fig.axes[0].patches if p.get_hatch() == "//"]) == 1
    finally:
        plt.close(fig)
    fig = board.plot()  # default max_keys = 3: three keys fit, no "+0"
    try:
        assert sorted(t.get_text() for t in fig.axes[0].texts) == ["a", "a\nb\nc", "d"]
    finally:
        plt.close(fig)
    single = Chessboard()
    single.add("s", "p", "m")
    fig = single.plot()  # one column, one paper: vmax = 1.25, so the cell is dark
    try:
        assert fig.axes[0].get_images()[0].get_clim() == (0, 1.25)
        assert [(t.get_text(), t.get_color()) for t in fig.axes[0].texts] == [("s", "white")]
    finally:
        plt.close(fig)
    wide = Chessboard()
    wide.add("w", "p", [f"m{i}" for i in range(19)])
    fig = wide.plot()  # 3 + 1.5 * 19 = 31.5 in: capped at 30
    try:
        assert fig.get_size_inches() == pytest.approx([30.0, 2.95])
    finally:
        plt.close(fig)
    with pytest.raises(ValueError) as info:
        Chessboard().plot()
    assert str(info.value) == "cannot plot an empty board: add papers first"


_board1 = Chessboard()
_board1.add("a", "p", "m")


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: _board1.to_markdown(gap=3), TypeError, "gap must be a str"),
        (lambda: _board1.to_markdown(counts=1), TypeError, "counts"),
        (lambda: _board1.to_markdown(cite="y"), TypeError, "cite"),
        (lambda: _board1.to_dataframe(counts=2), TypeError, "counts"),
        (lambda: _board1.select(problems=3), TypeError, "problems"),
        (lambda: _board1.select(methods=3), TypeError, "methods"),
        (lambda: _board1.paper(3), TypeError, "key"),
        (lambda: ReadingPlan(0), ValueError, "pages"),
        (lambda: ReadingPlan(1, title=""), ValueError, "title"),
        (lambda: ReadingPlan(1, triage_minutes=0), ValueError, "triage_minutes"),
        (lambda: ReadingPlan(1, triage_minutes=-1), ValueError, "triage_minutes"),
        (lambda: ReadingPlan(1, skim_minutes_per_page=0), ValueError, "skim_minutes_per_page"),
        (lambda: ReadingPlan(1, skim_minutes_per_page=-1), ValueError, "skim_minutes_per_page"),
        (lambda: ReadingPlan(1, comprehension_share=0), ValueError, "comprehension_share"),
        (lambda: ReadingPlan(1).assess(1, 1, tolerance=-1), ValueError, "tolerance"),
        (lambda: ReadingPlan(1).assess(0, 0), ValueError, "comprehension_minutes and critical_minutes are both 0: nothing to assess"),
        (lambda: Hypothesis("", "s"), ValueError, "problem"),
        (lambda: Hypothesis("p", ""), ValueError, "solution"),
        (lambda: Hypothesis("p", "s", needs=[]), ValueError, "needs"),
        (lambda: Hypothesis("p", "s").add_evidence("theory", 1, "n"), TypeError, "supports"),
        (lambda: Hypothesis("p", "s").add_evidence("theory", True, ""), ValueError, "note"),
        (lambda: ResearchLog("", ["a"]), ValueError, "problem"),
        (lambda: ResearchLog("p", ["a"]).add_candidate(""), ValueError, "solution"),
        (lambda: ResearchLog("p", ["a"]).add_candidate(3), TypeError, "solution"),
    ],
)
def test_each_error_names_its_argument_first(call, exc, name) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(name + (" " if " " not in name else "")), str(info.value)


def test_small_details() -> None:
    N = SimpleNamespace
    # a parsed key wins over what the raw text says
    assert _describe_failed_block(N(key="real", raw="@misc{other,", start_line=1)) == "entry 'real' (line 2)"
    board = Chessboard()
    for i in range(7):
        board.add(f"k{i}", f"p{i}", "m")
    assert len(board.crowded()) == 5  # default n
    # needs given as a one-shot iterator reaches every candidate, not only the first
    log = ResearchLog("p", ["a", "b"], needs=iter(["experiment"]))
    assert [h.needs for h in log.hypotheses] == [("experiment",), ("experiment",)]
    assert log.add_candidate("c").needs == ("experiment",)


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: _board1.cell(3, "m"), TypeError, "problem"),
        (lambda: _board1.cell("p", 3), TypeError, "method"),
        (lambda: Chessboard().add(3, "p", "m"), TypeError, "key"),
        (lambda: Chessboard().add("z", 3, "m"), TypeError, "problem"),
        (lambda: _board1.plot(annotate="x"), ValueError, "annotate"),
        (lambda: _board1.plot(max_keys=0), ValueError, "max_keys"),
        (lambda: Chessboard.from_bibtex("@misc{a, problem={p}, method={m}}", missing="x"), ValueError, "missing"),
        (lambda: Chessboard.from_bibtex("@misc{a, problem={p}, method={m}}", encoding=3), TypeError, "encoding"),
        (lambda: Chessboard(methods=3), TypeError, "methods"),
        (lambda: Chessboard(["p"], []).plot(), ValueError, "cannot plot an empty board:"),
    ],
)
def test_board_errors_name_their_argument_first(call, exc, name) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(name + " "), str(info.value)


def test_board_small_details() -> None:
    import matplotlib.pyplot as plt

    assert Chessboard().skipped == () and Chessboard(["p"], ["m"]).skipped == ()
    board = Chessboard()
    for key in "abcd":
        board.add(key, "p", "m")
    board.add("e", "q", "n")
    fig = board.plot()  # default max_keys = 3
    try:
        assert sorted(t.get_text() for t in fig.axes[0].texts) == ["a\nb\nc\n+1", "e"]
        assert all(p.get_linewidth() == 0.0 for p in fig.axes[0].patches if p.get_hatch() == "//")  # no edge lines
    finally:
        plt.close(fig)
