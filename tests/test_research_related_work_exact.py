"""Exact tests of :func:`companion.research.check_related_work` and its helpers.

tests/test_research_writing.py breaks each rule alone and looks for words of its message;
here whole messages, whole ``str(report)`` texts and the results of the small helpers
(sentence splitting, label matching, the report text) are compared exactly, on the edge
cases the rules document: abbreviations before a capital, a label at the very start of a
sentence, a two-sentence paragraph, several close keys, several filled cells or gaps.
"""

from __future__ import annotations

import pytest

from companion.research import (
    Chessboard,
    Finding,
    RelatedWorkReport,
    ReviewForm,
    _items,
    _names,
    _plain,
    _report_text,
    _sentences,
    check_related_work,
)

# the board and the good paragraph of tests/test_research_writing.py, shared
from test_research_writing import BIB, GAP, GOOD, PROBLEM, S1, S2, S3, S4, S5  # noqa: E402

GAP_TEXT = "gap large-batch training x second-order methods"


@pytest.fixture(scope="module")
def board() -> Chessboard:
    return Chessboard.from_bibtex(BIB, missing="skip")


def messages(report: RelatedWorkReport) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in report.failures]


# ------------------------------------------------------------------------------------------
# helpers


def test_report_text_counts_problems_in_the_singular_and_the_plural():
    one = [Finding("count", "too few")]
    two = [Finding("count", "too few"), Finding("gap", "no gap")]
    three = [*two, Finding("on-topic", "off")]
    assert _report_text("related work", [], "s") == "related work: all checks pass (s)"
    assert _report_text("related work", one, "s") == "related work: 1 problem (s)\n- [count] too few"
    assert _report_text("related work", two, "s") == "related work: 2 problems (s)\n- [count] too few\n- [gap] no gap"
    assert _report_text("x", three, "y") == "x: 3 problems (y)\n- [count] too few\n- [gap] no gap\n- [on-topic] off"


def test_plain_drops_roles_case_and_hyphens():
    assert _plain("Large-Batch {cite:p}`goyal2017accurate`  training {cite:t}`a,b`.") == "large batch training ."
    assert _plain("{cite}`x` Second-order   methods") == "second order methods"


def test_names_finds_whole_words_singular_and_plural():
    assert _names("second-order methods", "no second order method here") == 3
    assert _names("dropout", "dropouts help") == 0
    assert _names("dropout", "we use dropout") == 7
    # no match: -1, as documented
    assert _names("dropout", "nothing here") == -1
    assert _names("dropout", "dropoutx is another word") == -1
    # a label that does not end in s loses no letter: "dropou" is not "dropout"
    assert _names("dropout", "the dropou layer") == -1
    # a two-letter plural matches its one-letter singular
    assert _names("Qs", "the q trick") == 4
    # a one-letter label "s" has no singular: it never matches an empty word
    assert _names("s", "no such label here, really") == -1
    assert _names("s", "a s b") == 2


def test_sentences_keep_abbreviations_before_a_capital():
    text = ("Deep networks, e.g. ResNets, train well {cite:p}`he2016deep`. "
            "Goyal et al. Then again, cf. {cite:t}`you2017large` for more. Done.")
    assert _sentences(text) == [
        ("Deep networks, e.g. ResNets, train well {cite:p}`he2016deep`.", ["he2016deep"]),
        ("Goyal et al. Then again, cf. {cite:t}`you2017large` for more.", ["you2017large"]),
        ("Done.", []),
    ]
    # an upper-case abbreviation is still one: "Fig." and "E.g."
    assert [s for s, _ in _sentences("As in Fig. A shows. E.g. This holds. Ends (2019). Then more.")] == [
        "As in Fig. A shows.", "E.g. This holds.", "Ends (2019).", "Then more."]


def test_sentences_after_an_abbreviation_are_still_split():
    assert [s for s, _ in _sentences("See e.g. ResNets. Then A. Smith came. Then more. Done!")] == [
        "See e.g. ResNets.", "Then A. Smith came.", "Then more.", "Done!"]


def test_only_a_full_stop_after_an_abbreviation_or_initial_is_kept():
    # a question or an exclamation ends the sentence even right after "et al." or an initial
    assert [s for s, _ in _sentences("Is it plan A? Yes it is. Was it Goyal et al.? No! Then Fig. A is wrong.")] == [
        "Is it plan A?", "Yes it is.", "Was it Goyal et al.?", "No!", "Then Fig. A is wrong."]
    # a full stop after the abbreviation's own dot (a doubled dot, an ellipsis) ends the sentence
    assert [s for s, _ in _sentences("It was Goyal et al.. Then more. So e.g... Then more.")] == [
        "It was Goyal et al..", "Then more.", "So e.g...", "Then more."]


