"""Tools for doing research: the chessboard, a reading plan, and a hypothesis log.

A research field can be drawn as a *chessboard*: one row per problem (or application), one
column per method, and in each cell the papers that apply that method to that problem. The
cells you have filled are the papers you have read; the empty cells are candidate research
directions. :class:`ReadingPlan` budgets the time to read one paper (a short triage, a
comprehension pass, then mostly critical thinking), and :class:`Hypothesis` and
:class:`ResearchLog` keep the (problem, solution) hypotheses of one research question,
moving on to the next candidate solution whenever one is refuted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Sequence, Union

from companion import _validate

if TYPE_CHECKING:  # imported lazily at run time: importing companion.research stays cheap
    import matplotlib.axes
    import matplotlib.figure
    import pandas

__all__ = [
    "Chessboard",
    "Evidence",
    "Hypothesis",
    "ReadingPass",
    "ReadingPlan",
    "ResearchLog",
    "EVIDENCE_KINDS",
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
