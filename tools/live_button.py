"""A Sphinx extension: the theme's JupyterLite launch button, named for readers.

`launch_buttons.jupyterlite_url` in `_config.yml` makes sphinx-book-theme add a "JupyterLite"
entry to each notebook page's launch menu, opening that notebook in the live book (built into
`_build/html/lite/` by tools/build_live_site.py). Readers do not know that name; this says what the
button does: "Run in your browser".
"""

from __future__ import annotations

LABEL = "Run in your browser"
TOOLTIP = "Run and edit this notebook in your browser: nothing to install, nothing leaves your computer"


def _rename(buttons: list) -> None:
    for button in buttons:
        if button.get("type") == "group":
            _rename(button.get("buttons", []))
        elif button.get("text") == "JupyterLite":
            button.update(text=LABEL, tooltip=TOOLTIP, label="run-in-browser-button")


def _name_the_live_button(app, pagename, templatename, context, doctree) -> None:
    _rename(context.get("header_buttons", []))


def setup(app) -> dict:
    # After sphinx-book-theme has added its launch buttons (default priority 500).
    app.connect("html-page-context", _name_the_live_button, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
