"""Tests of the written deliverables of companion.research: related work, reviews, experiments.

Each rule of :func:`check_related_work`, :meth:`ReviewForm.check` and :func:`check_experiment`
is broken alone on a hand-written example that otherwise passes, and must be reported under
its own name and no other; every raise of the three is provoked.
"""

from __future__ import annotations

import math

import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.research import (
    CONCLUSIONS,
    EXPERIMENT_RULES,
    RELATED_WORK_RULES,
    REVIEW_RULES,
    Chessboard,
    ExperimentReport,
    Finding,
    Hypothesis,
    ReadingPlan,
    RelatedWorkReport,
    ReviewForm,
    ReviewReport,
    check_experiment,
    check_related_work,
)

# ------------------------------------------------------------------------------------------
# related work

BIB = """
@inproceedings{goyal2017accurate, title = {A}, problem = {large-batch training}, method = {learning-rate schedules, stochastic gradient}}
@inproceedings{hoffer2017train, title = {B}, problem = {large-batch training}, method = {learning-rate schedules, normalization}}
@inproceedings{smith2018dont, title = {C}, problem = {large-batch training}, method = {learning-rate schedules}}
@inproceedings{you2017large, title = {D}, problem = {large-batch training}, method = {adaptive learning rates}}
@inproceedings{martens2010deep, title = {E}, problem = {optimization}, method = {second-order methods}}
@inproceedings{dauphin2014identifying, title = {F}, problem = {optimization}, method = {second-order methods}}
@inproceedings{srivastava2014dropout, title = {G}, problem = {overfitting}, method = {dropout}}
@book{goodfellow2016deep, title = {Deep Learning}}
"""
PROBLEM, GAP = "large-batch training", ("large-batch training", "second-order methods")

S1 = "Large-batch training is cheaper per epoch but loses accuracy at the small-batch learning rate."
S2 = ("Learning-rate schedules recover it: warmup {cite:p}`goyal2017accurate`, longer training "
      "{cite:p}`hoffer2017train` and growing batches {cite:p}`smith2018dont`.")
S3 = "{cite:t}`you2017large` adapt the rate layer by layer."
S4 = "Second-order methods use curvature {cite:p}`martens2010deep,dauphin2014identifying`."
S5 = "No paper on the board applies second-order methods to large-batch training: the cell is open."
GOOD = " ".join([S1, S2, S3, S4, S5])


@pytest.fixture(scope="module")
def board() -> Chessboard:
    return Chessboard.from_bibtex(BIB, missing="skip")


def check(text: str, board: Chessboard, **kwargs) -> RelatedWorkReport:
    kwargs.setdefault("min_papers", 5)
    return check_related_work(text, board, PROBLEM, **kwargs)


def test_a_good_paragraph_passes(board):
    report = check(GOOD, board, gap=GAP)
    assert report.ok and report.failures == () and report.rules == ()
    assert report.sentences == (S1, S2, S3, S4, S5)
    assert report.cited == ("goyal2017accurate", "hoffer2017train", "smith2018dont", "you2017large",
                            "martens2010deep", "dauphin2014identifying")
    assert report.problem == PROBLEM and report.gap == GAP
    assert str(report) == "related work: all checks pass (5 sentences, 6 papers cited, gap large-batch training x second-order methods)"


def test_the_problem_and_the_gap_are_read_from_the_text(board):
    report = check_related_work(GOOD, board, min_papers=6)
    assert report.ok and report.problem == PROBLEM and report.gap == GAP


