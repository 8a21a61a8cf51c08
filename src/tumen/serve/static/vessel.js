/* The vessel page: identity history, risk explanation, matches with ownership paths,
 * track, timeline (the report's), events with their raw messages. */
"use strict";
(() => {
  const { h, api, pageData, fmtTime, fmtNum, eventTable, TYPE_COLOURS, typeBadge, eventWhere, vesselLink } = TUMEN;
  const mmsi = Number(pageData().mmsi);

  function table(headers, rows, cls) {
    return h("div", { class: "table-wrap" }, h("table", { class: cls || "" },
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)));
  }

  function renderRisk(v) {
    const box = document.getElementById("risk");
    if (!v.risk) { box.replaceChildren(h("p", { class: "hint" }, "Not ranked: run tumen risk on this store.")); return; }
    const rows = v.risk.signals.map((s) => h("tr", { dataset: { signal: s.signal } },
      h("td", {}, s.title || s.signal),
      h("td", { class: "num" }, fmtNum(s.points, 1)),
      h("td", { class: "num" }, String(s.count ?? "")),
      h("td", {}, (s.notes || []).slice(0, 4).join("; "))));
    box.replaceChildren(
      h("p", { class: "score" }, h("strong", { id: "risk-score" }, fmtNum(v.risk.score, 1)), " risk points · rank ", String(v.risk.rank)),
      rows.length ? table(["signal", "points", "times", "why"], rows, "risk") : h("p", {}, "No risk signals."));
  }

  function renderIdentity(v) {
    const rows = v.identity_history.map((r) => h("tr", {},
      h("td", {}, r.name || "–"), h("td", {}, r.imo ? String(r.imo) : "–"), h("td", {}, r.callsign || "–"),
      h("td", {}, r.flag || "–"), h("td", { class: "nowrap" }, fmtTime(r.first_seen)), h("td", { class: "nowrap" }, fmtTime(r.last_seen)),
      h("td", { class: "num" }, String(r.reports))));
    document.getElementById("identity").replaceChildren(rows.length
      ? table(["name", "IMO", "call sign", "flag", "first seen", "last seen", "reports"], rows, "identity")
      : h("p", { class: "hint" }, "No static reports (name, IMO) heard."));
  }

  function pathView(path) {
    if (!Array.isArray(path)) return h("code", {}, JSON.stringify(path));
    return h("ol", { class: "path" }, path.map((edge) => h("li", {},
      h("code", {}, String(edge.from ?? edge.source_id ?? "")), " → ", h("strong", {}, String(edge.role ?? "linked")), " → ",
      h("code", {}, String(edge.to ?? edge.target_id ?? "")),
      edge.source ? h("small", {}, " (", sourceText(edge.source), ")") : null)));
  }

  /** Where a link is stated: the list's own words when it gives them, else its reference. */
  function sourceText(src) {
    if (typeof src === "string") return src;
    if (src && typeof src === "object") {
      const parts = [src.text, src.list, src.ref].filter((x) => typeof x === "string" && x);
      if (parts.length) return parts.join(" · ");
    }
    return JSON.stringify(src);
  }

  function renderMatches(v) {
    const box = document.getElementById("matches");
    if (!v.matches.length) { box.replaceChildren(h("p", { class: "hint" }, "No screening results for this vessel.")); return; }
    box.replaceChildren(...v.matches.map((m) => h("div", { class: `match ${m.match ? "is-match" : "near-miss"}` },
      h("h3", {}, m.caption || m.entity_id, " ", h("small", {}, `${m.schema || ""} · ${m.role} · score ${fmtNum(m.score, 2)}${m.match ? "" : " (below threshold)"}`)),
      h("p", {}, "programs: ", (Array.isArray(m.programs) ? m.programs : []).join(", ") || "–",
        " · lists: ", (Array.isArray(m.datasets) ? m.datasets : []).join(", ") || "–"),
      m.designation && Array.isArray(m.designation) && m.designation.length
        ? h("ul", { class: "designations" }, m.designation.map((d) => h("li", {},
          [d.authority, d.program, d.listing_date, d.reference].filter(Boolean).join(" · ")))) : null,
      m.features ? h("ul", { class: "features" }, Object.entries(m.features).map(([k, f]) => h("li", {},
        h("code", {}, k), ": ", typeof f === "object" && f !== null && !Array.isArray(f) ? (f.detail ?? JSON.stringify(f)) : JSON.stringify(f)))) : null,
      m.path ? h("div", { class: "ownership" }, h("h4", {}, "Ownership path"), pathView(m.path)) : null)));
  }

  /** Observations from outside AIS (tumen observe): every string is data, set as text. */
  function renderObservations(v) {
    const box = document.getElementById("observations");
    const obs = v.observations || [];
    if (!obs.length) { box.replaceChildren(h("p", { class: "hint" }, "No observations: add them with tumen observe add.")); return; }
    const rows = obs.map((o) => h("tr", { dataset: { obsId: String(o.obs_id) }, class: "observation" },
      h("td", {}, `O${o.obs_id}`),
      h("td", { class: "nowrap" }, fmtTime(o.ts)),
      h("td", {}, o.port || `${fmtNum(o.lat, 4)}, ${fmtNum(o.lon, 4)}`),
      h("td", {}, `${o.kind} (${o.confidence})`),
      h("td", {}, String(o.source || ""), o.note ? h("div", { class: "note" }, String(o.note)) : null),
      h("td", {}, (o.corroboration || []).map((c) => h("div", { class: `corr corr-${c.outcome}` },
        h("strong", {}, String(c.outcome)), " ", String(c.explanation || ""))))));
    box.replaceChildren(table(["#", "when (UTC)", "where", "kind", "source", "what it shows"], rows, "observations"));
  }

  function renderMap(v) {
    const map = L.map("vessel-map", { attributionControl: false });
    map.setView([42, 131.5], 6);
    const layer = L.layerGroup().addTo(map);
    api(`/api/vessels/${mmsi}/track`).then(async (f) => {
      const bounds = L.latLngBounds([]);
      if (f.geometry) {
        const line = L.geoJSON(f, { style: { color: "#1d3557", weight: 2, className: "track" } }).addTo(layer);
        bounds.extend(line.getBounds());
      }
      v.events.forEach((ev) => {
        if (ev.lat === null || ev.lat === undefined) return;
        L.circleMarker([ev.lat, ev.lon], { radius: 6, color: "#fff", weight: 1.5, fillColor: TYPE_COLOURS[ev.type] || "#444", fillOpacity: 0.95, className: `event ev-${ev.type}` })
          .addTo(layer).on("click", () => TUMEN.openRawDialog(ev.event_id));
        bounds.extend([ev.lat, ev.lon]);
      });
      if (bounds.isValid()) map.fitBounds(bounds.pad(0.15));
      const b = map.getBounds().pad(0.5);
      const r = (x) => Math.round(x * 2) / 2;
      const gj = await api("/api/coast", { bbox: `${r(b.getWest())},${Math.max(-89, r(b.getSouth()))},${r(b.getEast())},${Math.min(89, r(b.getNorth()))}` });
      L.geoJSON(gj, { interactive: false, style: (g) => g.properties.kind === "border"
        ? { color: "#8a7f6a", weight: 1, dashArray: "4 3", fill: false }
        : { color: "#9a8f78", weight: 0.8, fillColor: "#efebe2", fillOpacity: 1 } }).addTo(map).bringToBack();
    }).catch(() => {});
  }

  async function init() {
    const v = await api(`/api/vessels/${mmsi}`);
    const id = v.identity;
    const title = id.name ? `${id.name}` : `MMSI ${mmsi}`;
    document.getElementById("vessel-title").textContent = title;
    document.title = `${title} · tumen`;
    const sub = [`MMSI ${mmsi}`, id.imo ? `IMO ${id.imo}` : null, id.callsign ? `call sign ${id.callsign}` : null,
      id.flag ? `flag ${id.flag}` : null, id.mid && id.mid.country ? `MID ${id.mid.code} (${id.mid.country})` : null,
      id.ship_type_name, `${v.positions.count} positions ${fmtTime(v.positions.first)} → ${fmtTime(v.positions.last)} UTC`];
    document.getElementById("vessel-sub").textContent = sub.filter(Boolean).join(" · ");
    document.getElementById("dossier-html").setAttribute("href", `/vessels/${mmsi}/dossier.html`);
    document.getElementById("dossier-pdf").setAttribute("href", `/vessels/${mmsi}/dossier.pdf`);
    document.getElementById("on-map").setAttribute("href", `/map?mmsi=${mmsi}`);
    document.getElementById("as-json").setAttribute("href", `/api/vessels/${mmsi}`);
    renderRisk(v);
    renderIdentity(v);
    renderMatches(v);
    renderObservations(v);
    document.getElementById("events").replaceChildren(v.events.length
      ? eventTable(v.events, v.names, { numbered: true }) : h("p", { class: "hint" }, "No events."));
    const img = document.getElementById("timeline");
    if (v.events.length || v.positions.count) img.setAttribute("src", `/vessels/${mmsi}/timeline.svg`);
    renderMap(v);
    document.body.dataset.ready = "1";
  }
  init().catch((e) => TUMEN.showError(String(e.message || e)));
})();
