/* The Live page and wall board, drawn in the browser once a second from the
 * last state the server sent (every 2 s): ring counters tick smoothly, and the
 * board notices by itself when the server or the sign-in is gone.
 *
 * Every state is said in words and a shape, never by colour alone:
 *   ✓ ON TARGET   ▼ FALLING BEHIND   ▲ CALLS WAITING NOW   ✕ NO LIVE DATA
 *
 * Open alerts (callwatch.alerts, from the store) are shown as their sentences
 * in large type; when one this screen has not shown yet appears, the state
 * area and the alerts flash for FLASH_MS and, if the office turned the chime
 * on and someone enabled sound on this screen, a chime made with the Web Audio
 * API plays (browsers refuse sound before a click or key press on the page).
 */
(function () {
    "use strict";
    var POLL_LOST_MS = 7000;   // three missed polls: say the server is unreachable
    var SESSION_CHECK_MS = 5000;
    var FLASH_MS = 12000;      // how long the board flashes when a new alert fires

    function el(type, props) { return {type: type, namespace: "dash_html_components", props: props}; }
    function fmt(s) {
        return s >= 3600 ? Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min"
            : s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
    }
    function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(0) + " %"; }
    function clock(ms) { return new Date(ms).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"}); }

    function cards(state, now) {
        var ringing = [], queued = [], late = 0;
        state.calls.forEach(function (c) {
            var secs = Math.max(0, Math.floor((now - c.since_ms) / 1000));
            if (c.state === "queued") {
                var over = secs >= state.target_s;
                if (over) { late += 1; }
                queued.push(el("Div", {className: "ring-card queued" + (over ? " red" : ""), id: "queued-" + c.id,
                    children: [
                        el("Div", {className: "tag", children: over ? "▲ WAITING TOO LONG" : "● in queue"}),
                        el("Div", {className: "rings", children: fmt(secs)}),
                        el("Div", {className: "secs", children: "waiting · target " + state.target_s + " s"}),
                        el("Div", {className: "where", children: "caller " + c.caller + " · queue " +
                                   (c.queue || c.where || "?")})]}));
                return;
            }
            // Ring n runs from (n-1) cycles to n cycles: ring 4 starts the moment the 3-ring target passes.
            var rings = Math.floor(secs / state.cycle_s) + 1;
            var big = secs >= 600 ? "ringing " + fmt(secs) : "ring " + rings;
            var tone = "", tag = "● ringing";
            if (rings > state.target_rings) { tone = " red"; tag = "▲ PAST TARGET"; late += 1; }
            else if (rings === state.target_rings) { tone = " amber"; tag = "◆ LAST RING"; }
            ringing.push(el("Div", {className: "ring-card" + tone, id: "ringing-" + c.id, children: [
                el("Div", {className: "tag", children: tag}),
                el("Div", {className: "rings", children: big}),
                el("Div", {className: "secs", children: (secs >= 600 ? "check the PBX clock" : secs + " s") +
                                                       " · target " + state.target_rings + " rings"}),
                el("Div", {className: "where", children: "caller " + c.caller + (c.where ? " · " + c.where : "")})]}));
        });
        return {ringing: ringing, queued: queued, late: late};
    }

    function limited(list, max, what) {
        if (list.length <= max) { return list; }
        return list.slice(0, max).concat([el("P", {className: "more", children: "+ " + (list.length - max) +
                                                   " more " + what})]);
    }

    function verdict(state, drawn, offline) {
        var t = state.today || {};
        if (offline) {
            return ["unknown", "✕", "NO CONNECTION", "the dashboard server does not answer; numbers are from " +
                    clock(window.__cwLastOk)];
        }
        if (state.collector !== "ok") {
            return ["unknown", "✕", "NO LIVE DATA", "the live collector is silent: ringing calls cannot be seen"];
        }
        if (drawn.late) {
            return ["alert", "▲", "CALLS WAITING NOW", drawn.late + " caller" + (drawn.late > 1 ? "s" : "") +
                    " past the " + state.target_rings + "-ring target"];
        }
        var behind = [];
        if (t.offered >= state.min_calls) {
            if (t.answer_rate !== null && t.answer_rate < state.goal_answer) {
                behind.push("answered " + pct(t.answer_rate) + " (goal " + pct(state.goal_answer) + ")");
            }
            if (t.within_target_rate !== null && t.within_target_rate < state.goal_within) {
                behind.push("within target " + pct(t.within_target_rate) + " (goal " + pct(state.goal_within) + ")");
            }
        }
        if (behind.length) { return ["behind", "▼", "FALLING BEHIND", behind.join(" · ")]; }
        var why = t.offered >= state.min_calls ? "nobody waiting; today's rates meet the goals"
            : "nobody waiting; too few calls yet today to judge the rates";
        return ["ok", "✓", "ON TARGET", why];
    }

    function tile(id, label, value, note, tone) {
        return el("Div", {className: "tile" + (tone ? " " + tone : ""), id: id, children: [
            el("Div", {className: "value", children: value}),
            el("Div", {className: "label", children: label}),
            el("Div", {className: "note", children: note || ""})]});
    }

    function rateTile(id, label, value, goal, enough) {
        if (value === null || value === undefined) { return tile(id, label, "–", "no calls yet"); }
        if (!enough) { return tile(id, label, pct(value), "goal " + pct(goal) + " · few calls yet"); }
        var met = value >= goal;
        return tile(id, label, pct(value), (met ? "✓ at goal " : "▼ below goal ") + pct(goal), met ? "" : "below");
    }

    function tiles(state, drawn) {
        var t = state.today || {};
        var enough = t.offered >= state.min_calls;
        var unknown = state.collector !== "ok";
        var ringingCount = state.calls.filter(function (c) { return c.state !== "queued"; }).length;
        return [
            tile("tile-ringing", "ringing now", unknown ? "?" : String(ringingCount),
                 unknown ? "collector silent" : "", drawn.late ? "below" : ""),
            tile("tile-waiting", "waiting in a queue", unknown ? "?" : String(state.calls.length - ringingCount), ""),
            rateTile("tile-answered", "answered today", t.answer_rate, state.goal_answer, enough),
            rateTile("tile-within", "within " + state.target_rings + " rings today", t.within_target_rate,
                     state.goal_within, enough),
            tile("tile-callback", "to call back today", String(t.due_today || 0),
                 t.overdue ? "+ " + t.overdue + " overdue" : "none overdue"),
        ];
    }

    function sessionCheck() {
        var now = Date.now();
        if (window.__cwSessionAt && now - window.__cwSessionAt < SESSION_CHECK_MS) { return; }
        window.__cwSessionAt = now;
        fetch("/_dash-layout", {redirect: "manual", credentials: "same-origin"}).then(function (r) {
            window.__cwSignedOut = r.status === 401 || r.type === "opaqueredirect";
        }).catch(function () { window.__cwSignedOut = false; });
    }

    function connection(now, offline) {
        if (offline) {
            sessionCheck();
            if (window.__cwSignedOut) {
                if (!window.__cwLoginAt) { window.__cwLoginAt = now + 10000; }
                if (now > window.__cwLoginAt) {
                    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname +
                                                                             window.location.search));
                }
                return el("Div", {className: "banner down", role: "alert", id: "conn-banner", children:
                    "✕ Signed out: this screen's sign-in has ended. Opening the sign-in page; after signing in " +
                    "it comes back to this board."});
            }
            return el("Div", {className: "banner down", role: "alert", id: "conn-banner", children:
                "✕ Lost contact with the dashboard server at " + clock(window.__cwLastOk) +
                ". Retrying every 2 s; the numbers below are from then."});
        }
        window.__cwLoginAt = 0;
        if (window.__cwReconnectedAt && Date.now() - window.__cwReconnectedAt < 15000) {
            return el("Div", {className: "banner ok", role: "status", id: "conn-banner", children:
                "✓ Reconnected at " + clock(window.__cwReconnectedAt) + "."});
        }
        return null;
    }

    // Sound needs a user gesture: any click or key press on the page turns it on (the board offers a button).
    function enableSound() {
        if (window.__cwAudio) { return; }
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (!Ctx) { return; }
        window.__cwAudio = new Ctx();
        window.__cwAudio.resume();
    }
    document.addEventListener("click", enableSound, true);
    document.addEventListener("keydown", enableSound, true);

    function chime() {
        var audio = window.__cwAudio;
        if (!audio || audio.state !== "running") { return; }
        // Two falling tones, each with a soft attack and decay (no clicks), about 0.7 s in all.
        [[880, 0], [660, 0.3]].forEach(function (tone) {
            var start = audio.currentTime + tone[1], osc = audio.createOscillator(), gain = audio.createGain();
            osc.type = "sine";
            osc.frequency.value = tone[0];
            gain.gain.setValueAtTime(0.0001, start);
            gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
            gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.4);
            osc.connect(gain).connect(audio.destination);
            osc.start(start);
            osc.stop(start + 0.42);
        });
        window.__cwChimes = (window.__cwChimes || 0) + 1;
    }

    // Marks alerts this screen had not shown (starting the flash and the chime); true while flashing.
    function flashing(state) {
        var list = state.alerts || [], seen = window.__cwAlertSeen = window.__cwAlertSeen || {}, fresh = false;
        list.forEach(function (a) { if (!seen[a.id]) { seen[a.id] = true; fresh = true; } });
        if (fresh) {
            window.__cwFlashUntil = Date.now() + FLASH_MS;
            if (state.chime) { chime(); }
        }
        return list.length > 0 && Date.now() < (window.__cwFlashUntil || 0);
    }

    function alertsBox(state, flash) {
        var list = state.alerts || [], parts = [];
        if (state.chime && !(window.__cwAudio && window.__cwAudio.state === "running")) {
            parts.push(el("Button", {id: "alert-sound-on", className: "sound-on", children:
                "🔔 Click to enable sound: this browser plays the alert chime only after a click or key press"}));
        }
        if (!list.length) { return parts.length ? parts : null; }
        parts.push(el("Div", {className: "alerts" + (flash ? " flash" : ""), id: "alert-box", children:
            list.map(function (a) {
                return el("Div", {className: "alert-item", id: "alert-" + a.id, children: [
                    el("Span", {className: "alert-tag", children: "⚠ ALERT since " + a.fired + " · " + a.condition +
                                                             (state.pooled ? " · " + a.site : "")}),
                    el("Span", {className: "alert-words", children: a.message})]});
            })}));
        return parts;
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.callwatch = {
        tick: function (_tick, state) {
            var nu = window.dash_clientside.no_update;
            if (!state) { return [nu, nu, nu, nu, nu, nu]; }
            var trig = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
            if (trig.indexOf("live-state.data") >= 0 || window.__cwSkew === undefined) {
                window.__cwSkew = state.server_now_ms - Date.now();
                if (window.__cwOffline) { window.__cwReconnectedAt = Date.now(); }
                window.__cwLastOk = Date.now();
                window.__cwSignedOut = false;
            }
            var offline = Date.now() - window.__cwLastOk > POLL_LOST_MS;
            window.__cwOffline = offline;
            var now = Date.now() + window.__cwSkew;
            var drawn = cards(state, now);
            var v = verdict(state, drawn, offline);
            var flash = flashing(state);
            var status = el("Div", {className: "state state-" + v[0] + (flash ? " flash" : ""), id: "wall-state-box",
                                    children: [
                el("Span", {className: "state-icon", "aria-hidden": "true", children: v[1]}),
                el("Span", {className: "state-words", children: v[2]}),
                el("Span", {className: "state-why", children: v[3]})]});
            var unknown = state.collector !== "ok";
            var none = function (text) { return el("P", {className: "quiet", children: text}); };
            var ringing = unknown ? none("Ringing calls unknown while the collector is silent.")
                : drawn.ringing.length ? limited(drawn.ringing, state.max_cards, "ringing") : none("No calls ringing.");
            var queued = unknown ? none("Queued callers unknown while the collector is silent.")
                : drawn.queued.length ? limited(drawn.queued, state.max_cards, "waiting") : none("Nobody waiting in a queue.");
            return [ringing, queued, status, tiles(state, drawn), connection(Date.now(), offline),
                    alertsBox(state, flash)];
        }
    };
})();