@pytest.mark.parametrize(
    "text, kwargs, rule, words",
    [
        # syntax: other citation styles, next to the role so that nothing else changes
        (GOOD.replace("{cite:t}`you2017large`", "{cite:t}`you2017large` [@you2017large]"), {}, "syntax", ["Pandoc", "[@you2017large"]),
        (GOOD.replace("{cite:t}`you2017large`", "{cite:t}`you2017large` \\citep{you2017large}"), {}, "syntax", ["LaTeX"]),
        (GOOD.replace("curvature {cite:p}", "curvature {cite:p} and {cite:p}"), {}, "syntax", ["without its `key`"]),
        # keys: an unknown key (with a suggestion), a textbook
        (GOOD.replace("{cite:t}`you2017large`", "{cite:t}`you2017large,goyal2017acurate`"), {}, "keys",
         ["'goyal2017acurate' is not a key", "did you mean 'goyal2017accurate'"]),
        (GOOD.replace("{cite:t}`you2017large`", "{cite:t}`you2017large,goodfellow2016deep`"), {}, "keys", ["textbook"]),
        # structure: two sentences
        (S1 + " No paper applies second-order methods {cite:p}`martens2010deep` to large-batch training.", {"min_papers": 1},
         "structure", ["2 sentences", "at least 3"]),
        # count
        (GOOD, {"min_papers": 7}, "count", ["6 distinct papers", "at least 7"]),
        # opening: the first sentence does not name the problem
        (GOOD.replace("Large-batch training is", "Training with big batches is", 1), {}, "opening", ["does not name the problem"]),
        # grouping: papers with nothing in common in one sentence
        (GOOD.replace("{cite:t}`you2017large`", "{cite:t}`you2017large,martens2010deep`"), {}, "grouping",
         ["sentence 3 cites you2017large, martens2010deep", "share no problem and no method"]),
        # uncited: authors named by hand, in three spellings
        (GOOD.replace(S3, S3 + " Smith et al. agree."), {}, "uncited", ["sentence 4", "'Smith et al.'"]),
        (GOOD.replace(S3, S3 + " So does Keskar (2017)."), {}, "uncited", ["'Keskar (2017)'"]),
        (GOOD.replace(S3, S3 + " Sharp minima matter (Keskar, 2017)."), {}, "uncited", ["'(Keskar, 2017)'"]),
        (GOOD.replace("{cite:t}`you2017large` adapt", "Goyal et al. {cite:p}`you2017large` adapt"), {}, "uncited", ["sentence 3"]),
        # gap: a filled cell, no word of absence, no problem, no method, another gap than asked
        (GOOD.replace(S5, "No paper on the board applies learning-rate schedules to large-batch training."), {}, "gap",
         ["names no empty cell", "large-batch training x learning-rate schedules holds goyal2017accurate"]),
        (GOOD.replace(S5, "Second-order methods would suit large-batch training."), {}, "gap", ["does not say that the cell is empty"]),
        (GOOD.replace(S5, "No paper applies second-order methods to this problem: the cell is open."), {}, "gap",
         ["does not name the problem"]),
        (GOOD.replace(S5, "Nothing is known about large-batch training beyond this."), {}, "gap", ["names no method of the board"]),
        (GOOD.replace(S5, "No paper applies dropout to large-batch training: the cell is open."), {"gap": GAP}, "gap",
         ["does not name the method of the gap 'second-order methods'"]),
        # on-topic: a paper that is neither in the row nor in the column
        (GOOD.replace(S3, S3 + " Dropout regularizes {cite:p}`srivastava2014dropout`."), {}, "on-topic",
         ["srivastava2014dropout (overfitting x dropout) is neither about 'large-batch training' nor uses 'second-order methods'"]),
    ],
)
def test_each_rule_broken_alone_fails_with_its_message(board, text, kwargs, rule, words):
    report = check(text, board, **kwargs)
    assert not report.ok
    assert report.rules == (rule,), str(report)
    assert all(f.rule == rule for f in report.failures)
    message = " ".join(f.message for f in report.failures)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
        assert word in str(report)


def test_no_problem_in_the_opening_when_it_is_to_be_inferred(board):
    report = check_related_work("This is about something. " + " ".join([S2, S3, S4, S5]), board, min_papers=5)
    assert report.rules == ("opening",) and report.problem is None and report.gap is None
    assert "one of: large-batch training, optimization, overfitting" in report.failures[0].message


