"""Tools for doing research: the chessboard, a reading plan, and a hypothesis log.

A research field can be drawn as a *chessboard*: one row per problem (or application), one
column per method, and in each cell the papers that apply that method to that problem. The
cells you have filled are the papers you have read; the empty cells are candidate research
directions. :class:`ReadingPlan` budgets the time to read one paper (a short triage, a
comprehension pass, then mostly critical thinking), and :class:`Hypothesis` and
:class:`ResearchLog` keep the (problem, solution) hypotheses of one research question,
moving on to the next candidate solution whenever one is refuted.

Three checks serve the written deliverables of research: :func:`check_related_work` checks the
structure and the citations of a related-work paragraph written from a chessboard,
:class:`ReviewForm` holds a review on a conference-style form and checks that it is complete,
specific and consistent with the reading plan, and :func:`check_experiment` recomputes the
paired statistics of an experiment and checks that its stated conclusion follows from them.
Each returns a report that lists one :class:`Finding` per broken rule. None of them can tell
whether the writing is *true* or the ideas good; they catch the mechanical mistakes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable, Mapping, NamedTuple, Optional, Sequence, Union

from companion import _validate
from companion.stats import PairedTTestResult, paired_t_test

if TYPE_CHECKING:  # imported lazily at run time: importing companion.research stays cheap
    import matplotlib.axes
    import matplotlib.figure
    import pandas

__all__ = [
    "Chessboard",
    "Evidence",
    "ExperimentReport",
    "Finding",
    "Hypothesis",
    "ReadingPass",
    "ReadingPlan",
    "RelatedWorkReport",
    "ResearchLog",
    "ReviewForm",
    "ReviewReport",
    "check_experiment",
    "check_related_work",
    "AXIS_SCALE",
    "CONCLUSIONS",
    "CONFIDENCE_SCALE",
    "EVIDENCE_KINDS",
    "EXPERIMENT_RULES",
    "OVERALL_SCALE",
    "RELATED_WORK_RULES",
    "REVIEW_RULES",
    "STATUSES",
]

#: The two kinds of evidence that validate a hypothesis.
EVIDENCE_KINDS: tuple[str, ...] = ("theory", "experiment")

#: The states of a hypothesis.
STATUSES: tuple[str, ...] = ("proposed", "supported", "refuted")

Labels = Union[str, Iterable[str]]


# --------------------------------------------------------------------------------------
# small validators
# --------------------------------------------------------------------------------------


def _check_labels(value: object, name: str) -> list[str]:
    """One label (a str) or several (an iterable of str), each non-empty, no repeats."""
    if isinstance(value, str):
        items: list[object] = [value]
    else:
        try:
            items = list(value)  # type: ignore[call-overload]
        except TypeError:
            raise TypeError(
                f"{name} must be a str or an iterable of str, got {type(value).__name__}"
            ) from None
    if not items:
        raise ValueError(f"{name} must name at least one label, got an empty {type(value).__name__}")
    labels = [_validate.text(item, name) for item in items]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            raise ValueError(f"{name} lists {label!r} twice")
    return labels


# --------------------------------------------------------------------------------------
# the chessboard
# --------------------------------------------------------------------------------------


def _split_field(value: str) -> list[str]:
    """Split a field at the commas outside braces, then drop the braces.

    ``"{ImageNet} classification, optimization"`` -> ``["ImageNet classification", "optimization"]``;
    ``"{Smith, Jones} effect"`` -> ``["Smith, Jones effect"]`` (braces protect a comma, as in BibTeX).
    """
    parts, depth, start = [], 0, 0
    for i, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return [" ".join(part.replace("{", "").replace("}", "").split()) for part in parts]


def _markdown_cell(text: str) -> str:
    """Text for a Markdown table cell: a ``|`` would end the cell, so it is escaped."""
    return text.replace("|", "\\|")


_BLOCK_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()]+)")


def _describe_failed_block(block: object) -> str:
    """A readable name for a block that bibtexparser could not parse."""
    key = getattr(block, "key", None)
    raw = str(getattr(block, "raw", "") or "")
    if key is None:
        match = _BLOCK_KEY.search(raw)
        key = match.group(1) if match else None
    line = getattr(block, "start_line", None)
    where = f" (line {line + 1})" if isinstance(line, int) else ""
    first = raw.strip().splitlines()[0][:60] if raw.strip() else ""
    error = getattr(block, "error", None)
    reason = f": {error}" if error is not None and str(error) else ""
    name = f"entry {key!r}" if key else f"block {first!r}"
    return f"{name}{where}{reason}"


class Chessboard:
    r"""Problems (rows) x methods (columns), each cell holding the keys of papers.

    A paper that addresses :math:`P` problems with :math:`M` methods is placed in all
    :math:`P \times M` cells of that product. Empty cells are the *gaps* of the board:

    .. math::

        \mathrm{gaps} = \{(p, m) \in \mathrm{problems} \times \mathrm{methods} :
        \mathrm{cell}(p, m) = \emptyset\}.

    Rows and columns keep the order in which they first appear (or the order given to the
    constructor), so that related problems can be kept next to each other.

    Parameters
    ----------
    problems : iterable of str, optional
        Rows to declare up front, in order (a problem with no paper yet still gets a row).
    methods : iterable of str, optional
        Columns to declare up front, in order.

    Raises
    ------
    TypeError
        If ``problems`` or ``methods`` is not an iterable of strings.
    ValueError
        If a label is empty or repeated.

    Examples
    --------
    >>> board = Chessboard()
    >>> board.add("goyal2017accurate", "large-batch training", ["warmup", "scaling rule"])
    >>> board.add("you2017large", "large-batch training", "adaptive rates")
    >>> board.add("kingma2015adam", "optimization", "adaptive rates")
    >>> board.gaps()
    [('optimization', 'warmup'), ('optimization', 'scaling rule')]
    >>> board.cell("large-batch training", "warmup")
    ('goyal2017accurate',)
    >>> print(board.to_markdown())
    | problem \ method | warmup | scaling rule | adaptive rates |
    |---|---|---|---|
    | large-batch training | goyal2017accurate | goyal2017accurate | you2017large |
    | optimization | · | · | kingma2015adam |
    """

    def __init__(self, problems: Iterable[str] = (), methods: Iterable[str] = ()) -> None:
        self._problems: list[str] = []
        self._methods: list[str] = []
        self._cells: dict[tuple[str, str], list[str]] = {}
        self._papers: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._skipped: tuple[str, ...] = ()
        for label in self._axis(problems, "problems"):
            self._problems.append(label)
        for label in self._axis(methods, "methods"):
            self._methods.append(label)

    @staticmethod
    def _axis(values: Iterable[str], name: str) -> list[str]:
        if isinstance(values, str):
            raise TypeError(f"{name} must be an iterable of str (e.g. a list), got a single str {values!r}")
        try:
            items = list(values)
        except TypeError:
            raise TypeError(f"{name} must be an iterable of str, got {type(values).__name__}") from None
        return _check_labels(items, name) if items else []

    # ---------------------------------------------------------------- building
    def add(self, key: str, problem: Labels, method: Labels) -> None:
        """Place the paper ``key`` in every (problem, method) cell it covers.

        Parameters
        ----------
        key : str
            The paper's citation key; each key may be added once.
        problem : str or iterable of str
            The problem(s) or application(s) the paper addresses.
        method : str or iterable of str
            The method(s) it uses.

        Raises
        ------
        TypeError
            If ``key`` is not a str, or ``problem`` / ``method`` are not str or iterables of str.
        ValueError
            If ``key`` is empty or already on the board, or a label is empty or repeated.

        Examples
        --------
        >>> board = Chessboard()
        >>> board.add("he2016deep", ["vanishing gradients", "image classification"], "residual connections")
        >>> board.shape
        (2, 1)
        """
        key = _validate.text(key, "key")
        if key in self._papers:
            raise ValueError(f"key {key!r} is already on the board (duplicate citation key)")
        problems = _check_labels(problem, "problem")
        methods = _check_labels(method, "method")
        for p in problems:
            if p not in self._problems:
                self._problems.append(p)
        for m in methods:
            if m not in self._methods:
                self._methods.append(m)
        for p in problems:
            for m in methods:
                self._cells.setdefault((p, m), []).append(key)
        self._papers[key] = (tuple(problems), tuple(methods))

    @classmethod
    def from_bibtex(
        cls, source: Union[str, "os.PathLike[str]"], *, missing: str = "raise", encoding: str = "utf-8"
    ) -> "Chessboard":
        """Build a board from BibTeX entries that carry ``problem`` and ``method`` fields.

        Each entry names its problems and methods in two extra fields, comma-separated for
        several (braces, as in ``{ImageNet}``, are removed; a comma inside braces, as in
        ``{Smith, Jones} effect``, does not split)::

            @inproceedings{he2016deep,
              ...,
              problem = {vanishing gradients, image classification},
              method  = {residual connections}
            }

        Parameters
        ----------
        source : str or os.PathLike
            A path to a ``.bib`` file, or BibTeX text, told apart by type: an
            ``os.PathLike`` (such as :class:`pathlib.Path`) is always a path; a ``str`` naming
            an existing file is a path (even if it contains ``@``); any other ``str`` that
            contains ``@`` or a line break is BibTeX text, and one without either is taken
            for a path that does not exist.
        missing : {"raise", "skip"}
            What to do with an entry that has *neither* field, such as a textbook or a talk:
            ``"raise"`` (default) raises ``ValueError``; ``"skip"`` leaves it off the board
            and records its key in :attr:`skipped`. An entry with only one of the two fields
            is an error in both modes (a half-tagged paper is a typo, not a textbook).
        encoding : str, default "utf-8"
            The encoding of a ``.bib`` file (for example ``"latin-1"``).

        Returns
        -------
        Chessboard
            Rows and columns in order of first appearance in the file.

        Raises
        ------
        TypeError
            If ``source`` is neither a str nor a path.
        ValueError
            If ``missing`` is not ``"raise"`` or ``"skip"``; if a file is not valid text in
            ``encoding`` (the message names the file and the encoding); if the BibTeX is malformed or
            has duplicate keys (the message names the entry); if the text has no entry;
            if an entry lacks a ``problem`` or ``method`` field (with ``missing="raise"``)
            or has an empty one.
        FileNotFoundError
            If ``source`` is a path that does not exist.

        Examples
        --------
        >>> bib = '''
        ... @article{a, title = {A}, problem = {optimization}, method = {momentum, adaptive rates}}
        ... @book{b, title = {A textbook}}
        ... '''
        >>> board = Chessboard.from_bibtex(bib, missing="skip")
        >>> board.problems, board.methods, board.skipped
        (['optimization'], ['momentum', 'adaptive rates'], ('b',))
        """
        import bibtexparser

        missing = _validate.choice(missing, "missing", ("raise", "skip"))
        encoding = _validate.text(encoding, "encoding")
        if isinstance(source, os.PathLike):
            path: Optional[str] = os.fspath(source)
        elif isinstance(source, str):
            is_text = not os.path.isfile(source) and ("@" in source or "\n" in source)
            path = None if is_text else source
        else:
            raise TypeError(f"source must be a path or a str of BibTeX text, got {type(source).__name__}")
        if path is not None:
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"source {path!r} is not a file (BibTeX text must contain '@' entries)"
                )
            try:
                with open(path, encoding=encoding) as file:
                    text = file.read()
            except UnicodeDecodeError as err:
                raise ValueError(
                    f"{path!r} is not valid {encoding} text ({err.reason} at byte {err.start}); "
                    "pass the file's encoding, e.g. encoding='latin-1'"
                ) from None
            except LookupError:
                raise ValueError(f"encoding {encoding!r} is not a known text encoding") from None
            library = bibtexparser.parse_string(text)
            origin = path
        else:
            library = bibtexparser.parse_string(source)  # type: ignore[arg-type]
            origin = "the BibTeX text"
        if library.failed_blocks:
            problems = "; ".join(_describe_failed_block(b) for b in library.failed_blocks)
            raise ValueError(f"malformed BibTeX in {origin}: {problems}")
        if not library.entries:
            raise ValueError(f"source has no BibTeX entry ({origin})")

        board = cls()
        skipped: list[str] = []
        for entry in library.entries:
            fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
            has = [name for name in ("problem", "method") if name in fields]
            if not has and missing == "skip":
                skipped.append(entry.key)
                continue
            if len(has) < 2:
                if has:
                    lacking = "method" if has == ["problem"] else "problem"
                    raise ValueError(f"entry {entry.key!r} has a {has[0]} field but no {lacking} field")
                raise ValueError(
                    f"entry {entry.key!r} has neither a problem nor a method field "
                    "(use missing='skip' for textbooks and talks)"
                )
            labels = {}
            for name in ("problem", "method"):
                value = str(fields[name])
                items = _split_field(value)
                if not all(items):
                    raise ValueError(
                        f"entry {entry.key!r}: field {name} = {{{value}}} has an empty item"
                    )
                labels[name] = items
            try:
                board.add(entry.key, labels["problem"], labels["method"])
            except ValueError as err:
                raise ValueError(f"entry {entry.key!r}: {err}") from None
        board._skipped = tuple(skipped)
        return board

    # ---------------------------------------------------------------- reading
    @property
    def problems(self) -> list[str]:
        """The rows, in order."""
        return list(self._problems)

    @property
    def methods(self) -> list[str]:
        """The columns, in order."""
        return list(self._methods)

    @property
    def keys(self) -> list[str]:
        """The citation keys on the board, in the order they were added."""
        return list(self._papers)

    @property
    def skipped(self) -> tuple[str, ...]:
        """Keys that :meth:`from_bibtex` left off with ``missing="skip"`` (textbooks, talks)."""
        return self._skipped

    @property
    def shape(self) -> tuple[int, int]:
        """``(number of problems, number of methods)``."""
        return len(self._problems), len(self._methods)

    def __len__(self) -> int:
        return len(self._papers)

    def __contains__(self, key: object) -> bool:
        return key in self._papers

    def __repr__(self) -> str:
        rows, cols = self.shape
        return f"Chessboard({len(self)} papers, {rows} problems x {cols} methods, {len(self.gaps())} gaps)"

    def _check_row(self, problem: str) -> str:
        problem = _validate.text(problem, "problem")
        if problem not in self._problems:
            raise ValueError(f"problem {problem!r} is not a row of the board; rows: {self._problems}")
        return problem

    def _check_col(self, method: str) -> str:
        method = _validate.text(method, "method")
        if method not in self._methods:
            raise ValueError(f"method {method!r} is not a column of the board; columns: {self._methods}")
        return method

    def cell(self, problem: str, method: str) -> tuple[str, ...]:
        """The keys in one cell (an empty tuple for a gap).

        Raises
        ------
        ValueError
            If ``problem`` is not a row or ``method`` not a column of the board.

        Examples
        --------
        >>> board = Chessboard()
        >>> board.add("a", "optimization", ["momentum", "dropout"])
        >>> board.cell("optimization", "dropout")
        ('a',)
        """
        p, m = self._check_row(problem), self._check_col(method)
        return tuple(self._cells.get((p, m), ()))

    def paper(self, key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The (problems, methods) of one paper.

        Raises
        ------
        ValueError
            If ``key`` is not on the board.

        Examples
        --------
        >>> board = Chessboard()
        >>> board.add("a", "optimization", ["momentum", "dropout"])
        >>> board.paper("a")
        (('optimization',), ('momentum', 'dropout'))
        """
        key = _validate.text(key, "key")
        if key not in self._papers:
            raise ValueError(f"key {key!r} is not on the board")
        return self._papers[key]

    def count(self, problem: str, method: str) -> int:
        """Number of papers in one cell."""
        return len(self.cell(problem, method))

    def gaps(self) -> list[tuple[str, str]]:
        """The empty (problem, method) cells, row by row: the candidate directions.

        Returns
        -------
        list of (str, str)
        """
        return [
            (p, m) for p in self._problems for m in self._methods if not self._cells.get((p, m))
        ]

    def ranked_gaps(self, n: Optional[int] = None) -> list[tuple[tuple[str, str], int]]:
        r"""The gaps, ranked by how much the board knows about their row and column.

        A gap whose problem and method are both well studied, but never together, is either
        a real opportunity or empty for a reason worth knowing. The score of a gap is

        .. math::

            \mathrm{score}(p, m) = N_{\mathrm{row}}(p)\, N_{\mathrm{col}}(m),

        the number of papers in its row times the number in its column. Ties keep board order.

        Parameters
        ----------
        n : int, optional
            Return only the ``n`` best (default: all gaps).

        Returns
        -------
        list of ((str, str), int)
            ``((problem, method), score)``, highest score first.

        Raises
        ------
        TypeError
            If ``n`` is not an int.
        ValueError
            If ``n`` < 1.

        Examples
        --------
        >>> board = Chessboard()
        >>> board.add("a", "optimization", "momentum")
        >>> board.add("b", "optimization", "dropout")
        >>> board.add("c", "overfitting", "dropout")
        >>> board.ranked_gaps()
        [(('overfitting', 'momentum'), 1)]
        """
        if n is not None:
            n = self._check_n(n)
        row = {p: len({k for m in self._methods for k in self._cells.get((p, m), ())}) for p in self._problems}
        col = {m: len({k for p in self._problems for k in self._cells.get((p, m), ())}) for m in self._methods}
        scored = sorted(((g, row[g[0]] * col[g[1]]) for g in self.gaps()), key=lambda item: -item[1])
        return scored if n is None else scored[:n]

    @staticmethod
    def _check_n(n: object) -> int:
        return _validate.integer(n, "n", low=1)

    def crowded(self, n: int = 5) -> list[tuple[tuple[str, str], int]]:
        """The ``n`` busiest cells, most papers first (ties keep board order).

        Parameters
        ----------
        n : int
            How many cells to return (fewer if fewer cells hold papers).

        Returns
        -------
        list of ((str, str), int)
            ``((problem, method), number of papers)``.

        Raises
        ------
        TypeError
            If ``n`` is not an int.
        ValueError
            If ``n`` < 1.

        Examples
        --------
        >>> board = Chessboard()
        >>> board.add("a", "optimization", "momentum")
        >>> board.add("b", "optimization", ["momentum", "adaptive rates"])
        >>> board.crowded(1)
        [(('optimization', 'momentum'), 2)]
        """
        n = self._check_n(n)
        filled = [
            ((p, m), len(self._cells[(p, m)]))
            for p in self._problems
            for m in self._methods
            if self._cells.get((p, m))
        ]
        return sorted(filled, key=lambda item: -item[1])[:n]

    def select(self, problems: Optional[Iterable[str]] = None, methods: Optional[Iterable[str]] = None) -> "Chessboard":
        """A smaller board: only the given rows and columns, in the given order.

        Papers keep only the cells inside the selection; a paper left with no cell is
        dropped from the smaller board (it is not about these problems and methods).

        Parameters
        ----------
        problems, methods : iterable of str, optional
            Rows and columns to keep (default: all).

        Raises
        ------
        ValueError
            If a label is not on the board.

        Examples
        --------
        >>> board = Chessboard()
        >>> board.add("a", ["optimization", "overfitting"], ["momentum", "dropout"])
        >>> board.select(problems=["overfitting"], methods=["dropout"]).cell("overfitting", "dropout")
        ('a',)
        """
        rows = self.problems if problems is None else [self._check_row(p) for p in self._axis(problems, "problems")]
        cols = self.methods if methods is None else [self._check_col(m) for m in self._axis(methods, "methods")]
        small = Chessboard(rows, cols)
        for key, (ps, ms) in self._papers.items():
            keep_p = [p for p in ps if p in rows]
            keep_m = [m for m in ms if m in cols]
            if keep_p and keep_m:
                for p in keep_p:
                    for m in keep_m:
                        small._cells.setdefault((p, m), []).append(key)
                small._papers[key] = (tuple(keep_p), tuple(keep_m))
        return small

    # ---------------------------------------------------------------- drawing
    def to_dataframe(self, counts: bool = False) -> "pandas.DataFrame":
        """The board as a table: problems as the index, methods as the columns.

        Parameters
        ----------
        counts : bool
            ``False`` (default): each cell is its keys joined by ``", "`` (``""`` for a gap);
            ``True``: each cell is its number of papers.

        Returns
        -------
        pandas.DataFrame, shape (number of problems, number of methods)

        Examples
        --------
        >>> board = Chessboard()
        >>> board.add("a", "optimization", ["momentum", "adaptive rates"])
        >>> board.to_dataframe(counts=True).loc["optimization", "momentum"].item()
        1
        """
        import pandas as pd

        counts = _validate.boolean(counts, "counts")
        data = [
            [len(self._cells.get((p, m), ())) if counts else ", ".join(self._cells.get((p, m), ())) for m in self._methods]
            for p in self._problems
        ]
        frame = pd.DataFrame(data, index=pd.Index(self._problems, name="problem"), columns=pd.Index(self._methods, name="method"))
        return frame

    def to_markdown(self, counts: bool = False, gap: str = "·", cite: bool = False) -> str:
        """The board as a Markdown table.

        Parameters
        ----------
        counts : bool
            Show the number of papers instead of their keys.
        gap : str
            What an empty cell shows (default ``"·"``).
        cite : bool
            Write each key as a MyST citation, ``{cite:p}`key```, so that a Jupyter Book
            page links it to the bibliography.

        Returns
        -------
        str

        Raises
        ------
        TypeError
            If ``counts`` or ``cite`` is not a bool, or ``gap`` not a str.

        Examples
        --------
        >>> board = Chessboard()
        >>> board.add("a", "optimization", "momentum")
        >>> board.add("b", "overfitting", ["momentum", "dropout"])
        >>> print(board.to_markdown(counts=True, gap="-"))
        | problem \\ method | momentum | dropout |
        |---|---|---|
        | optimization | 1 | - |
        | overfitting | 1 | 1 |
        """
        counts, cite = _validate.boolean(counts, "counts"), _validate.boolean(cite, "cite")
        gap = _validate.any_of(gap, "gap", (str,), "a str")

        def show(keys: Sequence[str]) -> str:
            if not keys:
                return _markdown_cell(gap)
            if counts:
                return str(len(keys))
            return ", ".join(f"{{cite:p}}`{k}`" if cite else _markdown_cell(k) for k in keys)

        header = "| problem \\ method | " + " | ".join(map(_markdown_cell, self._methods)) + " |"
        rule = "|" + "---|" * (len(self._methods) + 1)
        rows = [
            "| " + _markdown_cell(p) + " | "
            + " | ".join(show(self._cells.get((p, m), ())) for m in self._methods) + " |"
            for p in self._problems
        ]
        return "\n".join([header, rule, *rows])

    def plot(
        self,
        annotate: str = "keys",
        max_keys: int = 3,
        ax: Optional["matplotlib.axes.Axes"] = None,
        title: Optional[str] = None,
    ) -> "matplotlib.figure.Figure":
        """Draw the board as a heat map: colour = number of papers, gaps hatched.

        Parameters
        ----------
        annotate : {"keys", "counts", "none"}
            Write the citation keys (at most ``max_keys`` per cell, then ``+k``), the counts,
            or nothing in the filled cells.
        max_keys : int
            Keys shown per cell with ``annotate="keys"``.
        ax : matplotlib.axes.Axes, optional
            Where to draw (default: a new figure sized to the board).
        title : str, optional
            The axes title (default: a summary of the board).

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        TypeError
            If ``max_keys`` is not an int.
        ValueError
            If ``annotate`` is unknown, ``max_keys`` < 1, or the board is empty.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> board = Chessboard()
        >>> board.add("a", "optimization", ["momentum", "dropout"])
        >>> board.add("b", "overfitting", "dropout")
        >>> fig = board.plot(annotate="counts")
        >>> fig.axes[0].get_title()
        'Chessboard: 2 papers, 1 of 4 cells empty'
        >>> plt.close(fig)
        """
        import matplotlib.pyplot as plt
        import numpy as np
        from matplotlib.patches import Patch, Rectangle

        annotate = _validate.choice(annotate, "annotate", ("keys", "counts", "none"))
        max_keys = _validate.integer(max_keys, "max_keys", low=1)
        rows, cols = self.shape
        if rows == 0 or cols == 0:
            raise ValueError("cannot plot an empty board: add papers first")
        counts = np.array([[len(self._cells.get((p, m), ())) for m in self._methods] for p in self._problems], dtype=float)

        if ax is None:
            cell_w = 1.5 if annotate == "keys" else 0.6
            cell_h = 0.25 + 0.2 * min(max_keys, int(counts.max())) if annotate == "keys" else 0.45
            fig, ax = plt.subplots(figsize=(min(3.0 + cell_w * cols, 30.0), min(2.5 + cell_h * rows, 30.0)))
        fig = ax.figure
        shown = np.ma.masked_where(counts == 0, counts)
        vmax = max(counts.max(), 1.0) * 1.25  # the busiest cell is dark but not black
        image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
        for i in range(rows):
            for j in range(cols):
                if counts[i, j] == 0:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#fff3c4", edgecolor="#d4a017", hatch="//", linewidth=0.0))
                elif annotate != "none":
                    keys = self._cells[(self._problems[i], self._methods[j])]
                    if annotate == "counts":
                        text = str(len(keys))
                    else:
                        text = "\n".join(keys[:max_keys]) + (f"\n+{len(keys) - max_keys}" if len(keys) > max_keys else "")
                    dark = counts[i, j] > 0.55 * vmax
                    ax.text(j, i, text, ha="center", va="center", fontsize=7 if annotate == "keys" else 9,
                            color="white" if dark else "black")
        ax.set_xticks(range(cols), self._methods, rotation=45, ha="right")
        ax.set_yticks(range(rows), self._problems)
        ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        ax.set_xlabel("method")
        ax.set_ylabel("problem or application")
        n_gaps = int((counts == 0).sum())
        ax.set_title(title if title is not None else f"Chessboard: {len(self)} papers, {n_gaps} of {rows * cols} cells empty")
        fig.colorbar(image, ax=ax, label="papers in the cell", shrink=0.8)
        ax.legend(handles=[Patch(facecolor="#fff3c4", edgecolor="#d4a017", hatch="//", label="gap (no paper)")],
                  loc="upper left", bbox_to_anchor=(1.0, -0.02), frameon=False, fontsize=8)
        fig.tight_layout()
        return fig


