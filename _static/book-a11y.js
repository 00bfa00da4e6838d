// The book's one script (Jupyter Book adds every .js file in _static/ to every page): it repairs
// what the theme's markup gets wrong for screen readers and keyboards (tests/test_accessibility.py).
(function () {
  "use strict";

  function repairNames() {
    // The search field's name "Search" hides its visible text "Search Ctrl+K": let the text name
    // it (the icon-only search button keeps its aria-label).
    document.querySelectorAll(".search-button__button[aria-label]").forEach(function (button) {
      if (button.querySelector(".search-button__default-text")) button.removeAttribute("aria-label");
    });
    // The colour-mode button is named "Color mode", but Font Awesome turns each icon's title
    // ("Light", "Dark", "System Settings") into visible SVG text: the icons are decoration.
    document.querySelectorAll(".theme-switch-button i, .theme-switch-button svg").forEach(function (icon) {
      icon.removeAttribute("title");
      icon.removeAttribute("aria-labelledby");
      icon.removeAttribute("role");
      icon.setAttribute("aria-hidden", "true");
      icon.querySelectorAll("title").forEach(function (title) { title.remove(); });
    });
    // "Show code cell source" toggles are named "Toggle hidden content": let their text name them.
    document.querySelectorAll("details > summary[aria-label]").forEach(function (summary) {
      summary.removeAttribute("aria-label");
    });
  }

  // A box that scrolls sideways (a code cell or an output on a phone, a progress bar) must be
  // reachable by keyboard, or its hidden part cannot be read without a mouse. The theme does this
  // for code blocks only.
  var SCROLLERS = "span.math, pre, .output, .cell_output, .output_area, .jp-OutputArea-output, .table-wrapper, " +
    ".widget-hbox, .jupyter-widgets, div.highlight, .bd-sidebar-primary .sidebar-primary-items__start";
  function tabStops() {
    document.querySelectorAll(SCROLLERS).forEach(function (box) {
      var style = getComputedStyle(box);
      var scrolls = /(auto|scroll)/.test(style.overflowX + style.overflowY) &&
        (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.dataset.bookTabstop = "1";
      } else if (!scrolls && box.dataset.bookTabstop) {
        box.removeAttribute("tabindex");
        delete box.dataset.bookTabstop;
      }
    });
  }

  // An inline formula a little too wide for a phone's column is set a little smaller (down to
  // 80 %) instead of scrolling; wider ones scroll (see span.math in book.css).
  function fitMath() {
    document.querySelectorAll("span.math").forEach(function (span) {
      span.style.fontSize = "";
      if (span.clientWidth > 0 && span.scrollWidth > span.clientWidth + 1) {
        var scale = span.clientWidth / span.scrollWidth;
        if (scale >= 0.8) span.style.fontSize = Math.floor(scale * 100) + "%";
      }
    });
  }

  // On a phone a figure shrinks to the column: a tap (or Enter) opens it full size.
  function zoomableFigures() {
    document.querySelectorAll(".cell_output img, .output img").forEach(function (img) {
      var src = img.getAttribute("src") || "";
      if (src.indexOf("data:") === 0 || img.closest("a")) return;
      var link = document.createElement("a");
      link.href = img.src;
      link.className = "figure-zoom";
      link.title = "Open the figure full size";
      img.parentNode.insertBefore(link, img);
      link.appendChild(img);
    });
  }

  // The logo above the side bar sits outside every landmark: a screen reader's landmark list
  // would skip it. Give its box a labelled region (unless it already lies in a landmark).
  function logoLandmark() {
    document.querySelectorAll("a.navbar-brand").forEach(function (logo) {
      var box = logo.parentElement;
      if (!box || logo.closest("header, nav, main, aside, footer, [role]")) return;
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Book title");
    });
  }

  function repair() {
    logoLandmark();
    repairNames();
    fitMath();
    tabStops();
  }
  var timer;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { fitMath(); tabStops(); }, 100);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { zoomableFigures(); repair(); });
  } else {
    zoomableFigures();
    repair();
  }
  // Font Awesome and the widget manager draw after the page is parsed: repair again when they are done.
  window.addEventListener("load", function () {
    repair();
    setTimeout(repair, 500);
    setTimeout(repair, 2000);
  });
})();
