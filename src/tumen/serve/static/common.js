/* tumen serve: what every page shares.
 * Every string from AIS or sanctions lists is data: it reaches the DOM only through
 * textContent / createTextNode (never innerHTML), and links are built from numbers
 * or encodeURIComponent. */
"use strict";

const TUMEN = (() => {
  const TYPE_COLOURS = {
    port_visit: "#2a9d8f", voyage: "#264653", gap: "#e76f51",
    encounter: "#c1121f", loitering: "#e9a23b", identity: "#7b2cbf",
  };
  const TYPE_TITLES = {
    port_visit: "Port visit", voyage: "Voyage", gap: "AIS gap",
    encounter: "Encounter", loitering: "Loitering", identity: "Identity",
  };

  /** h("a", {href: "/x", class: "c"}, "text", child) → element; strings become text nodes. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = String(v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === "href") el.setAttribute("href", safeHref(v));
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** Only same-origin paths (built by us from numbers and encoded parameters). */
  function safeHref(v) {
    const s = String(v);
    return s.startsWith("/") && !s.startsWith("//") ? s : "#";
  }

  function pageData() {
    const el = document.getElementById("page-data");
    return el ? JSON.parse(el.textContent) : {};
  }

  function showError(message) {
    const el = document.getElementById("error");
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
  }

  async function api(path, params) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(params || {})) {
      if (v === null || v === undefined || v === "") continue;
      if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
      else url.searchParams.set(k, v);
    }
    const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok) {
      const msg = (body && body.error) || `${resp.status} ${resp.statusText}`;
      showError(msg);
      throw new Error(msg);
    }
    return body;
  }

  function fmtTime(iso) {
    if (!iso) return "–";
    return String(iso).replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "").replace(/Z$/, "");
  }

  function fmtDuration(a, b) {
    if (!a || !b) return "";
    const h = (Date.parse(b) - Date.parse(a)) / 3600000;
    if (!isFinite(h)) return "";
    return h >= 48 ? `${(h / 24).toFixed(1)} d` : `${h.toFixed(1)} h`;
  }

  function fmtNum(x, d) {
    if (x === null || x === undefined) return "–";
    return typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(d === undefined ? 2 : d)) : String(x);
  }

  function vesselName(mmsi, names) {
    const n = names && names[String(mmsi)];
    return n ? `${n} (${mmsi})` : String(mmsi);
  }

  function vesselLink(mmsi, names) {
    if (mmsi === null || mmsi === undefined) return "";
    return h("a", { href: `/vessels/${Number(mmsi)}`, class: "vessel-link" }, vesselName(mmsi, names));
  }

  function typeBadge(type, subtype) {
    const b = h("span", { class: `badge type-${String(type).replace(/[^a-z_]/g, "")}` },
      TYPE_TITLES[type] || String(type));
    return subtype ? h("span", {}, b, " ", h("small", {}, String(subtype).replace(/_/g, " "))) : b;
  }

  function eventWhere(ev) {
    if (ev.port) return ev.port;
    if (ev.from_port || ev.to_port) return `${ev.from_port || "?"} → ${ev.to_port || "?"}`;
    if (ev.lat !== null && ev.lat !== undefined) return `${ev.lat.toFixed(3)}, ${ev.lon.toFixed(3)}`;
    return "";
  }

  const MEASURES = ["duration_h", "distance_km", "implied_speed_kn", "min_distance_m", "imo",
    "declared_flag", "before", "after", "dark_port_candidates"];

  function eventMeasures(ev) {
    const e = ev.evidence || {};
    const out = [];
    for (const k of MEASURES) {
      if (!(k in e)) continue;
      const v = e[k];
      out.push(`${k.replace(/_/g, " ")}: ${typeof v === "object" && v !== null ? JSON.stringify(v) : fmtNum(v)}`);
    }
    return out.join("; ");
  }

  /** Render the raw lines an event rests on into `target`. */
  async function showRaw(eventId, target) {
    target.replaceChildren(h("p", { class: "hint" }, "reading the source files…"));
    const prov = await api(`/api/events/${encodeURIComponent(eventId)}/provenance`);
    const parts = [];
    if (!prov.sources.length) parts.push(h("p", {}, "This event cites no stored rows."));
    for (const s of prov.sources) {
      const state = s.unchanged === true ? "file unchanged since ingest"
        : s.unchanged === false ? "file CHANGED since ingest (SHA-256 differs)"
        : s.available ? "file present" : "file not available";
      parts.push(h("div", { class: "raw-source" },
        h("p", { class: "raw-file" }, h("code", {}, s.path || "?")),
        h("p", { class: "raw-meta" }, `SHA-256 ${s.sha256} · ${s.n_lines} line(s) · ${state}`),
        s.error ? h("p", { class: "error-inline" }, s.error) : null,
        h("pre", { class: "raw-lines" },
          s.lines.map((l) => h("span", { class: "raw-line", dataset: { line: String(l.line) } },
            h("span", { class: "ln" }, String(l.line).padStart(6, " ")), "  ",
            l.text === null ? "(missing)" : l.text, "\n"))),
        s.truncated ? h("p", { class: "hint" }, "… more lines than shown") : null));
    }
    target.replaceChildren(...parts);
  }

  function openRawDialog(eventId) {
    const dlg = document.getElementById("raw-dialog");
    const target = document.getElementById("raw");
    if (dlg && typeof dlg.showModal === "function") dlg.showModal();
    return showRaw(eventId, target);
  }

  /** A table of events (contract objects) with names, links and a "raw messages" button. */
  function eventTable(events, names, opts) {
    opts = opts || {};
    const rows = events.map((ev, i) => h("tr", { dataset: { eventId: ev.event_id } },
      opts.numbered ? h("td", {}, String(i + 1)) : null,
      h("td", { class: "nowrap" }, fmtTime(ev.start)),
      h("td", { class: "nowrap" }, fmtTime(ev.end)),
      h("td", {}, typeBadge(ev.type, ev.subtype)),
      h("td", {}, vesselLink(ev.mmsi, names), ev.other_mmsi ? [" & ", vesselLink(ev.other_mmsi, names)] : null),
      h("td", {}, eventWhere(ev)),
      h("td", { class: "measures" }, eventMeasures(ev)),
      h("td", { class: "nowrap" },
        h("button", { type: "button", class: "raw-button", on: { click: () => openRawDialog(ev.event_id) } }, "raw messages"),
        " ",
        ev.lat !== null && ev.lat !== undefined
          ? h("a", { href: `/map?mmsi=${Number(ev.mmsi)}&event=${encodeURIComponent(ev.event_id)}` }, "map") : null)));
    return h("div", { class: "table-wrap" }, h("table", { class: "events" },
      h("thead", {}, h("tr", {}, opts.numbered ? h("th", {}, "#") : null,
        ["start (UTC)", "end (UTC)", "type", "vessel", "where", "measures", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)));
  }

  function initSearchBox() {
    const box = document.getElementById("search-q");
    const q = new URLSearchParams(window.location.search).get("q");
    if (box && q && document.body.classList.contains("page-search")) box.value = q;
  }

  document.addEventListener("DOMContentLoaded", initSearchBox);

  return { h, api, pageData, fmtTime, fmtDuration, fmtNum, vesselName, vesselLink, typeBadge,
    eventWhere, eventMeasures, eventTable, showRaw, openRawDialog, showError, TYPE_COLOURS, TYPE_TITLES };
})();
