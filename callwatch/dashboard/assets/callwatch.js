/* callwatch dashboard: what the browser does by itself.
 *
 * 1. Filters follow the user: pages write their office, dates and queue into
 *    the URL (history.replaceState, so nothing reloads); a menu link, when
 *    followed, takes those along, and so does a bookmark.
 * 2. Keyboard: chart toolbars (plotly's modebar, 11 buttons a chart) are taken
 *    out of the tab order; they stay usable with a mouse.
 * 3. The phone menu: the Menu button opens and closes the navigation.
 */
(function () {
    "use strict";
    var CARRIED = ["site", "start", "end", "queue"];

    function carriedQuery() {
        var here = new URLSearchParams(window.location.search);
        var out = new URLSearchParams();
        CARRIED.forEach(function (key) {
            var value = here.get(key);
            if (value) { out.set(key, value); }
        });
        var text = out.toString();
        return text ? "?" + text : "";
    }

    // Called by the pages' clientside callbacks with their current filters.
    window.callwatchSetQuery = function (values) {
        var params = new URLSearchParams(window.location.search);
        Object.keys(values).forEach(function (key) {
            var value = values[key];
            if (value === null || value === undefined || value === "") { params.delete(key); }
            else { params.set(key, value); }
        });
        var text = params.toString();
        var url = window.location.pathname + (text ? "?" + text : "") + window.location.hash;
        if (url !== window.location.pathname + window.location.search + window.location.hash) {
            window.history.replaceState(window.history.state, "", url);
        }
        return text;
    };

    document.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a.nav-link");
        if (link) {
            link.setAttribute("href", link.getAttribute("href").split("?")[0] + carriedQuery());
            document.body.classList.remove("nav-open");
            return;
        }
        var toggle = event.target.closest && event.target.closest("#nav-toggle");
        if (toggle) {
            var open = document.body.classList.toggle("nav-open");
            toggle.setAttribute("aria-expanded", open ? "true" : "false");
        }
    }, true);

    // Also the dropdowns' hidden focus catcher (aria-hidden, so it must not take the keyboard focus
    // either; the menu's own button does).
    var UNTAB = ".modebar-btn, .modebar a, .dash-dropdown-focus-target";

    function untab(root) {
        if (!root.querySelectorAll) { return; }
        var found = Array.prototype.slice.call(root.querySelectorAll(UNTAB));
        if (root.matches && root.matches(UNTAB)) { found.push(root); }
        found.forEach(function (b) {
            if (b.getAttribute("tabindex") !== "-1") { b.setAttribute("tabindex", "-1"); }
        });
    }

    // The Calls table's page buttons are arrows only: give them names a screen reader can say.
    var PAGE_BUTTONS = {"first-page": "First page", "previous-page": "Previous page", "next-page": "Next page",
                        "last-page": "Last page"};

    function name(root) {
        if (!root.querySelectorAll) { return; }
        Object.keys(PAGE_BUTTONS).forEach(function (cls) {
            root.querySelectorAll("button." + cls).forEach(function (b) {
                if (!b.getAttribute("aria-label")) { b.setAttribute("aria-label", PAGE_BUTTONS[cls]); }
            });
        });
    }

    new MutationObserver(function (records) {
        records.forEach(function (r) {
            r.addedNodes.forEach(function (n) { if (n.nodeType === 1) { untab(n); name(n.parentNode || n); } });
        });
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