# --------------------------------------------------------------------------------------
# reading a paper
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadingPass:
    """One pass over a paper: its name, kind, time budget and the questions to answer.

    Attributes
    ----------
    name : str
        ``"triage"``, ``"skim"`` or ``"critical"``.
    kind : str
        ``"comprehension"`` or ``"critical thinking"``.
    minutes : float
        The time budget of the pass.
    what : str
        What to read in this pass.
    questions : tuple of str
        The checklist: the pass is done when you can answer each question.
    """

    name: str
    kind: str
    minutes: float
    what: str
    questions: tuple[str, ...]


_TRIAGE_QUESTIONS = (
    "What problem does the paper address, in one sentence?",
    "What does it claim to contribute: a method, an analysis, a data set, a benchmark?",
    "Is it relevant to my research question? If not, stop here and drop it.",
)
_SKIM_QUESTIONS = (
    "What are the assumptions and the setting?",
    "What is the method's framework: its main idea in a few lines, or one figure?",
    "Which experiments support the main claim, and how big is the effect?",
    "What do the authors conclude, and what do they list as limitations?",
    "Which technical details can I skip for now (and note, to look up only if my question needs them)?",
)
_CRITICAL_QUESTIONS = (
    "Do the experiments test the claim: baselines, seeds, ablations, error bars?",
    "Which assumption is the weakest, and what happens when it fails?",
    "What did the authors not try, and why might it fail or work better?",
    "Where does the paper sit on my chessboard, and which neighbouring cell is empty?",
    "Which (problem, solution) hypothesis of my own does this suggest, and how would I test it?",
)