def test_a_row_without_gaps_cannot_end_on_one():
    full = Chessboard()
    full.add("a2019x", "compression", "pruning")
    full.add("b2019y", "compression", "distillation")
    text = ("Compression makes networks small. Pruning {cite:p}`a2019x` and distillation {cite:p}`b2019y` both work. "
            "Nothing is missing in compression.")
    report = check_related_work(text, full, min_papers=2)
    assert report.rules == ("gap",) and "the row 'compression' has no gap" in report.failures[0].message


def test_failures_are_listed_in_the_order_of_the_rules(board):
    text = GOOD.replace("{cite:t}`you2017large`", "[@x] {cite:t}`you2017large,martens2010deep`").replace("Large-batch training is", "It is", 1)
    report = check(text, board, min_papers=9)
    assert report.rules == ("syntax", "count", "opening", "grouping")
    assert [f.rule for f in report.failures] == sorted((f.rule for f in report.failures), key=RELATED_WORK_RULES.index)
    assert str(report).startswith("related work: 4 problems (")
    assert all(isinstance(f, Finding) for f in report.failures)


@pytest.mark.parametrize(
    "text, n",
    [
        ("Goyal et al. showed it. Then came more.", 2),
        ("Scaling works, e.g. for ResNets. It fails, i.e. at 16k. As in Fig. 2 it does.", 3),
        ("J. Smith wrote it. Then {cite:t}`a` did. Did it work? Yes!", 4),
        ("It works (as shown). {cite:p}`a.b` holds a dot in its key.", 2),
        ("Ends here.Not a new sentence, no space. lower case start. Done.", 2),
        ("Is the cell open? The answer is no. Nobody tried.", 3),
    ],
)
def test_sentences_are_split_where_documented(board, text, n):
    assert len(check_related_work(text, board, "optimization", min_papers=1).sentences) == n


def test_labels_match_without_case_hyphens_or_plural(board):
    text = GOOD.replace("Large-batch training is", "LARGE BATCH TRAININGs are", 1).replace(
        "applies second-order methods", "applies a Second Order Method")
    assert check(text, board).ok


@settings(max_examples=25, deadline=None)
@given(st.permutations(["goyal2017accurate", "hoffer2017train", "smith2018dont"]), st.sampled_from(["", ":p", ":t", ":ps"]))
def test_the_order_and_role_of_grouped_keys_do_not_matter(board, keys, role):
    text = GOOD.replace(S2, f"Learning-rate schedules recover it {{cite{role}}}`{', '.join(keys)}`.")
    report = check(text, board)
    assert report.ok, str(report)
    assert set(report.cited[:3]) == set(keys)