def test_items_messages():
    assert _items(["a", "b"], "strengths") == ("a", "b")
    with pytest.raises(TypeError) as error:
        _items(3, "strengths")
    assert str(error.value) == "strengths must be a list of str, got int"
    with pytest.raises(TypeError) as error:
        _items("a point", "questions")
    assert str(error.value) == "questions must be a list of str (one item per point), got a single str"


def test_review_form_rejects_a_number_of_strengths_exactly():
    form = dict(paper="goyal2017accurate", pages=12, summary="A summary.", strengths=3, weaknesses=["w"],
                questions=["q"], soundness=3, presentation=3, contribution=3, overall=6, confidence=3,
                minutes={"triage": 10, "skim": 60, "critical": 120})
    with pytest.raises(TypeError) as error:
        ReviewForm(**form)
    assert str(error.value) == "strengths must be a list of str, got int"


# ------------------------------------------------------------------------------------------
# check_related_work: arguments


def test_min_papers_defaults_to_five(board):
    five = GOOD.replace("{cite:p}`martens2010deep,dauphin2014identifying`", "{cite:p}`martens2010deep`")
    report = check_related_work(five, board, PROBLEM)
    assert report.ok, str(report)
    assert len(report.cited) == 5
    four = five.replace(" and growing batches {cite:p}`smith2018dont`", "")
    assert messages(check_related_work(four, board, PROBLEM)) == [
        ("count", "4 distinct papers of the board are cited, at least 5 are needed")]


def test_error_messages_are_exact(board):
    with pytest.raises(TypeError) as error:
        check_related_work(3, board)  # type: ignore[arg-type]
    assert str(error.value) == "text must be a str (the paragraph), got int"
    with pytest.raises(ValueError) as error:
        check_related_work(" \t\n", board)
    assert str(error.value) == "text must not be blank: write the paragraph"
    with pytest.raises(TypeError) as error:
        check_related_work(GOOD, {"a": 1})  # type: ignore[arg-type]
    assert str(error.value) == "board must be a Chessboard, got dict"
    with pytest.raises(ValueError) as error:
        check_related_work(GOOD, board, gap=("large-batch training", "learning-rate schedules"))
    assert str(error.value) == ("gap ('large-batch training', 'learning-rate schedules') is not a gap of the board: "
                                "it holds goyal2017accurate, hoffer2017train, smith2018dont")


def test_the_gap_sets_the_problem_whatever_the_opening_names_first(board):
    text = GOOD.replace(S1, "Optimization of large-batch training is hard at the small-batch learning rate.")
    report = check_related_work(text, board, gap=GAP)
    assert report.ok, str(report)
    assert report.problem == PROBLEM and report.gap == GAP
    # the same paragraph without the gap: the opening's first row is the problem
    inferred = check_related_work(text, board)
    assert inferred.problem == "optimization"


def test_the_gap_sets_the_problem_that_the_opening_must_name(board):
    text = GOOD.replace(S1, "Optimization is hard at the small-batch learning rate.")
    report = check_related_work(text, board, gap=GAP)
    assert report.problem == PROBLEM and report.gap == GAP
    assert messages(report) == [
        ("opening", "the first sentence does not name the problem 'large-batch training': open with it")]


# ------------------------------------------------------------------------------------------
# check_related_work: each rule's message, exactly


def test_syntax_messages_are_exact_and_numbered_from_one(board):
    text = "[@goyal2017accurate] " + GOOD.replace(S3, S3 + " See \\cite{you2017large}.")
    report = check_related_work(text, board, PROBLEM)
    assert messages(report) == [
        ("syntax", "sentence 1 has a Pandoc citation [@key] ('[@goyal2017accurate'), which the book does not render: "
                   "write {cite:t}`key` or {cite:p}`key`"),
        ("syntax", "sentence 4 has a LaTeX \\cite{...} ('\\\\cite{you2017large}'), which the book does not render: "
                   "write {cite:t}`key` or {cite:p}`key`"),
    ]


def test_syntax_quotes_the_text_outside_the_roles(board):
    # a LaTeX citation that wraps a role: the role is a citation of its own, the rest is quoted
    text = GOOD.replace(S3, "Layer-wise rates help \\cite{{cite:t}`you2017large`}.")
    report = check_related_work(text, board, PROBLEM)
    assert messages(report) == [
        ("syntax", "sentence 3 has a LaTeX \\cite{...} ('\\\\cite{ }'), which the book does not render: "
                   "write {cite:t}`key` or {cite:p}`key`")]