class ReadingPlan:
    r"""A time budget and a checklist for reading one research paper.

    Three passes: a fixed *triage* of the abstract and introduction (keep or drop the
    paper), a *skim* pass for comprehension that grows with the number of pages, and a
    *critical* pass. Comprehension (triage + skim) is at most a fraction :math:`s` of the
    whole (default 30 %), so critical thinking gets the remaining :math:`1 - s`:

    .. math::

        C(p) = T + r\,p, \qquad K(p) = C(p)\,\frac{1 - s}{s}, \qquad
        \mathrm{total}(p) = C(p) + K(p) = \frac{C(p)}{s},

    with :math:`p` pages, :math:`T` = 15 min of triage and :math:`r` = 7.5 min per page of
    skimming. The rate is chosen so that a 10-page paper gets
    :math:`C(10) = 15 + 75 = 90` min of comprehension, the middle of the 1-2 hours that the
    rule of thumb allows; its critical pass then gets 210 min, and the whole paper 5 hours.

    Parameters
    ----------
    pages : int
        Pages of the paper (main text and appendices you intend to read), at least 1.
    title : str, optional
        What to call the paper in the printed plan.
    triage_minutes : float
        :math:`T`, the time for the abstract and the introduction.
    skim_minutes_per_page : float
        :math:`r`.
    comprehension_share : float
        :math:`s \in (0, 1)`, the share of the time spent on comprehension.

    Raises
    ------
    TypeError
        If ``pages`` is not an int or a budget is not a number.
    ValueError
        If ``pages`` < 1, a budget is not positive and finite, or ``comprehension_share``
        is not in (0, 1).

    Examples
    --------
    >>> plan = ReadingPlan(10)
    >>> plan.comprehension_minutes, plan.critical_minutes, plan.total_minutes
    (90.0, 210.0, 300.0)
    >>> [(p.name, p.minutes) for p in plan.passes]
    [('triage', 15.0), ('skim', 75.0), ('critical', 210.0)]
    """

    def __init__(
        self,
        pages: int,
        *,
        title: Optional[str] = None,
        triage_minutes: float = 15.0,
        skim_minutes_per_page: float = 7.5,
        comprehension_share: float = 0.3,
    ) -> None:
        self.pages = _validate.integer(pages, "pages", low=1)
        self.title = None if title is None else _validate.text(title, "title")
        self.triage_minutes = _validate.real(triage_minutes, "triage_minutes", low=0, low_open=True)
        self.skim_minutes_per_page = _validate.real(skim_minutes_per_page, "skim_minutes_per_page", low=0, low_open=True)
        share = _validate.real(comprehension_share, "comprehension_share", low=0, low_open=True)
        if not share < 1:
            raise ValueError(f"comprehension_share must be in (0, 1), got {comprehension_share}")
        self.comprehension_share = share

    @property
    def skim_minutes(self) -> float:
        """:math:`r\\,p`, the skim pass."""
        return self.skim_minutes_per_page * self.pages

    @property
    def comprehension_minutes(self) -> float:
        """:math:`C(p) = T + r\\,p`: triage plus skim."""
        return self.triage_minutes + self.skim_minutes

    @property
    def total_minutes(self) -> float:
        """:math:`C(p) / s`."""
        return self.comprehension_minutes / self.comprehension_share

    @property
    def critical_minutes(self) -> float:
        """:math:`C(p)\\,(1 - s) / s`: the critical pass."""
        return self.total_minutes - self.comprehension_minutes

    @property
    def passes(self) -> tuple[ReadingPass, ReadingPass, ReadingPass]:
        """The three passes, in order, with their budgets and checklists."""
        return (
            ReadingPass("triage", "comprehension", self.triage_minutes,
                        "abstract and introduction (and a glance at the figures)", _TRIAGE_QUESTIONS),
            ReadingPass("skim", "comprehension", self.skim_minutes,
                        "the whole paper quickly: method, main results, conclusions; skip the technical details",
                        _SKIM_QUESTIONS),
            ReadingPass("critical", "critical thinking", self.critical_minutes,
                        "the parts that matter to your question, again, pen in hand", _CRITICAL_QUESTIONS),
        )

    def checklist(self, name: str) -> tuple[str, ...]:
        """The questions of one pass (``"triage"``, ``"skim"`` or ``"critical"``).

        Raises
        ------
        ValueError
            If ``name`` is not a pass.

        Examples
        --------
        >>> ReadingPlan(10).checklist("triage")[-1]
        'Is it relevant to my research question? If not, stop here and drop it.'
        """
        for p in self.passes:
            if p.name == name:
                return p.questions
        raise ValueError(f"name must be one of 'triage', 'skim', 'critical', got {name!r}")

    def assess(self, comprehension_minutes: float, critical_minutes: float, tolerance: float = 0.05) -> list[str]:
        """Compare how a reading went with the plan; return what went wrong (empty: on plan).

        Two beginners' mistakes show up in the minutes: reading the paper like a textbook
        (comprehension takes much more than its share :math:`s` of the time) and going off
        track into details (comprehension overruns its budget :math:`C(p)`).

        Parameters
        ----------
        comprehension_minutes, critical_minutes : float
            Time actually spent, each >= 0 and not both 0.
        tolerance : float
            Slack before a finding is reported, as a fraction (default 5 %).

        Returns
        -------
        list of str

        Raises
        ------
        TypeError
            If an argument is not a number.
        ValueError
            If a time is negative or not finite, both are 0, or ``tolerance`` is negative.

        Examples
        --------
        >>> ReadingPlan(10).assess(comprehension_minutes=80, critical_minutes=200)
        []
        >>> len(ReadingPlan(10).assess(comprehension_minutes=240, critical_minutes=60))
        2
        """
        values = {}
        for name, value in (("comprehension_minutes", comprehension_minutes),
                            ("critical_minutes", critical_minutes), ("tolerance", tolerance)):
            values[name] = _validate.real(value, name, low=0)
        total = values["comprehension_minutes"] + values["critical_minutes"]
        if total == 0:
            raise ValueError("comprehension_minutes and critical_minutes are both 0: nothing to assess")
        findings = []
        share = values["comprehension_minutes"] / total
        if share > self.comprehension_share + tolerance:
            findings.append(
                f"comprehension took {share:.0%} of the time (plan: at most {self.comprehension_share:.0%}): "
                "reading the paper like a textbook leaves too little time to think about it"
            )
        over = values["comprehension_minutes"] - self.comprehension_minutes
        if over > tolerance * self.comprehension_minutes:
            findings.append(
                f"comprehension ran {over:.0f} min over its budget of {self.comprehension_minutes:.0f} min: "
                "are you learning details your question does not need (going off track)?"
            )
        return findings

    def to_markdown(self) -> str:
        """The plan as Markdown: a table of passes, then each pass's checklist.

        Examples
        --------
        >>> print(ReadingPlan(10, title="a paper").to_markdown().splitlines()[0])
        **Reading plan for a paper** (10 pages, 5 h 00 min in all; comprehension 30%, critical thinking 70%)
        """
        name = self.title or "the paper"
        lines = [
            f"**Reading plan for {name}** ({self.pages} pages, {_hours(self.total_minutes)} in all; "
            f"comprehension {self.comprehension_share:.0%}, critical thinking {1 - self.comprehension_share:.0%})",
            "",
            "| pass | kind | minutes | read |",
            "|---|---|---|---|",
        ]
        lines += [f"| {p.name} | {p.kind} | {p.minutes:.0f} | {p.what} |" for p in self.passes]
        for p in self.passes:
            lines += ["", f"*{p.name}* ({p.minutes:.0f} min):", ""]
            lines += [f"- [ ] {q}" for q in p.questions]
        return "\n".join(lines)

    def __str__(self) -> str:
        name = self.title or "the paper"
        lines = [f"Reading plan for {name}: {self.pages} pages, {_hours(self.total_minutes)} in all"]
        for p in self.passes:
            lines.append(f"  {p.name:<9}{p.minutes:6.0f} min  ({p.kind}) {p.what}")
            lines += [f"      [ ] {q}" for q in p.questions]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"ReadingPlan(pages={self.pages}, comprehension={self.comprehension_minutes:g} min, "
                f"critical={self.critical_minutes:g} min, total={self.total_minutes:g} min)")


