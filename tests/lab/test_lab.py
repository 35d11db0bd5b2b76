"""The student release and a chapter page in JupyterLab, as a student sees them (issue 14).

A real Jupyter server (``conftest.lab``) serves the student tree; headless chromium opens

* chapter 3's student ``exercises.ipynb``: an exercise is rendered as an exercise box (by
  jupyterlab-myst), not as ``:label:`` text; its math is typeset (KaTeX); no "Jupyter news"
  popup greets the student; running the notebook shows, at the first check cell, the "not
  implemented yet" verdict without a traceback; nbgrader's panels (for instructors) are not
  shown;
* the chapter page ``03_losses/02_cross_entropy_vs_mse.ipynb``: its definition is rendered,
  and once its ``show_source`` cell has run, the library code the page is about
  (``cross_entropy_grad``) is visible.

Screenshots are written to ``_build/screenshots/lab/``.
"""

from __future__ import annotations

import pytest

from labtools import CHAPTER_PAGE, EXERCISES, SCREENSHOTS

OPEN_TIMEOUT_MS = 90_000
RUN_TIMEOUT_MS = 180_000


def open_notebook(tab, lab, path: str) -> None:
    tab.goto(f"{lab.url}lab/tree/{path}?reset&token={lab.token}")  # reset: no tabs of earlier tests
    tab.wait_for_selector(".jp-Notebook .jp-Cell", timeout=OPEN_TIMEOUT_MS)
    # the kernel has started when the status bar says Idle
    tab.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=OPEN_TIMEOUT_MS,
    )


def visible_text(tab) -> str:
    """What the rendered markdown cells of the open notebook show (not their hidden sources)."""
    return tab.evaluate(
        "() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell'))"
        ".map(c => { const r = c.querySelector('.myst, .jp-RenderedMarkdown'); return r ? r.innerText : ''; }).join('\\n')"
    )


def test_student_exercises_in_jupyterlab(tab, lab):
    open_notebook(tab, lab, EXERCISES)
    box = tab.wait_for_selector("aside.myst-exercise", timeout=OPEN_TIMEOUT_MS)
    title = box.query_selector(".myst-exercise-title").inner_text()
    assert title.startswith("Exercise 1"), title
    assert box.query_selector(".katex") is not None, "the exercise's math is not typeset"
    assert box.get_attribute("id") == "ex-03-kl-by-hand"
    text = visible_text(tab)
    assert ":label:" not in text and "```{exercise}" not in text, "MyST directives shown as raw text"
    assert "This is your copy of the exercises" in text and "instructor" not in text
    body = tab.inner_text("body")
    assert "Jupyter news" not in body and "notified" not in body, "the news popup greets the student"
    assert "Create Assignment" not in body and "Nbgrader" not in body, "nbgrader's instructor panels are shown to students"

    tab.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    check = tab.locator(".jp-CodeCell", has_text="check_property(kl_by_hand").first
    verdict = check.locator(".jp-OutputArea-output").filter(has_text="not implemented yet")
    verdict.wait_for(timeout=RUN_TIMEOUT_MS)
    verdict.first.scroll_into_view_if_needed()
    shown = verdict.first.text_content()
    assert "✗ kl_by_hand: not implemented yet" in shown, shown
    assert "Traceback" not in shown and 'File "' not in shown, shown
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / "exercises.png"))
    assert tab.errors == [], tab.errors


def test_chapter_page_shows_library_code_in_jupyterlab(tab, lab):
    open_notebook(tab, lab, CHAPTER_PAGE)
    definition = tab.wait_for_selector("aside[id='def-03-cross-entropy-loss']", timeout=OPEN_TIMEOUT_MS)
    assert "Definition" in definition.inner_text()
    assert definition.query_selector(".katex") is not None
    assert ":label:" not in visible_text(tab)
    index = tab.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".findIndex(c => c.model.sharedModel.getSource().includes('show_source(companion.losses.cross_entropy_grad)'))"
    )
    assert index > 0, "the page has no show_source cell for cross_entropy_grad"
    tab.evaluate(
        "async (i) => { const nb = window.jupyterapp.shell.currentWidget; nb.content.activeCellIndex = i;"
        " await window.jupyterapp.commands.execute('notebook:run-all-above');"
        " await window.jupyterapp.commands.execute('notebook:run-cell'); }",
        index,
    )
    cell = tab.locator(".jp-CodeCell", has_text="show_source(companion.losses.cross_entropy_grad)").first
    code = cell.locator(".jp-OutputArea-output").filter(has_text="def cross_entropy_grad(")
    code.wait_for(timeout=RUN_TIMEOUT_MS)
    code.first.scroll_into_view_if_needed()
    listing = code.first.text_content()
    assert "def cross_entropy_grad(" in listing and "return" in listing
    assert cell.locator(".jp-OutputArea-output pre code, .jp-OutputArea-output pre").count() >= 1, "not shown as a code block"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / "chapter_page.png"))
    assert tab.errors == [], tab.errors


def test_release_in_the_lab_holds_no_solution(lab):
    from companion.exercises.release import find_leaks

    assert find_leaks(lab.folder / "chapters" / "03_losses" / "exercises.ipynb") == []


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-v"]))
