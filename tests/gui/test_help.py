"""Help: the user guide rendered in-app (every page, links, images) and the shortcuts read from the actions."""

from __future__ import annotations

from PySide6.QtCore import QUrl


def test_every_guide_page_opens_with_links_and_images(qtbot, main_window):
    from cnnstudio.core.paths import docs_dir

    guide = main_window.help.show_guide("playground")
    qtbot.waitExposed(guide)
    pages = guide.pages()
    on_disk = sorted(docs_dir().glob("*.md"))
    assert len(pages) == len(on_disk) >= 7
    assert [p for _t, p in pages][0].stem == "playground"
    for title, path in pages:
        assert guide.open_page(path), path
        assert guide.current_page() == path.resolve()
        text = guide.text()
        assert title in text and len(text) > 200, path  # rendered, not an error page
        assert guide.contents.currentItem().text() == title

    # a link to another page with an anchor opens that page at the heading
    guide.open_page("inspect")
    guide.browser.anchorClicked.emit(QUrl("training.md#per-epoch-weights-epochnpt"))
    assert guide.current_page().name == "training.md"
    assert guide.browser.verticalScrollBar().value() > 0

    # the README's image of the Designer is loaded from docs/images
    guide.open_page("designer")
    image = guide.browser.document().resource(2, QUrl("images/designer.png"))  # QTextDocument.ImageResource
    assert image is not None and not image.isNull()


def test_f1_opens_the_page_of_the_workspace_on_screen(qtbot, main_window):
    main_window.show_workspace("designer")
    main_window.help.action_guide.trigger()
    assert main_window.help.guide.isVisible()
    assert main_window.help.guide.current_page().name == "designer.md"
    assert main_window.help.action_guide.shortcut().toString() == "F1"


def test_shortcuts_list_is_read_from_the_actions(qtbot, main_window):
    main_window.help.action_shortcuts.trigger()
    dialog = main_window.help.shortcuts
    keys = {e.portable for e in dialog.entries}
    assert "Ctrl+Z" in keys and "F1" in keys
    for n in range(1, 7):
        assert f"Ctrl+{n}" in keys
    texts = {(e.portable, e.text) for e in dialog.entries}
    assert ("Ctrl+Z", "Undo") in texts or any(k == "Ctrl+Z" and t.startswith("Undo") for k, t in texts)
    # workspace actions are listed with their workspace (the Designer's are built for the list)
    assert any(e.where == "Designer" for e in dialog.entries)
    assert len(dialog.rows()) == len(dialog.entries)