def test_related_work_errors(board):
    with pytest.raises(TypeError, match="text must be a str"):
        check_related_work(None, board)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text must not be blank"):
        check_related_work("  \n", board)
    with pytest.raises(TypeError, match="board must be a Chessboard"):
        check_related_work(GOOD, {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="problem 'nope' is not a row"):
        check_related_work(GOOD, board, "nope")
    with pytest.raises(TypeError, match="problem must be a str"):
        check_related_work(GOOD, board, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="gap must be a"):
        check_related_work(GOOD, board, gap=["large-batch training", "dropout"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method 'nope' is not a column"):
        check_related_work(GOOD, board, gap=("large-batch training", "nope"))
    with pytest.raises(ValueError, match="is not a gap of the board: it holds goyal2017accurate"):
        check_related_work(GOOD, board, gap=("large-batch training", "stochastic gradient"))
    with pytest.raises(ValueError, match="not in the row of problem 'optimization'"):
        check_related_work(GOOD, board, "optimization", gap=GAP)
    with pytest.raises(ValueError, match="min_papers must be >= 1"):
        check_related_work(GOOD, board, min_papers=0)
    with pytest.raises(TypeError, match="min_papers must be an int"):
        check_related_work(GOOD, board, min_papers=2.0)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# reviews

SUMMARY = ("The paper trains a residual network on ImageNet with mini-batches of up to 8192 images and "
           "keeps the accuracy of small batches, by scaling the learning rate with the batch size and "
           "warming it up over the first five epochs of training.")
FORM = dict(
    paper="goyal2017accurate", pages=12, summary=SUMMARY,
    strengths=["A simple rule that practitioners can apply at once.", "Tested at scale against a strong baseline."],
    weaknesses=["The warmup length of Section 2.2 is chosen by hand, with no rule for other models.",
                "The error rises beyond a batch of 8k in Figure 1, and the paper does not say why."],
    questions=["How long must the warmup be for a batch of 16k?"],
    soundness=3, presentation=4, contribution=3, overall=7, confidence=3,
    minutes={"triage": 15, "skim": 80, "critical": 200},
)


def form(**changes) -> ReviewForm:
    return ReviewForm(**{**FORM, **changes})


def test_a_good_review_passes_and_renders():
    review = form()
    report = review.check()
    assert isinstance(report, ReviewReport) and report.ok and report.rules == ()
    assert report.plan.total_minutes == ReadingPlan(12).total_minutes == 350
    text = review.to_markdown()
    for piece in ["**Review of goyal2017accurate**", "**Summary.** " + SUMMARY, "- A simple rule",
                  "- The warmup length of Section 2.2", "1. How long must", "| soundness | 3 / 4 | good |",
                  "| overall | 7 / 10 | accept |", "| confidence | 3 / 5 | fairly confident |",
                  "triage 15 min, skim 80 min, critical 200 min (295 min in all)"]:
        assert piece in text, piece
    assert str(report) == "review: all checks pass (plan: 350 min for 12 pages)"


def test_the_form_normalizes_its_fields():
    review = form(strengths=("  A simple   rule that practitioners can apply.  ",), minutes={"critical": 200, "skim": 80, "triage": 15})
    assert review.strengths == ("A simple rule that practitioners can apply.",)
    assert list(review.minutes) == ["triage", "skim", "critical"] and review.minutes["skim"] == 80.0


@pytest.mark.parametrize(
    "changes, rule, words",
    [
        ({"summary": "It scales the learning rate."}, "summary", ["5 words"]),
        ({"summary": " ".join(["word"] * 301)}, "summary", ["301 words"]),
        ({"strengths": []}, "strengths", ["at least one strength"]),
        ({"strengths": ["Simple.", "Tested at scale against a strong baseline."]}, "strengths", ["strength 1 ('Simple.')"]),
        ({"weaknesses": []}, "weaknesses", ["at least one weakness"]),
        ({"weaknesses": [FORM["weaknesses"][0], "The experiments are weak and the claims are not well supported."]},
         "weaknesses", ["weakness 2 ('The experiments are weak and the ...') is not specific"]),
        ({"weaknesses": [FORM["weaknesses"][0], "Figure 1 is unclear."]}, "weaknesses", ["weakness 2", "has 4 words"]),
        ({"questions": []}, "questions", ["at least one question"]),
        ({"questions": ["Tell us the warmup length for 16k."]}, "questions", ["does not end with a question mark"]),
        ({"soundness": 2}, "scores", ["overall 7 (accept) with soundness 2 (fair)"]),
        ({"presentation": 1}, "scores", ["with presentation 1 (poor)"]),
        ({"overall": 4}, "scores", ["overall 4 (borderline reject)", "which axis is the reason"]),
        ({"overall": 8, "strengths": ["A simple rule that practitioners can apply at once."]}, "scores",
         ["more weaknesses (2) than strengths (1)"]),
        ({"overall": 3, "soundness": 2, "weaknesses": [FORM["weaknesses"][0]]}, "scores", ["more strengths (2) than weaknesses (1)"]),
        ({"confidence": 4, "minutes": {"triage": 10, "skim": 30, "critical": 100}}, "confidence",
         ["confidence 4", "100 min of critical reading", "the 245 min planned"]),
        ({"minutes": {"triage": 30, "skim": 60, "critical": 200}}, "time", ["triage pass took 30 min, over its budget of 15 min"]),
        ({"minutes": {"triage": 15, "skim": 80, "critical": 300}}, "time", ["critical pass took 300 min, over its budget of 245 min"]),
        ({"minutes": {"triage": 15, "skim": 0, "critical": 200}}, "time", ["the skim pass took 0 min"]),
        ({"minutes": {"triage": 15, "skim": 185, "critical": 200}}, "time", ["textbook", "off track"]),
    ],
)
def test_each_review_rule_broken_alone_fails_with_its_message(changes, rule, words):
    report = form(**changes).check()
    assert report.rules == (rule,), str(report)
    message = " ".join(f.message for f in report.failures)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_a_reject_with_a_fair_axis_is_consistent():
    assert form(overall=3, soundness=2, weaknesses=FORM["weaknesses"] * 2).check().ok
    assert form(overall=5, soundness=2).check().ok   # borderline: no rule applies


def test_the_plan_and_the_tolerance_are_used():
    slow = form(minutes={"triage": 16, "skim": 80, "critical": 200})
    assert slow.check().ok                                   # 16 <= 1.1 * 15
    assert slow.check(tolerance=0.0).rules == ("time",)
    assert form().check(plan=ReadingPlan(4)).rules == ("time",)   # 200 min of critical reading for 4 pages


@pytest.mark.parametrize("place", ["Section 3.2", "Sec. 4", "§2", "Fig. 3", "Figure 1", "Table 2", "Eq. (5)", "Equation 2",
                                   "Algorithm 1", "Appendix B", "Theorem 1", "Lemma 2", "page 4", "line 120", "eq 3"])
def test_a_weakness_is_specific_when_it_names_a_place(place):
    weakness = f"The argument given in {place} does not hold when the batch is small."
    assert form(weaknesses=[weakness] * 2).check().ok


@pytest.mark.parametrize("vague", ["The sections of the paper are hard to follow for a reader.",
                                   "The guidelines 3 and the figures are not convincing at all here.",
                                   "The paper needs more experiments with other models and tasks."])
def test_a_weakness_without_a_place_is_not_specific(vague):
    assert form(weaknesses=[vague] * 2).check().rules == ("weaknesses",)


def test_review_errors():
    with pytest.raises(ValueError, match="paper must be a non-empty string"):
        form(paper=" ")
    with pytest.raises(ValueError, match="pages must be >= 1"):
        form(pages=0)
    with pytest.raises(TypeError, match="strengths must be a list of str"):
        form(strengths="good")
    with pytest.raises(TypeError, match="questions must be a list of str"):
        form(questions=3)
    with pytest.raises(TypeError, match="each item of weaknesses must be a str"):
        form(weaknesses=["fine (Fig. 1)", 3])
    with pytest.raises(ValueError, match=r"soundness must be in \[1, 4\], got 5"):
        form(soundness=5)
    with pytest.raises(ValueError, match=r"overall must be in \[1, 10\], got 0"):
        form(overall=0)
    with pytest.raises(ValueError, match=r"confidence must be in \[1, 5\], got 6"):
        form(confidence=6)
    with pytest.raises(TypeError, match="presentation must be an int"):
        form(presentation=True)
    with pytest.raises(TypeError, match="minutes must be a dict"):
        form(minutes=[15, 80, 200])
    with pytest.raises(ValueError, match="minutes lacks the passes"):
        form(minutes={"triage": 15, "skim": 80})
    with pytest.raises(ValueError, match="minutes has unknown passes"):
        form(minutes={"triage": 15, "skim": 80, "critical": 200, "coffee": 10})
    with pytest.raises(ValueError, match=r"minutes\['skim'\] must be >= 0"):
        form(minutes={"triage": 15, "skim": -1, "critical": 200})
    with pytest.raises(TypeError, match="plan must be a ReadingPlan"):
        form().check(plan=12)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        form().check(tolerance=-0.1)
    assert REVIEW_RULES == ("summary", "strengths", "weaknesses", "questions", "scores", "confidence", "time")


# ------------------------------------------------------------------------------------------
# experiments

BASE = [0.80, 0.82, 0.79, 0.81, 0.80]
UP = [0.85, 0.86, 0.83, 0.87, 0.84]          # clearly above the baseline
NOISE = [0.81, 0.81, 0.80, 0.80, 0.81]       # differences +0.01, -0.01, +0.01, -0.01, +0.01


def scipy_conclusion(baseline, treatment, predicted, confidence=0.95):
    ci = scipy.stats.ttest_rel(treatment, baseline).confidence_interval(confidence)
    sign = 1 if predicted == "increase" else -1
    low, high = sorted((sign * ci.low, sign * ci.high))
    return "supported" if low > 0 else "refuted" if high < 0 else "inconclusive"


@pytest.mark.parametrize("treatment", [UP, NOISE, [2 * b - u for b, u in zip(BASE, UP)]])
@pytest.mark.parametrize("predicted", ["increase", "decrease"])
def test_the_conclusion_follows_the_interval_as_scipy_computes_it(treatment, predicted):
    expected = scipy_conclusion(BASE, treatment, predicted)
    for conclusion in CONCLUSIONS:
        report = check_experiment(BASE, treatment, predicted=predicted, conclusion=conclusion)
        assert isinstance(report, ExperimentReport) and report.expected == expected
        assert report.ok == (conclusion == expected)
        if conclusion != expected:
            assert report.rules == ("conclusion",)
            assert f"the data say {expected!r}, not {conclusion!r}" in report.failures[0].message
    ci = scipy.stats.ttest_rel(treatment, BASE).confidence_interval(0.95)
    assert math.isclose(report.test.low, ci.low, rel_tol=1e-9) and math.isclose(report.test.high, ci.high, rel_tol=1e-9)


def test_the_messages_explain_the_interval():
    inconclusive = check_experiment(BASE, NOISE, predicted="increase", conclusion="supported")
    assert "contains 0" in inconclusive.failures[0].message
    assert "as predicted" in check_experiment(BASE, UP, predicted="increase", conclusion="refuted").failures[0].message
    down = [2 * b - u for b, u in zip(BASE, UP)]
    assert "below 0, as predicted" in check_experiment(BASE, down, predicted="decrease", conclusion="inconclusive").failures[0].message
    assert "below 0, against the predicted increase" in check_experiment(BASE, down, predicted="increase", conclusion="supported").failures[0].message


def test_identical_arms_are_inconclusive():
    report = check_experiment(BASE, BASE, predicted="increase", conclusion="inconclusive")
    assert report.ok and report.expected == "inconclusive" and report.test.low == report.test.high == 0.0
    shifted = [b + 0.01 for b in BASE]   # the same difference at every seed: a zero-width interval above 0
    assert check_experiment(BASE, shifted, predicted="increase", conclusion="supported").ok


def test_seeds_must_be_enough_and_distinct():
    report = check_experiment(BASE[:3], UP[:3], predicted="increase", conclusion="supported")
    assert report.rules == ("seeds",) and "3 seeds per arm; run at least 5" in report.failures[0].message
    assert check_experiment(BASE[:3], UP[:3], predicted="increase", conclusion="supported", min_seeds=3).ok
    report = check_experiment(BASE, UP, predicted="increase", conclusion="supported", seeds=[0, 1, 1, 2, 2])
    assert report.rules == ("seeds",) and "seeds [1, 2] are repeated" in report.failures[0].message


@pytest.mark.parametrize(
    "treatment, conclusion, record, ok",
    [
        (UP, "supported", lambda h: h.support("experiment", "up"), True),
        (UP, "supported", lambda h: None, False),
        (UP, "supported", lambda h: h.support("theory", "why"), False),
        ([2 * b - u for b, u in zip(BASE, UP)], "refuted", lambda h: h.refute("experiment", "down"), True),
        ([2 * b - u for b, u in zip(BASE, UP)], "refuted", lambda h: h.support("experiment", "down"), False),
        (NOISE, "inconclusive", lambda h: None, True),
        (NOISE, "inconclusive", lambda h: h.refute("experiment", "no effect"), False),
    ],
)
def test_the_hypothesis_must_agree_with_the_conclusion(treatment, conclusion, record, ok):
    h = Hypothesis("low accuracy", "momentum", needs=["experiment"])
    record(h)
    report = check_experiment(BASE, treatment, predicted="increase", conclusion=conclusion, hypothesis=h)
    assert report.ok == ok, str(report)
    if not ok:
        assert report.rules == ("hypothesis",)


def test_rerun_checks_that_the_data_come_from_the_code():
    data = {s: (b, t) for s, b, t in zip([10, 11, 12, 13, 14], BASE, UP)}
    calls = []

    def rerun(seed):
        calls.append(seed)
        return data[seed]

    kwargs = dict(predicted="increase", conclusion="supported", seeds=[10, 11, 12, 13, 14], rerun=rerun)
    assert check_experiment(BASE, UP, **kwargs).ok and calls == [12]          # the middle seed by default
    assert check_experiment(BASE, UP, rerun_seeds=[10, 14], **kwargs).ok and calls[1:] == [10, 14]
    faked = list(UP)
    faked[2] += 0.01
    report = check_experiment(BASE, faked, **kwargs)
    assert report.rules == ("rerun",)
    assert "seed 12, treatment: the run gives 0.83 now, but 0.84 was recorded" in report.failures[0].message
    assert check_experiment(BASE, faked, atol=0.02, **kwargs).ok
    assert check_experiment(BASE, faked, rerun_seeds=[11], **kwargs).ok        # only seed 12 was faked
    assert str(report).startswith("experiment: 1 problem (mean difference")
    assert EXPERIMENT_RULES == ("seeds", "conclusion", "hypothesis", "rerun")


def test_experiment_errors():
    ok = dict(predicted="increase", conclusion="supported")
    with pytest.raises(ValueError, match="predicted must be one of 'increase', 'decrease'"):
        check_experiment(BASE, UP, predicted="up", conclusion="supported")
    with pytest.raises(ValueError, match="conclusion must be one of 'supported', 'refuted', 'inconclusive'"):
        check_experiment(BASE, UP, predicted="increase", conclusion="yes")
    with pytest.raises(ValueError, match="one value per seed each, got 5 and 4"):
        check_experiment(BASE[:4], UP, **ok)
    with pytest.raises(TypeError, match="must be a real number"):
        check_experiment(BASE, ["a"] * 5, **ok)
    with pytest.raises(ValueError, match=r"seeds must hold one seed per run \(5\), got 4"):
        check_experiment(BASE, UP, seeds=[0, 1, 2, 3], **ok)
    with pytest.raises(TypeError, match="seeds must be a sequence of int"):
        check_experiment(BASE, UP, seeds="01234", **ok)
    with pytest.raises(TypeError, match="each seed must be an int"):
        check_experiment(BASE, UP, seeds=[0, 1, 2, 3, 4.0], **ok)
    with pytest.raises(TypeError, match="hypothesis must be a Hypothesis"):
        check_experiment(BASE, UP, hypothesis="h", **ok)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rerun must be callable"):
        check_experiment(BASE, UP, rerun=3, **ok)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rerun seed 7 is not one of the seeds"):
        check_experiment(BASE, UP, rerun=lambda s: (0.0, 0.0), rerun_seeds=[7], **ok)
    with pytest.raises(TypeError, match="must return a \\(baseline, treatment\\) pair"):
        check_experiment(BASE, UP, rerun=lambda s: 0.8, **ok)
    with pytest.raises(TypeError, match="the value returned by rerun must be a real number"):
        check_experiment(BASE, UP, rerun=lambda s: ("a", 0.8), **ok)
    with pytest.raises(ValueError, match="min_seeds must be >= 2"):
        check_experiment(BASE, UP, min_seeds=1, **ok)
    with pytest.raises(ValueError, match="atol must be >= 0"):
        check_experiment(BASE, UP, atol=-1.0, **ok)
    with pytest.raises(ValueError, match="confidence must be"):
        check_experiment(BASE, UP, confidence=1.5, **ok)