def _hours(minutes: float) -> str:
    h, m = divmod(round(minutes), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


# --------------------------------------------------------------------------------------
# hypotheses
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence about a hypothesis.

    Attributes
    ----------
    kind : str
        ``"theory"`` or ``"experiment"``.
    supports : bool
        Whether it supports (``True``) or contradicts (``False``) the hypothesis.
    note : str
        What was found, e.g. ``"val. accuracy 0.93 vs 0.97 (3 seeds)"``.
    """

    kind: str
    supports: bool
    note: str


class Hypothesis:
    """A research hypothesis: a (problem, solution) pair and the evidence about it.

    Its status follows from the evidence:

    - ``"refuted"`` as soon as one piece of evidence contradicts it;
    - ``"supported"`` when, with nothing against it, it has supporting evidence of every
      kind in ``needs`` (by default both theory and experiment);
    - ``"proposed"`` otherwise.

    Parameters
    ----------
    problem : str
        The research question, one well-defined problem.
    solution : str
        The candidate solution being tested.
    needs : iterable of str
        The kinds of support required, a non-empty subset of ``("theory", "experiment")``.

    Raises
    ------
    TypeError
        If ``problem`` or ``solution`` is not a str.
    ValueError
        If either is empty, or ``needs`` is empty or names an unknown kind.

    Examples
    --------
    >>> h = Hypothesis("large batches lose accuracy", "warmup")
    >>> h.status
    'proposed'
    >>> h.support("theory", "early steps change the network fastest").status
    'proposed'
    >>> h.support("experiment", "accuracy recovered on 3 seeds").status
    'supported'
    >>> h.refute("experiment", "fails at batch 4096").status
    'refuted'
    """

    def __init__(self, problem: str, solution: str, needs: Iterable[str] = EVIDENCE_KINDS) -> None:
        self.problem = _validate.text(problem, "problem")
        self.solution = _validate.text(solution, "solution")
        kinds = _check_labels(needs, "needs")
        for kind in kinds:
            if kind not in EVIDENCE_KINDS:
                raise ValueError(f"needs must contain only {EVIDENCE_KINDS}, got {kind!r}")
        self.needs: tuple[str, ...] = tuple(kinds)
        self._evidence: list[Evidence] = []

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """The evidence so far, in the order it was added."""
        return tuple(self._evidence)

    def add_evidence(self, kind: str, supports: bool, note: str) -> "Hypothesis":
        """Record one piece of evidence; returns ``self`` so that calls can be chained.

        Raises
        ------
        TypeError
            If ``supports`` is not a bool or ``note`` not a str.
        ValueError
            If ``kind`` is not ``"theory"`` or ``"experiment"``, or ``note`` is empty.

        Examples
        --------
        >>> h = Hypothesis("p", "s").add_evidence("experiment", False, "no effect on 3 seeds")
        >>> h.status, h.evidence[0].kind
        ('refuted', 'experiment')
        """
        if kind not in EVIDENCE_KINDS:
            raise ValueError(f"kind must be one of {EVIDENCE_KINDS}, got {kind!r}")
        supports = _validate.boolean(supports, "supports")
        self._evidence.append(Evidence(kind, supports, _validate.text(note, "note")))
        return self

    def support(self, kind: str, note: str) -> "Hypothesis":
        """Record evidence for the hypothesis (see :meth:`add_evidence`)."""
        return self.add_evidence(kind, True, note)

    def refute(self, kind: str, note: str) -> "Hypothesis":
        """Record evidence against the hypothesis (see :meth:`add_evidence`)."""
        return self.add_evidence(kind, False, note)

    @property
    def status(self) -> str:
        """``"proposed"``, ``"supported"`` or ``"refuted"`` (see the class docstring)."""
        if any(not e.supports for e in self._evidence):
            return "refuted"
        supported_kinds = {e.kind for e in self._evidence}
        if all(kind in supported_kinds for kind in self.needs):
            return "supported"
        return "proposed"

    def __str__(self) -> str:
        return f"({self.problem}, {self.solution}): {self.status}"

    def __repr__(self) -> str:
        return f"Hypothesis(problem={self.problem!r}, solution={self.solution!r}, status={self.status!r}, evidence={len(self._evidence)})"


class ResearchLog:
    """The hypotheses of one research question, tested one candidate solution at a time.

    Evidence goes to the *current* hypothesis, the first candidate that is not refuted.
    When evidence refutes it, the log moves on to the next candidate; when every candidate
    is refuted, the log is *exhausted*: go back to the question (or the chessboard) and add
    a new candidate with :meth:`add_candidate`.

    Parameters
    ----------
    problem : str
        The research question.
    candidates : iterable of str
        Candidate solutions, in the order you will test them (at least one, no repeats).
    needs : iterable of str
        Passed on to each :class:`Hypothesis`.

    Raises
    ------
    TypeError, ValueError
        As for :class:`Hypothesis`, and if ``candidates`` is empty or repeats a solution.

    Examples
    --------
    >>> log = ResearchLog("large batches lose accuracy", ["scale the learning rate", "add warmup"])
    >>> log.current.solution
    'scale the learning rate'
    >>> _ = log.record("experiment", False, "diverged in the first epoch")
    >>> log.current.solution
    'add warmup'
    >>> _ = log.record("experiment", False, "still 10 points worse")
    >>> log.exhausted, log.current
    (True, None)
    """

    def __init__(self, problem: str, candidates: Iterable[str], needs: Iterable[str] = EVIDENCE_KINDS) -> None:
        self.problem = _validate.text(problem, "problem")
        if isinstance(candidates, str):
            raise TypeError(f"candidates must be an iterable of str (e.g. a list), got a single str {candidates!r}")
        solutions = _check_labels(candidates, "candidates")
        needs = tuple(needs) if not isinstance(needs, str) else needs
        self._needs = needs
        self._hypotheses = [Hypothesis(self.problem, s, needs) for s in solutions]
        self.history: list[str] = [f"question: {self.problem}; candidates: {', '.join(solutions)}"]

    @property
    def hypotheses(self) -> tuple[Hypothesis, ...]:
        """Every hypothesis, in the order of the candidates."""
        return tuple(self._hypotheses)

    @property
    def current(self) -> Optional[Hypothesis]:
        """The hypothesis under test: the first that is not refuted (``None`` when exhausted)."""
        for h in self._hypotheses:
            if h.status != "refuted":
                return h
        return None

    @property
    def exhausted(self) -> bool:
        """Whether every candidate solution has been refuted."""
        return self.current is None

    @property
    def supported(self) -> tuple[Hypothesis, ...]:
        """The supported hypotheses."""
        return tuple(h for h in self._hypotheses if h.status == "supported")

    def add_candidate(self, solution: str) -> Hypothesis:
        """Add a candidate solution at the end of the queue and return its hypothesis.

        Raises
        ------
        ValueError
            If ``solution`` is empty or already a candidate.

        Examples
        --------
        >>> log = ResearchLog("p", ["a"])
        >>> _ = log.record("experiment", False, "failed")
        >>> log.exhausted
        True
        >>> log.add_candidate("b").solution, log.exhausted
        ('b', False)
        """
        solution = _validate.text(solution, "solution")
        if any(h.solution == solution for h in self._hypotheses):
            raise ValueError(f"solution {solution!r} is already a candidate")
        h = Hypothesis(self.problem, solution, self._needs)
        self._hypotheses.append(h)
        self.history.append(f"new candidate: {solution}")
        return h

    def record(self, kind: str, supports: bool, note: str) -> Hypothesis:
        """Record evidence about the current hypothesis and move on if it is refuted.

        Returns
        -------
        Hypothesis
            The hypothesis that received the evidence.

        Raises
        ------
        ValueError
            If the log is exhausted (every candidate refuted), or the evidence is invalid
            (see :meth:`Hypothesis.add_evidence`).

        Examples
        --------
        >>> log = ResearchLog("p", ["a", "b"])
        >>> log.record("theory", True, "why a should work").solution
        'a'
        >>> log.history[-1]
        "theory supports 'a': why a should work"
        """
        h = self.current
        if h is None:
            raise ValueError(
                f"every candidate solution for {self.problem!r} is refuted (the log is exhausted); "
                "add_candidate() a new one before recording more evidence"
            )
        before = h.status
        h.add_evidence(kind, supports, note)
        verb = "supports" if supports else "contradicts"
        self.history.append(f"{kind} {verb} '{h.solution}': {' '.join(note.split())}")
        if h.status != before:
            self.history.append(f"'{h.solution}' is now {h.status}")
        if h.status == "refuted":
            nxt = self.current
            self.history.append(
                f"moving on to '{nxt.solution}'" if nxt is not None
                else f"all {len(self._hypotheses)} candidates refuted: back to the question"
            )
        return h

    def report(self) -> str:
        """A short summary: each hypothesis with its status, then what to do next.

        Examples
        --------
        >>> print(ResearchLog("p", ["a", "b"]).report())
        Question: p
         -> a: proposed (0 evidence)
            b: proposed (0 evidence)
        Testing: 'a'.
        """
        lines = [f"Question: {self.problem}"]
        for h in self._hypotheses:
            mark = "->" if h is self.current else "  "
            lines.append(f" {mark} {h.solution}: {h.status} ({len(h.evidence)} evidence)")
        if self.exhausted:
            lines.append("All candidates are refuted: rethink the question or add a candidate.")
        elif self.current is not None and self.current.status == "supported":
            lines.append(f"Supported: '{self.current.solution}' (done for now; keep testing it).")
        else:
            lines.append(f"Testing: '{self.current.solution}'.")  # type: ignore[union-attr]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """A Markdown table: one row per piece of evidence."""
        lines = ["| solution | kind | verdict | note | status |", "|---|---|---|---|---|"]
        for h in self._hypotheses:
            if not h.evidence:
                lines.append(f"| {h.solution} | | | | {h.status} |")
            for e in h.evidence:
                lines.append(f"| {h.solution} | {e.kind} | {'supports' if e.supports else 'contradicts'} | {e.note} | {h.status} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


# --------------------------------------------------------------------------------------
# written deliverables: checks that a program can make
# --------------------------------------------------------------------------------------


class Finding(NamedTuple):
    """One failed rule of a written deliverable: the rule's name and what is wrong."""

    rule: str
    message: str


def _report_text(kind: str, failures: Sequence[Finding], summary: str) -> str:
    if not failures:
        return f"{kind}: all checks pass ({summary})"
    lines = [f"{kind}: {len(failures)} problem{'s' if len(failures) > 1 else ''} ({summary})"]
    lines += [f"- [{f.rule}] {f.message}" for f in failures]
    return "\n".join(lines)


class _RuleReport:
    """What the three report classes share: ``failures`` sorted by a tuple of rule names."""

    failures: tuple[Finding, ...]
    _RULE_ORDER: ClassVar[tuple[str, ...]] = ()

    @property
    def ok(self) -> bool:
        """Whether every rule holds."""
        return not self.failures

    @property
    def rules(self) -> tuple[str, ...]:
        """The names of the broken rules, each once, in the order of the rules' tuple."""
        broken = {f.rule for f in self.failures}
        return tuple(r for r in self._RULE_ORDER if r in broken)


def _by_rule(failures: list[Finding], rules: tuple[str, ...]) -> tuple[Finding, ...]:
    """``failures`` in the order of ``rules`` (stable within a rule)."""
    order = {r: i for i, r in enumerate(rules)}
    return tuple(sorted(failures, key=lambda f: order[f.rule]))


#: The rules of :func:`check_related_work`, in the order they are checked.
RELATED_WORK_RULES: tuple[str, ...] = (
    "syntax", "keys", "structure", "count", "opening", "grouping", "uncited", "gap", "on-topic",
)

#: A MyST citation role: ``{cite}`a` ``, ``{cite:p}`a,b` ``, ``{cite:t}`a` `` ...
_CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]*)`")
_OTHER_CITATIONS = (
    (re.compile(r"\[-?@[\w:./-]+"), "a Pandoc citation [@key]"),
    (re.compile(r"\\cite[a-z]*\s*(?:\[[^\]]*\])*\s*\{[^}]*\}"), "a LaTeX \\cite{...}"),
    (re.compile(r"\{cite(?::[a-z]+)?\}(?!`)"), "a {cite} role without its `key` in backticks"),
)
_ABBREVIATIONS = frozenset({
    "al", "e.g", "i.e", "cf", "fig", "figs", "sec", "sect", "eq", "eqs", "eqn", "vs", "resp",
    "approx", "p", "pp", "ch", "tab", "alg", "app", "thm", "dr", "mr", "ms", "prof", "ref", "refs",
})
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[A-Z\x00])")
_ET_AL = re.compile(r"\b[A-Z][\w'-]*\s+et\s+al\b\.?")
_AUTHOR_YEAR = re.compile(r"\b[A-Z][\w'-]+\s+\((?:19|20)\d{2}[a-z]?\)|\([A-Z][\w'-]+(?:\s+et\s+al\.?)?,\s*(?:19|20)\d{2}[a-z]?\)")
_GAP_WORDS = frozenset({
    "no", "not", "none", "never", "nobody", "neither", "nor", "gap", "open", "unexplored",
    "untested", "unstudied", "unknown", "absent", "missing", "lack", "lacks", "lacking", "nothing",
})