def test_keys_messages_are_exact(board):
    text = GOOD.replace("{cite:t}`you2017large`", "{cite:t}`you2017large,goodfellow2016deep,zzz,goyal2017acurate`")
    report = check_related_work(text, board, PROBLEM)
    assert messages(report) == [
        ("keys", "'goodfellow2016deep' is a textbook or a talk (the board skips it): "
                 "cite research papers that sit on the board"),
        ("keys", "'zzz' is not a key of the bibliography"),
        ("keys", "'goyal2017acurate' is not a key of the bibliography; did you mean 'goyal2017accurate'?"),
    ]


def test_at_most_two_close_keys_are_suggested():
    board = Chessboard()
    for key in ("smith2019a", "smith2019ab", "smith2019abc", "jones2020x"):
        board.add(key, "compression", "pruning")
    report = check_related_work("Compression works. Pruning helps {cite:p}`smith2019abcd`. Nothing is open.",
                                board, min_papers=1)
    assert messages(report)[0] == (
        "keys", "'smith2019abcd' is not a key of the bibliography; did you mean 'smith2019abc' or 'smith2019ab'?")


def test_structure_message_singular_and_plural(board):
    one = check_related_work("Large-batch training is hard.", board, PROBLEM, min_papers=1)
    assert ("structure", "the paragraph has 1 sentence; it needs at least 3: the problem, the work on it, the gap") \
        in messages(one)
    two = check_related_work(S1 + " No paper applies second-order methods {cite:p}`martens2010deep` to large-batch training.",
                             board, PROBLEM, min_papers=1)
    assert messages(two) == [
        ("structure", "the paragraph has 2 sentences; it needs at least 3: the problem, the work on it, the gap")]


def test_a_two_sentence_paragraph_still_ends_on_its_gap(board):
    ends = S1 + " No paper applies second-order methods {cite:p}`martens2010deep` to large-batch training."
    assert check_related_work(ends, board, PROBLEM, min_papers=1).gap == GAP
    misses = S1 + " Second-order methods {cite:p}`martens2010deep` help."
    assert messages(check_related_work(misses, board, PROBLEM, min_papers=1)) == [
        ("structure", "the paragraph has 2 sentences; it needs at least 3: the problem, the work on it, the gap"),
        ("gap", "the last sentence does not name the problem 'large-batch training': end on the gap, its problem and its method"),
        ("gap", "the last sentence names 'second-order methods' but does not say that the cell is empty "
                "(no word such as 'no', 'not', 'open', 'unexplored')"),
    ]


def test_opening_message_lists_the_problems(board):
    report = check_related_work("This is about something. " + " ".join([S2, S3, S4, S5]), board)
    assert messages(report) == [
        ("opening", "the first sentence names no problem of the board; open with the problem, "
                    "one of: large-batch training, optimization, overfitting")]
    assert report.gap is None
    assert str(report) == ("related work: 1 problem (5 sentences, 6 papers cited, no gap found)\n"
                           "- [opening] the first sentence names no problem of the board; open with the problem, "
                           "one of: large-batch training, optimization, overfitting")


def test_the_problem_named_earliest_in_the_opening_wins(board):
    # the second sentence names neither problem: only the first sentence decides
    text = "Optimization of large-batch training is hard. It is slow {cite:p}`you2017large`. Nothing more."
    assert check_related_work(text, board, min_papers=1).problem == "optimization"
    text = "Large-batch training needs optimization. It is slow {cite:p}`you2017large`. Optimization is not all."
    assert check_related_work(text, board, min_papers=1).problem == PROBLEM


def test_the_longest_problem_wins_at_the_same_place():
    board = Chessboard()
    board.add("a2019x", "generalization", "weight decay")
    board.add("b2019y", "generalization gap", "sharpness")
    text = ("The generalization gap puzzles theory. Weight decay {cite:p}`a2019x` helps. Sharpness {cite:p}`b2019y` "
            "was studied. No one tried weight decay on the generalization gap.")
    report = check_related_work(text, board, min_papers=2)
    assert report.problem == "generalization gap"
    assert report.gap == ("generalization gap", "weight decay")
    assert report.ok, str(report)


def grouping_board() -> Chessboard:
    board = Chessboard()
    board.add("a2019x", ["pruning", "quantization"], ["magnitude", "hessian"])
    board.add("b2019y", "distillation", ["teacher", "temperature"])
    board.add("c2019z", "distillation", "hessian")
    board.add("d2019w", "pruning", "teacher")
    board.add("e2019v", "pruning", "sparsity")
    return board


def test_grouping_accepts_papers_that_share_only_a_method():
    board = grouping_board()
    text = "Pruning is hard. Hessian methods {cite:p}`a2019x,c2019z` help. No one tried temperature for pruning."
    report = check_related_work(text, board, "pruning", min_papers=2)
    assert report.rules == ("on-topic",), str(report)


