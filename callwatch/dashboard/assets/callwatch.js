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

    function untab(root) {
        (root.querySelectorAll ? root.querySelectorAll(".modebar-btn, .modebar a") : []).forEach(function (b) {
            if (b.getAttribute("tabindex") !== "-1") { b.setAttribute("tabindex", "-1"); }
        });
    }

    new MutationObserver(function (records) {
        records.forEach(function (r) {
            r.addedNodes.forEach(function (n) { if (n.nodeType === 1) { untab(n); } });
        });
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