def _sentences(text: str) -> list[tuple[str, list[str]]]:
    """Split a paragraph into sentences, each with the keys it cites (in order, repeats kept).

    Citation roles are set aside first (a key may contain a dot). A sentence ends at ``.``,
    ``!`` or ``?`` (optionally followed by closing quotes, parentheses or brackets), then
    white space, then an upper-case letter or a citation role; a full stop right after one of
    :data:`_ABBREVIATIONS` (``et al.``, ``e.g.``, ``Fig.`` ...) or after a single capital
    letter (an initial) does not end a sentence.
    """
    roles: list[str] = []

    def stash(match: "re.Match[str]") -> str:
        roles.append(match.group(0))
        return f"\x00{len(roles) - 1}\x00"

    protected = _CITE_ROLE.sub(stash, text)
    pieces, start = [], 0
    for match in _BOUNDARY.finditer(protected):
        before = protected[start:match.start()]
        word = re.search(r"([A-Za-z.]+)$", before)
        token = word.group(1).lower() if word else ""
        initial = bool(word) and len(word.group(1)) == 1 and word.group(1).isupper()
        if protected[match.start()] == "." and (token in _ABBREVIATIONS or initial):
            continue
        pieces.append(protected[start:match.end()])
        start = match.end()
    pieces.append(protected[start:])
    out = []
    for piece in pieces:
        piece = " ".join(piece.split())
        if not piece:
            continue
        keys = []
        for index in re.findall(r"\x00(\d+)\x00", piece):
            role = _CITE_ROLE.match(roles[int(index)])
            assert role is not None
            keys += [k.strip() for k in role.group(1).split(",") if k.strip()]
        restored = re.sub(r"\x00(\d+)\x00", lambda m: roles[int(m.group(1))], piece)
        out.append((restored, keys))
    return out


def _plain(sentence: str) -> str:
    """A sentence without its citation roles, lower case, hyphens as spaces, spaces collapsed."""
    return " ".join(_CITE_ROLE.sub(" ", sentence).lower().replace("-", " ").split())


def _names(label: str, plain: str) -> int:
    """Where ``label`` (or its singular/plural) first occurs in ``plain`` as whole words; -1 if not."""
    norm = " ".join(label.lower().replace("-", " ").split())
    forms = {norm, norm + "s"} | ({norm[:-1]} if norm.endswith("s") and len(norm) > 1 else set())
    found = [m.start() for form in forms for m in re.finditer(rf"(?<![a-z0-9]){re.escape(form)}(?![a-z0-9])", plain)]
    return min(found) if found else -1


@dataclass(frozen=True)
class RelatedWorkReport(_RuleReport):
    """What :func:`check_related_work` found.

    Attributes
    ----------
    failures : tuple of Finding
        One ``(rule, message)`` per broken rule instance, in the order of
        :data:`RELATED_WORK_RULES`; empty when every rule holds.
    sentences : tuple of str
        The paragraph, split into sentences.
    cited : tuple of str
        The distinct keys cited, in order of first citation.
    problem : str or None
        The problem of the paragraph (given, or read from the opening sentence).
    gap : (str, str) or None
        The gap named by the last sentence, if one was found.
    """

    failures: tuple[Finding, ...]
    sentences: tuple[str, ...]
    cited: tuple[str, ...]
    problem: Optional[str]
    gap: Optional[tuple[str, str]]

    _RULE_ORDER: ClassVar[tuple[str, ...]] = RELATED_WORK_RULES

    def __str__(self) -> str:
        gap = f"gap {self.gap[0]} x {self.gap[1]}" if self.gap else "no gap found"
        summary = f"{len(self.sentences)} sentences, {len(self.cited)} papers cited, {gap}"
        return _report_text("related work", self.failures, summary)