def test_grouping_message_is_exact():
    board = grouping_board()
    text = "Pruning is hard. Two papers {cite:p}`a2019x,b2019y` differ. No one tried temperature for pruning."
    report = check_related_work(text, board, "pruning", min_papers=2)
    assert messages(report)[0] == (
        "grouping", "sentence 2 cites a2019x, b2019y, which share no problem and no method "
                    "(a2019x: pruning, quantization x magnitude, hessian; b2019y: distillation x teacher, temperature): "
                    "group papers by a common problem or method, or split the sentence")


def test_on_topic_message_is_exact():
    board = grouping_board()
    text = "Distillation is hard. Pruning {cite:p}`a2019x` helps. No one tried sparsity for distillation."
    report = check_related_work(text, board, "distillation", min_papers=1)
    assert report.gap == ("distillation", "sparsity")
    assert messages(report) == [
        ("on-topic", "a2019x (pruning, quantization x magnitude, hessian) is neither about 'distillation' "
                     "nor uses 'sparsity': leave it out, or say why it matters here")]


def test_a_role_followed_by_a_year_is_not_an_author_named_by_hand(board):
    text = GOOD.replace(S3, "The method of {cite:t}`you2017large` (2017) adapts the rate layer by layer.")
    assert check_related_work(text, board, PROBLEM).ok


def test_uncited_matches_key_prefixes_ignoring_case_and_punctuation():
    board = Chessboard(methods=["pruning", "distillation", "quantization"])
    board.add("ben-nun2019x", "compression", "pruning")
    board.add("ab2019y", "compression", "distillation")
    text = ("Compression makes networks small. Ben-Nun et al. prune {cite:p}`ben-nun2019x` and "
            "Ab (2019) distils {cite:p}`ab2019y`. Nothing is known of quantization for compression.")
    report = check_related_work(text, board, "compression", min_papers=2)
    assert report.ok, str(report)
    assert report.gap == ("compression", "quantization")
    uncited = check_related_work(text.replace("{cite:p}`ben-nun2019x`", "it"), board, "compression", min_papers=1)
    assert messages(uncited) == [
        ("uncited", "sentence 2 names authors by hand ('Ben-Nun et al.') but cites no key of theirs: "
                    "cite the paper with {cite:t}`key` or {cite:p}`key`")]


def test_a_problem_at_the_start_of_the_last_sentence_is_named(board):
    text = GOOD.replace(S5, "Large-batch training has not been tried with second-order methods.")
    report = check_related_work(text, board, PROBLEM)
    assert report.ok, str(report)
    assert report.gap == GAP


def test_gap_message_without_the_problem_is_exact(board):
    text = GOOD.replace(S5, "No paper applies second-order methods to this problem: the cell is open.")
    assert messages(check_related_work(text, board, PROBLEM)) == [
        ("gap", "the last sentence does not name the problem 'large-batch training': "
                "end on the gap, its problem and its method")]


def test_gap_message_for_filled_cells_lists_each_cell(board):
    text = GOOD.replace(S5, "No paper applies learning-rate schedules or adaptive learning rates to large-batch training.")
    assert messages(check_related_work(text, board, PROBLEM)) == [
        ("gap", "the last sentence names no empty cell of the row 'large-batch training' "
                "(large-batch training x learning-rate schedules holds goyal2017accurate, hoffer2017train, smith2018dont; "
                "large-batch training x adaptive learning rates holds you2017large)")]


def test_gap_message_without_a_method_suggests_three_gaps():
    board = Chessboard(methods=["pruning", "distillation", "quantization", "low-rank factorization", "hashing"])
    board.add("x2019y", "compression", "hashing")
    text = "Compression matters. It works {cite:p}`x2019y`. Nothing else is known about compression."
    assert messages(check_related_work(text, board, min_papers=1)) == [
        ("gap", "the last sentence names no method of the board: end on a gap of the row 'compression', "
                "e.g. pruning, distillation, quantization")]


def test_the_gap_is_the_empty_cell_named_first(board):
    text = GOOD.replace(S5, "No paper applies second-order methods or dropout to large-batch training.")
    report = check_related_work(text, board, PROBLEM)
    assert report.ok, str(report)
    assert report.gap == GAP
    text = GOOD.replace(S5, "No paper applies dropout or second-order methods to large-batch training.")
    assert check_related_work(text, board, PROBLEM).gap == ("large-batch training", "dropout")


def test_gap_message_without_a_word_of_absence_is_exact(board):
    text = GOOD.replace(S5, "Second-order methods would suit large-batch training.")
    report = check_related_work(text, board, PROBLEM)
    assert messages(report) == [
        ("gap", "the last sentence names 'second-order methods' but does not say that the cell is empty "
                "(no word such as 'no', 'not', 'open', 'unexplored')")]
    assert str(report) == (f"related work: 1 problem (5 sentences, 6 papers cited, {GAP_TEXT})\n- [gap] " + report.failures[0].message)