def check_related_work(
    text: str,
    board: Chessboard,
    problem: Optional[str] = None,
    *,
    gap: Optional[tuple[str, str]] = None,
    min_papers: int = 5,
) -> RelatedWorkReport:
    r"""Check the structure and the citations of a related-work paragraph written from a chessboard.

    The paragraph is MyST Markdown, as on the pages of this book: papers are cited with the
    roles ``{cite:t}`key``` (textual, "Goyal et al. (2017)"), ``{cite:p}`key``` (in
    parentheses) or ``{cite}`a,b```, several keys separated by commas. It is split into
    sentences (a sentence ends at ``.``, ``!`` or ``?`` followed by white space and a capital
    letter or a citation; ``et al.``, ``e.g.``, ``Fig.`` and initials do not end one). Labels
    of the board are matched in a sentence's text outside its citations, ignoring case,
    hyphens (``large-batch`` = ``large batch``) and a plural ``s``. The rules, each checked
    deterministically:

    ``syntax``
        No other citation syntax: a Pandoc ``[@key]``, a LaTeX ``\cite{key}`` or a role
        without its backticks would not render in the book.
    ``keys``
        Every cited key is a paper on ``board``. A key that the bibliography holds but the
        board skipped (a textbook or a talk, see :attr:`Chessboard.skipped`) is reported as
        such; for an unknown key the message suggests the closest keys of the board.
    ``structure``
        At least three sentences: the problem, the work on it, the gap.
    ``count``
        At least ``min_papers`` distinct papers of the board are cited.
    ``opening``
        The first sentence names the problem (``problem``, or, when ``problem`` is None, a row
        of the board: the row named earliest in the first sentence becomes the problem).
    ``grouping``
        Every sentence that cites two or more papers of the board groups them: the papers it
        cites share at least one problem or at least one method,

        .. math::

            \bigcap_{k \in \mathrm{cited}} \mathrm{problems}(k) \neq \emptyset
            \quad\text{or}\quad
            \bigcap_{k \in \mathrm{cited}} \mathrm{methods}(k) \neq \emptyset .
    ``uncited``
        A sentence that names authors by hand, "Smith et al.", "Smith (2019)" or
        "(Smith, 2019)", also cites a key of theirs: a key that starts with the name, in lower
        case, as the keys of ``references.bib`` do (``smith2019...``). Better still, let the
        role write the names: ``{cite:t}`key``` renders "Smith et al. (2019)".
    ``gap``
        The last sentence names a gap of the board, its problem and its method
        (``gap``, if given; otherwise any empty cell ``(problem, m)`` of the problem's row),
        and says that it is empty: it contains one of the words *no, not, none, never,
        nobody, neither, nor, gap, open, unexplored, untested, unstudied, unknown, absent,
        missing, lack(s/ing), nothing*.
    ``on-topic``
        Every cited paper is about the problem or uses the method of the gap: it sits in
        the problem's row or in the gap's column (checked only when both are known).

    What no program can check: whether the sentences describe the papers truthfully,
    whether the grouping is the most illuminating one, and whether the gap is worth
    working on (see the three kinds of gaps of the chessboard page). These rules catch the
    mechanical mistakes, so that a reader can spend their time on those questions.

    Parameters
    ----------
    text : str
        The paragraph.
    board : Chessboard
        The board the paragraph is written from.
    problem : str, optional
        The problem (a row of ``board``) the paragraph is about.
    gap : (str, str), optional
        The gap the paragraph must end on; its problem must be ``problem`` when both are given.
    min_papers : int, default 5
        The least number of distinct papers to cite.

    Returns
    -------
    RelatedWorkReport
        ``report.ok`` is True when every rule holds; ``str(report)`` lists what is wrong.

    Raises
    ------
    TypeError
        If ``text`` is not a str, ``board`` not a :class:`Chessboard`, ``problem`` not a
        str, ``gap`` not a pair of str, or ``min_papers`` not an int.
    ValueError
        If ``text`` is blank, ``problem`` is not a row of ``board``, ``gap`` is not a gap of
        ``board`` or is in another row than ``problem``, or ``min_papers`` < 1.

    Examples
    --------
    >>> board = Chessboard()
    >>> board.add("goyal2017accurate", "large-batch training", ["learning-rate schedules", "stochastic gradient"])
    >>> board.add("you2017large", "large-batch training", "adaptive learning rates")
    >>> board.add("martens2010deep", "optimization", "second-order methods")
    >>> text = ('Large-batch training needs new learning-rate rules. '
    ...         'Warmup and the linear scaling rule {cite:p}`goyal2017accurate` and layer-wise '
    ...         'adaptive rates {cite:p}`you2017large` keep its accuracy. '
    ...         'Second-order methods {cite:p}`martens2010deep` have not been tried on large-batch training.')
    >>> report = check_related_work(text, board, min_papers=3)
    >>> report.ok, report.problem, report.gap
    (True, 'large-batch training', ('large-batch training', 'second-order methods'))
    >>> print(check_related_work(text.replace("{cite:p}`you2017large`", "(You et al., 2017)"), board, min_papers=3))
    related work: 2 problems (3 sentences, 2 papers cited, gap large-batch training x second-order methods)
    - [count] 2 distinct papers of the board are cited, at least 3 are needed
    - [uncited] sentence 2 names authors by hand ('(You et al., 2017)') but cites no key of theirs: cite the paper with {cite:t}`key` or {cite:p}`key`
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str (the paragraph), got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text must not be blank: write the paragraph")
    if not isinstance(board, Chessboard):
        raise TypeError(f"board must be a Chessboard, got {type(board).__name__}")
    if problem is not None:
        problem = board._check_row(problem)
    if gap is not None:
        if not (isinstance(gap, tuple) and len(gap) == 2 and all(isinstance(g, str) for g in gap)):
            raise TypeError(f"gap must be a (problem, method) pair of str, got {gap!r}")
        gap = (board._check_row(gap[0]), board._check_col(gap[1]))
        if board.cell(*gap):
            raise ValueError(f"gap {gap} is not a gap of the board: it holds {', '.join(board.cell(*gap))}")
        if problem is not None and gap[0] != problem:
            raise ValueError(f"gap {gap} is not in the row of problem {problem!r}")
        problem = gap[0] if problem is None else problem
    min_papers = _validate.integer(min_papers, "min_papers", low=1)

    failures: list[Finding] = []
    split = _sentences(text)
    sentences = [s for s, _ in split]
    plains = [_plain(s) for s in sentences]

    # syntax
    for i, sentence in enumerate(sentences, 1):
        outside = _CITE_ROLE.sub(" ", sentence)
        for pattern, what in _OTHER_CITATIONS:
            for match in pattern.finditer(outside):
                failures.append(Finding("syntax", f"sentence {i} has {what} ({match.group(0)!r}), which the book does not render: "
                                                  "write {cite:t}`key` or {cite:p}`key`"))

    # keys
    cited: list[str] = []
    for _, keys in split:
        cited += [k for k in keys if k not in cited]
    on_board = [k for k in cited if k in board]
    for key in cited:
        if key in board:
            continue
        if key in board.skipped:
            failures.append(Finding("keys", f"{key!r} is a textbook or a talk (the board skips it): "
                                            "cite research papers that sit on the board"))
        else:
            import difflib

            close = difflib.get_close_matches(key, board.keys, n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            failures.append(Finding("keys", f"{key!r} is not a key of the bibliography{hint}"))

    # structure
    if len(sentences) < 3:
        failures.append(Finding("structure", f"the paragraph has {len(sentences)} sentence{'s' if len(sentences) != 1 else ''}; "
                                             "it needs at least 3: the problem, the work on it, the gap"))

    # count
    if len(on_board) < min_papers:
        failures.append(Finding("count", f"{len(on_board)} distinct papers of the board are cited, at least {min_papers} are needed"))

    # opening
    if problem is None:
        named = [(_names(p, plains[0]), -len(p), p) for p in board.problems if _names(p, plains[0]) >= 0]
        if named:
            problem = min(named)[2]
        else:
            failures.append(Finding("opening", "the first sentence names no problem of the board; open with the problem, "
                                               f"one of: {', '.join(board.problems)}"))
    elif _names(problem, plains[0]) < 0:
        failures.append(Finding("opening", f"the first sentence does not name the problem {problem!r}: open with it"))

    # grouping
    for i, (_, keys) in enumerate(split, 1):
        papers = list(dict.fromkeys(k for k in keys if k in board))
        if len(papers) < 2:
            continue
        common_p = set.intersection(*(set(board.paper(k)[0]) for k in papers))
        common_m = set.intersection(*(set(board.paper(k)[1]) for k in papers))
        if not common_p and not common_m:
            detail = "; ".join(f"{k}: {', '.join(board.paper(k)[0])} x {', '.join(board.paper(k)[1])}" for k in papers)
            failures.append(Finding("grouping", f"sentence {i} cites {', '.join(papers)}, which share no problem and no method "
                                                f"({detail}): group papers by a common problem or method, or split the sentence"))

    # uncited
    for i, (sentence, keys) in enumerate(split, 1):
        outside = _CITE_ROLE.sub(" ", sentence)
        for match in [*_AUTHOR_YEAR.finditer(outside), *_ET_AL.finditer(outside)]:
            name = re.sub(r"[^a-z0-9]", "", re.search(r"[A-Z][\w'-]*", match.group(0)).group(0).lower())  # type: ignore[union-attr]
            if not any(re.sub(r"[^a-z0-9]", "", k.lower()).startswith(name) for k in keys):
                failures.append(Finding("uncited", f"sentence {i} names authors by hand ({match.group(0)!r}) but cites no key "
                                                   f"of theirs: cite the paper with {{cite:t}}`key` or {{cite:p}}`key`"))
                break

    # gap
    found_gap: Optional[tuple[str, str]] = None
    if problem is not None and len(sentences) >= 2:
        last = plains[-1]
        row_gaps = [m for p, m in board.gaps() if p == problem]
        named_methods = [m for m in board.methods if _names(m, last) >= 0]
        candidates = [m for m in named_methods if m in row_gaps]
        if gap is not None:
            candidates = [m for m in candidates if m == gap[1]]
        if _names(problem, last) < 0:
            failures.append(Finding("gap", f"the last sentence does not name the problem {problem!r}: "
                                           "end on the gap, its problem and its method"))
        if not candidates:
            if gap is not None:
                failures.append(Finding("gap", f"the last sentence does not name the method of the gap {gap[1]!r}"))
            elif named_methods:
                filled = "; ".join(f"{problem} x {m} holds {', '.join(board.cell(problem, m))}" for m in named_methods)
                failures.append(Finding("gap", f"the last sentence names no empty cell of the row {problem!r} ({filled})"))
            elif row_gaps:
                failures.append(Finding("gap", "the last sentence names no method of the board: end on a gap of the row "
                                               f"{problem!r}, e.g. {', '.join(row_gaps[:3])}"))
            else:
                failures.append(Finding("gap", f"the row {problem!r} has no gap: the paragraph cannot end on one"))
        else:
            found_gap = (problem, min(candidates, key=lambda m: _names(m, last)))
            if not set(last.split()) & _GAP_WORDS:
                failures.append(Finding("gap", f"the last sentence names {found_gap[1]!r} but does not say that the cell is empty "
                                               "(no word such as 'no', 'not', 'open', 'unexplored')"))

    # on-topic
    if problem is not None and found_gap is not None:
        for key in on_board:
            ps, ms = board.paper(key)
            if problem not in ps and found_gap[1] not in ms:
                failures.append(Finding("on-topic", f"{key} ({', '.join(ps)} x {', '.join(ms)}) is neither about {problem!r} "
                                                    f"nor uses {found_gap[1]!r}: leave it out, or say why it matters here"))

    return RelatedWorkReport(_by_rule(failures, RELATED_WORK_RULES), tuple(sentences), tuple(cited), problem, found_gap)


#: The scale of soundness, presentation and contribution on the review form (as NeurIPS's).
AXIS_SCALE: dict[int, str] = {1: "poor", 2: "fair", 3: "good", 4: "excellent"}
#: The scale of the overall score on the review form (as NeurIPS's).
OVERALL_SCALE: dict[int, str] = {
    1: "very strong reject", 2: "strong reject", 3: "reject", 4: "borderline reject", 5: "borderline accept",
    6: "weak accept", 7: "accept", 8: "strong accept", 9: "very strong accept", 10: "award quality",
}
#: The scale of the reviewer's confidence on the review form (as NeurIPS's).
CONFIDENCE_SCALE: dict[int, str] = {
    1: "an educated guess", 2: "willing to defend, but may have missed central parts",
    3: "fairly confident", 4: "confident, but not absolutely certain", 5: "absolutely certain",
}

#: The rules of :meth:`ReviewForm.check`, in the order they are checked.
REVIEW_RULES: tuple[str, ...] = ("summary", "strengths", "weaknesses", "questions", "scores", "confidence", "time")

_PASSES: tuple[str, ...] = ("triage", "skim", "critical")
#: A place in a paper: "Section 3.2", "Sec. 4", "§2", "Figure 1", "Fig. 3b", "Table 2", "Eq. (5)",
#: "Equation 2", "Algorithm 1", "Appendix B", "Theorem 1", "Lemma 2", "page 4", "line 120".
_LOCATION = re.compile(
    r"(?:(?i:\b(?:sections?|sec|sect|figures?|figs?|tables?|tab|equations?|eqs?|eqn|algorithms?|alg|"
    r"appendix|appendices|app|theorems?|thm|lemmas?|propositions?|prop|corollary|definitions?|def|"
    r"pages?|pp?|lines?|l))\.?|§)\s*\(?(?:\d+(?:\.\d+)*|[A-Z](?:\.\d+)*)\b"
)


def _items(value: object, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of str (one item per point), got a single str")
    try:
        items = list(value)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{name} must be a list of str, got {type(value).__name__}") from None
    return tuple(_validate.text(item, f"each item of {name}") for item in items)


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9][\w'-]*", text))


@dataclass(frozen=True)
class ReviewReport(_RuleReport):
    """What :meth:`ReviewForm.check` found.

    Attributes
    ----------
    failures : tuple of Finding
        One ``(rule, message)`` per problem, in the order of :data:`REVIEW_RULES`; empty
        when the form passes.
    plan : ReadingPlan
        The reading plan the times were compared with.
    """

    failures: tuple[Finding, ...]
    plan: ReadingPlan

    _RULE_ORDER: ClassVar[tuple[str, ...]] = REVIEW_RULES

    def __str__(self) -> str:
        return _report_text("review", self.failures, f"plan: {self.plan.total_minutes:.0f} min for {self.plan.pages} pages")


@dataclass(frozen=True)
class ReviewForm:
    r"""A review of one paper on a conference-style form, with the time spent on each reading pass.

    The fields follow the NeurIPS reviewer form: a summary, strengths, weaknesses and
    questions for the authors; soundness, presentation and contribution on
    :data:`AXIS_SCALE` (1 poor to 4 excellent); an overall score on :data:`OVERALL_SCALE`
    (1 very strong reject to 10 award quality, 6 = weak accept); the reviewer's confidence on
    :data:`CONFIDENCE_SCALE` (1 to 5). ``minutes`` records the time of the three passes of
    :class:`ReadingPlan` (triage, skim, critical).

    The constructor checks types and ranges (and raises); :meth:`check` checks the content
    with the rules below and returns a :class:`ReviewReport`; :meth:`to_markdown` renders the
    review. A program can check that a review is *complete, specific and consistent*: that
    each weakness points to a place in the paper, that the scores do not contradict each
    other, that the reading followed the plan. It cannot check that the summary is accurate,
    that a weakness is real, that a question matters, or that the scores are fair: that is
    the job of the area chair, and of the reviewer's own critical pass.

    Attributes
    ----------
    paper : str
        The paper reviewed (its citation key, or its title).
    pages : int
        Pages read, for the :class:`ReadingPlan` (>= 1).
    summary : str
        What the paper claims and does, in the reviewer's words.
    strengths, weaknesses, questions : list of str
        One item per point.
    soundness, presentation, contribution : int
        1 to 4.
    overall : int
        1 to 10.
    confidence : int
        1 to 5.
    minutes : dict of str to float
        Minutes spent on ``"triage"``, ``"skim"`` and ``"critical"`` (all three keys, each
        >= 0).

    Raises
    ------
    TypeError
        If a text field is not a str, a list field is a str or not iterable, a score is not
        an int (a bool is refused), or ``minutes`` is not a mapping of real numbers.
    ValueError
        If a text is blank, a score is out of its range, or ``minutes`` lacks a pass, has an
        unknown one, or holds a negative or non-finite time.

    Examples
    --------
    >>> form = ReviewForm(
    ...     paper="goyal2017accurate", pages=12,
    ...     summary=("The paper trains ResNet-50 on ImageNet with mini-batches of up to 8192 images "
    ...              "without losing accuracy, by scaling the learning rate linearly with the batch "
    ...              "size and ramping it up gradually over the first epochs."),
    ...     strengths=["A simple rule that practitioners can apply at once."],
    ...     weaknesses=["The warmup length of Section 2.2 is chosen by hand, with no rule for other models."],
    ...     questions=["How long must the warmup be for a batch of 16k?"],
    ...     soundness=3, presentation=4, contribution=3, overall=7, confidence=3,
    ...     minutes={"triage": 15, "skim": 80, "critical": 200})
    >>> form.check().ok
    True
    >>> print(form.to_markdown().splitlines()[0])
    **Review of goyal2017accurate**
    """

    paper: str
    pages: int
    summary: str
    strengths: Sequence[str]
    weaknesses: Sequence[str]
    questions: Sequence[str]
    soundness: int
    presentation: int
    contribution: int
    overall: int
    confidence: int
    minutes: Mapping[str, float]

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "paper", _validate.text(self.paper, "paper"))
        set_(self, "pages", _validate.integer(self.pages, "pages", low=1))
        set_(self, "summary", _validate.text(self.summary, "summary"))
        for name in ("strengths", "weaknesses", "questions"):
            set_(self, name, _items(getattr(self, name), name))
        for name, scale in (("soundness", AXIS_SCALE), ("presentation", AXIS_SCALE), ("contribution", AXIS_SCALE),
                            ("overall", OVERALL_SCALE), ("confidence", CONFIDENCE_SCALE)):
            set_(self, name, _validate.integer(getattr(self, name), name, low=min(scale), high=max(scale)))
        if not isinstance(self.minutes, Mapping):
            raise TypeError(f"minutes must be a dict of pass name to minutes, got {type(self.minutes).__name__}")
        unknown = [k for k in self.minutes if k not in _PASSES]
        if unknown:
            raise ValueError(f"minutes has unknown passes {unknown}; the passes are {list(_PASSES)}")
        lacking = [k for k in _PASSES if k not in self.minutes]
        if lacking:
            raise ValueError(f"minutes lacks the passes {lacking} (write 0 for a pass you skipped)")
        set_(self, "minutes", {k: _validate.real(self.minutes[k], f"minutes[{k!r}]", low=0) for k in _PASSES})

    def check(self, plan: Optional[ReadingPlan] = None, *, tolerance: float = 0.1) -> ReviewReport:
        r"""Check the form; return every problem found.

        The rules, each deterministic:

        ``summary``
            30 to 300 words.
        ``strengths``
            At least one, each of at least 5 words.
        ``weaknesses``
            At least one, each *specific*: at least 8 words and a place in the paper
            ("Section 3.2", "Fig. 2", "Table 1", "Eq. (4)", "Algorithm 1", "Appendix B",
            "Theorem 1", "page 5", "line 120" ...), so that the authors can find what is meant.
        ``questions``
            At least one, each ending with a question mark.
        ``scores``
            The overall score agrees with the others: an accept (overall >= 6) needs
            soundness >= 3 and no axis at 1 ("poor"); a reject (overall <= 4) needs an axis
            at 2 or below, the reason for the reject; a strong accept (>= 8) needs at least as
            many strengths as weaknesses, and a clear reject (<= 3) at least as many
            weaknesses as strengths.
        ``confidence``
            A confidence of 4 or 5 needs a critical pass of at least half its budget: one
            cannot be confident about a paper one has only skimmed.
        ``time``
            Every pass took some time; the triage and the critical pass stay within
            :math:`(1 + \text{tolerance})` times their budgets, and
            :meth:`ReadingPlan.assess` finds nothing wrong with the comprehension time
            (its share and its budget).

        Parameters
        ----------
        plan : ReadingPlan, optional
            The plan to compare the times with (default: ``ReadingPlan(self.pages)``).
        tolerance : float, default 0.1
            The slack on each budget, as a fraction.

        Returns
        -------
        ReviewReport

        Raises
        ------
        TypeError
            If ``plan`` is not a :class:`ReadingPlan` or ``tolerance`` not a number.
        ValueError
            If ``tolerance`` is negative.
        """
        plan = ReadingPlan(self.pages) if plan is None else plan
        if not isinstance(plan, ReadingPlan):
            raise TypeError(f"plan must be a ReadingPlan, got {type(plan).__name__}")
        tolerance = _validate.real(tolerance, "tolerance", low=0)
        failures: list[Finding] = []

        words = _words(self.summary)
        if not 30 <= words <= 300:
            failures.append(Finding("summary", f"the summary has {words} words; write 30 to 300: what the paper claims, "
                                               "how it supports the claim, and what it finds"))
        if not self.strengths:
            failures.append(Finding("strengths", "list at least one strength: every paper that is worth a review has one"))
        for i, item in enumerate(self.strengths, 1):
            if _words(item) < 5:
                failures.append(Finding("strengths", f"strength {i} ({item!r}) is too short to say what is good: use a sentence"))
        if not self.weaknesses:
            failures.append(Finding("weaknesses", "list at least one weakness"))
        for i, item in enumerate(self.weaknesses, 1):
            start = " ".join(item.split()[:6])
            if not _LOCATION.search(item):
                failures.append(Finding("weaknesses", f"weakness {i} ('{start} ...') is not specific: say where in the paper "
                                                      "(a section, figure, table, equation, appendix or page)"))
            if _words(item) < 8:
                failures.append(Finding("weaknesses", f"weakness {i} ('{start} ...') has {_words(item)} words: "
                                                      "say what is wrong and why it matters (8 words at least)"))
        if not self.questions:
            failures.append(Finding("questions", "ask the authors at least one question whose answer could change your score"))
        for i, item in enumerate(self.questions, 1):
            if not item.rstrip().endswith("?"):
                failures.append(Finding("questions", f"question {i} ({item!r}) does not end with a question mark"))

        axes = {"soundness": self.soundness, "presentation": self.presentation, "contribution": self.contribution}
        verdict = f"overall {self.overall} ({OVERALL_SCALE[self.overall]})"
        if self.overall >= 6:
            if self.soundness < 3:
                failures.append(Finding("scores", f"{verdict} with soundness {self.soundness} ({AXIS_SCALE[self.soundness]}): "
                                                  "do not accept claims that the paper does not support (soundness >= 3)"))
            poor = [name for name, v in axes.items() if v == 1]
            if poor:
                failures.append(Finding("scores", f"{verdict} with {', '.join(poor)} 1 (poor)"))
        if self.overall <= 4 and min(axes.values()) > 2:
            failures.append(Finding("scores", f"{verdict} but soundness, presentation and contribution are all good or "
                                              "excellent: which axis is the reason for the reject?"))
        if self.overall >= 8 and len(self.strengths) < len(self.weaknesses):
            failures.append(Finding("scores", f"{verdict} with more weaknesses ({len(self.weaknesses)}) than strengths "
                                              f"({len(self.strengths)})"))
        if self.overall <= 3 and len(self.weaknesses) < len(self.strengths):
            failures.append(Finding("scores", f"{verdict} with more strengths ({len(self.strengths)}) than weaknesses "
                                              f"({len(self.weaknesses)})"))

        budget = {p.name: p.minutes for p in plan.passes}
        if self.confidence >= 4 and self.minutes["critical"] < 0.5 * budget["critical"]:
            failures.append(Finding("confidence", f"confidence {self.confidence} ({CONFIDENCE_SCALE[self.confidence]}) after "
                                                  f"{self.minutes['critical']:.0f} min of critical reading, less than half of "
                                                  f"the {budget['critical']:.0f} min planned: lower it, or read again"))

        for name in _PASSES:
            if self.minutes[name] == 0:
                failures.append(Finding("time", f"the {name} pass took 0 min: every pass of the plan is needed"))
        for name in ("triage", "critical"):
            if self.minutes[name] > (1 + tolerance) * budget[name]:
                failures.append(Finding("time", f"the {name} pass took {self.minutes[name]:.0f} min, over its budget of "
                                                f"{budget[name]:.0f} min"))
        comprehension = self.minutes["triage"] + self.minutes["skim"]
        if comprehension + self.minutes["critical"] > 0:
            failures += [Finding("time", f) for f in plan.assess(comprehension, self.minutes["critical"], tolerance)]

        return ReviewReport(_by_rule(failures, REVIEW_RULES), plan)

    def to_markdown(self) -> str:
        """The review as Markdown: summary, strengths, weaknesses, questions, scores, reading time.

        Examples
        --------
        >>> form = ReviewForm("a paper", 8, "s " * 30, ["good"], ["bad (Fig. 1)"], ["why?"],
        ...                   3, 3, 3, 6, 3, {"triage": 15, "skim": 60, "critical": 150})
        >>> print(form.to_markdown().splitlines()[-1])
        *Reading time*: triage 15 min, skim 60 min, critical 150 min (225 min in all)
        """
        def bullets(items: Sequence[str]) -> list[str]:
            return [f"- {item}" for item in items] or ["- (none)"]

        lines = [f"**Review of {self.paper}**", "", "**Summary.** " + self.summary, "", "**Strengths**", ""]
        lines += bullets(self.strengths) + ["", "**Weaknesses**", ""]
        lines += bullets(self.weaknesses) + ["", "**Questions for the authors**", ""]
        lines += [f"{i}. {q}" for i, q in enumerate(self.questions, 1)] or ["(none)"]
        lines += ["", "| score | value | meaning |", "|---|---|---|"]
        for name in ("soundness", "presentation", "contribution"):
            lines.append(f"| {name} | {getattr(self, name)} / 4 | {AXIS_SCALE[getattr(self, name)]} |")
        lines.append(f"| overall | {self.overall} / 10 | {OVERALL_SCALE[self.overall]} |")
        lines.append(f"| confidence | {self.confidence} / 5 | {CONFIDENCE_SCALE[self.confidence]} |")
        total = sum(self.minutes.values())
        spent = ", ".join(f"{name} {self.minutes[name]:.0f} min" for name in _PASSES)
        lines += ["", f"*Reading time*: {spent} ({total:.0f} min in all)"]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# an experiment and its conclusion
# --------------------------------------------------------------------------------------

#: The conclusions an experiment can reach about a predicted effect.
CONCLUSIONS: tuple[str, ...] = ("supported", "refuted", "inconclusive")

#: The rules of :func:`check_experiment`, in the order they are checked.
EXPERIMENT_RULES: tuple[str, ...] = ("seeds", "conclusion", "hypothesis", "rerun")


@dataclass(frozen=True)
class ExperimentReport(_RuleReport):
    """What :func:`check_experiment` found.

    Attributes
    ----------
    failures : tuple of Finding
        One ``(rule, message)`` per problem, in the order of :data:`EXPERIMENT_RULES`.
    test : PairedTTestResult
        The paired t-test of treatment minus baseline (:func:`companion.stats.paired_t_test`),
        recomputed from the data.
    expected : str
        The conclusion that the interval supports.
    """

    failures: tuple[Finding, ...]
    test: PairedTTestResult
    expected: str

    _RULE_ORDER: ClassVar[tuple[str, ...]] = EXPERIMENT_RULES

    def __str__(self) -> str:
        t = self.test
        summary = (f"mean difference {t.mean_difference:+.4g}, {t.confidence:.0%} interval "
                   f"[{t.low:+.4g}, {t.high:+.4g}], p = {t.pvalue:.3g}: {self.expected}")
        return _report_text("experiment", self.failures, summary)


def _expected_conclusion(low: float, high: float, predicted: str) -> str:
    sign = 1.0 if predicted == "increase" else -1.0
    lo, hi = sorted((sign * low, sign * high))
    if lo > 0:
        return "supported"
    if hi < 0:
        return "refuted"
    return "inconclusive"   # the interval contains 0 (or is NaN: no difference at all)


def check_experiment(
    baseline: Sequence[float],
    treatment: Sequence[float],
    *,
    predicted: str,
    conclusion: str,
    seeds: Optional[Sequence[int]] = None,
    hypothesis: Optional[Hypothesis] = None,
    rerun: Optional[Callable[[int], tuple[float, float]]] = None,
    rerun_seeds: Optional[Sequence[int]] = None,
    confidence: float = 0.95,
    min_seeds: int = 5,
    atol: float = 1e-6,
) -> ExperimentReport:
    r"""Check that the conclusion of a paired experiment follows from its data, and that the data are real.

    The experiment compares a *treatment* with a *baseline*, each run once per seed with the
    same seeds (entry ``i`` of both lists comes from seed ``seeds[i]``), after stating which
    way the treatment should move the metric (``predicted``). The statistics are recomputed
    with :func:`companion.stats.paired_t_test` on the differences
    :math:`d_i = \mathrm{treatment}_i - \mathrm{baseline}_i`: the interval

    .. math::

        \bar d \pm t_{(1+c)/2,\, n-1}\, \frac{s_d}{\sqrt n}

    decides the conclusion: ``"supported"`` if it excludes 0 on the predicted side,
    ``"refuted"`` if it excludes 0 on the other side, ``"inconclusive"`` if it contains 0
    (a difference the seeds cannot tell from noise supports nothing, either way). The rules:

    ``seeds``
        At least ``min_seeds`` seeds, all different (a repeated seed repeats a run, it does
        not add one).
    ``conclusion``
        ``conclusion`` is the one that the interval supports.
    ``hypothesis``
        If a :class:`Hypothesis` is given, its experiment evidence agrees: ``"supported"``
        needs supporting experiment evidence and a status other than ``"refuted"``;
        ``"refuted"`` needs the status ``"refuted"``; ``"inconclusive"`` needs no experiment
        evidence at all.
    ``rerun``
        If ``rerun`` is given, ``rerun(seed)`` returns ``(baseline, treatment)`` for one
        seed; it is called for each seed of ``rerun_seeds`` (default: the middle seed) and
        must reproduce the recorded values within ``atol``: the numbers came from the code,
        and the code is seeded.

    Parameters
    ----------
    baseline, treatment : sequence of float, shape (n,)
        The metric of each arm, one value per seed.
    predicted : {"increase", "decrease"}
        The direction of the effect, stated before the experiment.
    conclusion : {"supported", "refuted", "inconclusive"}
        The conclusion to check.
    seeds : sequence of int, optional
        The seeds of the runs (default ``range(n)``).
    hypothesis : Hypothesis, optional
        The hypothesis the experiment tests.
    rerun : callable, optional
        ``rerun(seed) -> (baseline value, treatment value)``.
    rerun_seeds : sequence of int, optional
        Seeds to rerun (each one of ``seeds``).
    confidence : float, default 0.95
        Of the interval.
    min_seeds : int, default 5
    atol : float, default 1e-6
        The tolerance of the rerun.

    Returns
    -------
    ExperimentReport

    Raises
    ------
    TypeError
        If the values are not sequences of real numbers, ``seeds`` not ints, ``hypothesis``
        not a :class:`Hypothesis`, ``rerun`` not callable or returning other than two numbers.
    ValueError
        If the arms differ in length or hold fewer than 2 values, ``seeds`` has another
        length, ``predicted`` or ``conclusion`` is not one of its options, a rerun seed is
        not among ``seeds``, or ``confidence``, ``min_seeds`` or ``atol`` is out of range.

    Examples
    --------
    >>> base = [0.80, 0.82, 0.79, 0.81, 0.80]
    >>> treat = [0.85, 0.86, 0.83, 0.87, 0.84]
    >>> check_experiment(base, treat, predicted="increase", conclusion="supported").ok
    True
    >>> print(check_experiment(base, treat, predicted="decrease", conclusion="supported"))
    experiment: 1 problem (mean difference +0.046, 95% interval [+0.03489, +0.05711], p = 0.000326: refuted)
    - [conclusion] the data say 'refuted', not 'supported': the 95% interval of treatment - baseline, [+0.03489, +0.05711], lies entirely above 0, against the predicted decrease
    """
    predicted = _validate.choice(predicted, "predicted", ("increase", "decrease"))
    conclusion = _validate.choice(conclusion, "conclusion", CONCLUSIONS)
    min_seeds = _validate.integer(min_seeds, "min_seeds", low=2)
    atol = _validate.real(atol, "atol", low=0)
    test = paired_t_test(treatment, baseline, confidence)   # validates the values and their lengths
    n = test.df + 1
    if seeds is None:
        seeds = list(range(n))
    else:
        if isinstance(seeds, str):
            raise TypeError("seeds must be a sequence of int, got a str")
        seeds = [_validate.integer(s, "each seed") for s in seeds]
        if len(seeds) != n:
            raise ValueError(f"seeds must hold one seed per run ({n}), got {len(seeds)}")
    if hypothesis is not None and not isinstance(hypothesis, Hypothesis):
        raise TypeError(f"hypothesis must be a Hypothesis, got {type(hypothesis).__name__}")
    if rerun is not None and not callable(rerun):
        raise TypeError(f"rerun must be callable, got {type(rerun).__name__}")
    if rerun_seeds is None:
        rerun_seeds = [seeds[n // 2]]
    else:
        rerun_seeds = [_validate.integer(s, "each rerun seed") for s in rerun_seeds]
        for s in rerun_seeds:
            if s not in seeds:
                raise ValueError(f"rerun seed {s} is not one of the seeds {seeds}")

    failures: list[Finding] = []
    if n < min_seeds:
        failures.append(Finding("seeds", f"{n} seeds per arm; run at least {min_seeds}"))
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        failures.append(Finding("seeds", f"seeds {repeated} are repeated: a repeated seed repeats a run, it adds no evidence"))

    expected = _expected_conclusion(test.low, test.high, predicted)
    if conclusion != expected:
        where = f"[{test.low:+.4g}, {test.high:+.4g}]"
        if expected == "inconclusive":
            why = "contains 0: the seeds cannot tell the difference from noise"
        elif (expected == "supported") == (predicted == "increase"):
            why = f"lies entirely above 0, {'as predicted' if expected == 'supported' else 'against the predicted decrease'}"
        else:
            why = f"lies entirely below 0, {'as predicted' if expected == 'supported' else 'against the predicted increase'}"
        failures.append(Finding("conclusion", f"the data say {expected!r}, not {conclusion!r}: the {test.confidence:.0%} interval "
                                              f"of treatment - baseline, {where}, {why}"))

    if hypothesis is not None:
        experiments = [e for e in hypothesis.evidence if e.kind == "experiment"]
        if conclusion == "supported" and hypothesis.status == "refuted":
            failures.append(Finding("hypothesis", "the conclusion is 'supported' but the hypothesis is refuted: "
                                                  "evidence against it is recorded, and more support does not undo it"))
        elif conclusion == "supported" and not any(e.supports for e in experiments):
            failures.append(Finding("hypothesis", f"the conclusion is 'supported' but the hypothesis is {hypothesis.status} "
                                                  "without supporting experiment evidence: record it with hypothesis.support('experiment', ...)"))
        elif conclusion == "refuted" and hypothesis.status != "refuted":
            failures.append(Finding("hypothesis", f"the conclusion is 'refuted' but the hypothesis is {hypothesis.status}: "
                                                  "record it with hypothesis.refute('experiment', ...)"))
        elif conclusion == "inconclusive" and experiments:
            failures.append(Finding("hypothesis", "the conclusion is 'inconclusive', so the experiment is evidence neither "
                                                  "way: do not record it as evidence"))

    if rerun is not None:
        values_b, values_t = [float(v) for v in baseline], [float(v) for v in treatment]
        for s in rerun_seeds:
            got = rerun(s)
            if not (isinstance(got, tuple) and len(got) == 2):
                raise TypeError(f"rerun(seed) must return a (baseline, treatment) pair, got {type(got).__name__}")
            got_b, got_t = (_validate.real(v, "the value returned by rerun") for v in got)
            i = seeds.index(s)
            for arm, recorded, now in (("baseline", values_b[i], got_b), ("treatment", values_t[i], got_t)):
                if abs(recorded - now) > atol:
                    failures.append(Finding("rerun", f"seed {s}, {arm}: the run gives {now:.6g} now, but {recorded:.6g} was "
                                                     "recorded: the data do not come from this code, or the run is not seeded"))

    return ExperimentReport(_by_rule(failures, EXPERIMENT_RULES), test, expected)
