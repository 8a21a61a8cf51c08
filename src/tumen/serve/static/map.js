/* The map page: coastlines (GSHHS, served by /api/coast), watched ports, the tracks of the
 * highest-risk vessels (or of ?mmsi=), events by type, observations from outside AIS
 * (/api/observations), a time range and slider. Offline: no tiles. */
"use strict";
(() => {
  const { h, api, fmtTime, fmtDuration, typeBadge, vesselLink, eventWhere, eventMeasures, showRaw, TYPE_COLOURS, TYPE_TITLES } = TUMEN;
  const params = new URLSearchParams(window.location.search);
  const focus = params.get("mmsi") ? Number(params.get("mmsi")) : null;
  const focusEvent = params.get("event");

  const map = L.map("map", { zoomControl: true, attributionControl: true, worldCopyJump: false });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("coast: GSHHS (Wessel & Smith)");
  map.setView([42, 131.5], 6);
  const coastLayer = L.layerGroup().addTo(map);
  const portLayer = L.layerGroup().addTo(map);
  const trackLayer = L.layerGroup().addTo(map);
  const obsLayer = L.layerGroup().addTo(map);
  const OBS_COLOUR = "#b5179e"; // the report's observation colour (tumen.report.maps)
  const eventLayers = {};
  const summary = document.getElementById("summary");
  const since = document.getElementById("since");
  const until = document.getElementById("until");
  const slider = document.getElementById("slider");
  const sliderLabel = document.getElementById("slider-label");
  let allEvents = [];
  let allObservations = [];
  let names = {};
  let range = null; // [t0, t1] ms
  let coastKey = "";

  function toLocalInput(ms) { return new Date(ms).toISOString().slice(0, 16); }
  function fromInput(el) { return el.value ? el.value + ":00Z" : null; }

  // ---- layers per event type
  const layersBox = document.getElementById("layers");
  for (const type of Object.keys(TYPE_TITLES)) {
    eventLayers[type] = L.layerGroup().addTo(map);
    const box = h("input", { type: "checkbox", checked: true, id: `layer-${type}`, dataset: { type } });
    box.addEventListener("change", () => box.checked ? eventLayers[type].addTo(map) : map.removeLayer(eventLayers[type]));
    layersBox.appendChild(h("label", { class: "layer" }, box, h("span", { class: `swatch type-${type}` }), TYPE_TITLES[type]));
  }
  for (const [name, layer] of [["Observations", obsLayer], ["Tracks", trackLayer], ["Ports", portLayer], ["Coastline", coastLayer]]) {
    const box = h("input", { type: "checkbox", checked: true, id: `layer-${name.toLowerCase()}` });
    box.addEventListener("change", () => box.checked ? layer.addTo(map) : map.removeLayer(layer));
    layersBox.appendChild(h("label", { class: "layer" }, box, name));
  }

  // ---- coastline for the view (re-read when the view moves or zooms)
  async function loadCoast() {
    const b = map.getBounds().pad(0.5);
    const r = (x) => Math.round(x * 2) / 2;
    const w = Math.max(-180, r(b.getWest())), e = Math.min(180, r(b.getEast()));
    const s = Math.max(-89, r(b.getSouth())), n = Math.min(89, r(b.getNorth()));
    const key = `${w},${s},${e},${n}`;
    if (key === coastKey || e <= w) return;
    coastKey = key;
    const gj = await api("/api/coast", { bbox: key });
    if (key !== coastKey) return;
    coastLayer.clearLayers();
    L.geoJSON(gj, {
      interactive: false,
      style: (f) => f.properties.kind === "border"
        ? { color: "#8a7f6a", weight: 1, dashArray: "4 3", fill: false }
        : { color: "#9a8f78", weight: 0.8, fillColor: "#efebe2", fillOpacity: 1 },
    }).addTo(coastLayer);
  }
  map.on("moveend", () => { loadCoast().catch(() => {}); });

  // ---- ports
  async function loadPorts() {
    const gj = await api("/api/ports");
    for (const f of gj.features) {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties;
      const colour = p.country === "KP" ? "#b5172b" : p.country === "RU" ? "#1f4e9c" : "#333";
      L.circle([lat, lon], { radius: p.radius_km * 1000, color: colour, weight: 1, fillOpacity: 0.05, interactive: false }).addTo(portLayer);
      const m = L.circleMarker([lat, lon], { radius: 3, color: colour, fillOpacity: 1, className: "port" }).addTo(portLayer);
      m.on("click", () => summary.replaceChildren(h("h2", {}, p.name), h("p", {}, `${p.country} watched port, radius ${p.radius_km} km`),
        h("p", {}, h("a", { href: `/events?port=${encodeURIComponent(p.name)}` }, "events at this port"))));
    }
  }

  // ---- events
  function showEvent(ev) {
    const box = h("div", { class: "raw-box" });
    summary.replaceChildren(
      h("h2", {}, typeBadge(ev.type, ev.subtype)),
      h("p", {}, vesselLink(ev.mmsi, names), ev.other_mmsi ? [" met ", vesselLink(ev.other_mmsi, names)] : null),
      h("p", {}, `${fmtTime(ev.start)} → ${fmtTime(ev.end)} UTC (${fmtDuration(ev.start, ev.end)})`),
      h("p", {}, eventWhere(ev)),
      h("p", { class: "measures" }, eventMeasures(ev)),
      h("p", {}, h("button", { type: "button", class: "raw-button", on: { click: () => showRaw(ev.event_id, box) } }, "raw messages")),
      box);
  }

  /** The slider's time (ms), or null before the time range is known. */
  function sliderTime() { return range ? range[0] + (range[1] - range[0]) * Number(slider.value) / 1000 : null; }

  function drawEvents() {
    for (const layer of Object.values(eventLayers)) layer.clearLayers();
    const cursor = sliderTime();
    if (cursor !== null) sliderLabel.textContent = `up to ${fmtTime(new Date(cursor).toISOString())}`;
    for (const ev of allEvents) {
      if (ev.lat === null || ev.lat === undefined) continue;
      if (cursor !== null && Date.parse(ev.start) > cursor + 1000) continue;
      const layer = eventLayers[ev.type];
      if (!layer) continue;
      const e = ev.evidence || {};
      if (ev.type === "gap" && [e.start_lat, e.start_lon, e.end_lat, e.end_lon].every((x) => typeof x === "number")) {
        // the silence: last fix before → first fix after, dashed (the track itself breaks there)
        L.polyline([[e.start_lat, e.start_lon], [e.end_lat, e.end_lon]],
          { color: TYPE_COLOURS.gap, weight: 2, dashArray: "6 5", interactive: false, className: "gap-line" }).addTo(layer);
      }
      const m = L.circleMarker([ev.lat, ev.lon], {
        radius: ev.type === "encounter" ? 8 : 6, color: "#fff", weight: 1.5,
        fillColor: TYPE_COLOURS[ev.type] || "#444", fillOpacity: 0.95, className: `event ev-${ev.type}`,
      }).addTo(layer);
      m.on("click", () => showEvent(ev));
      const el = m.getElement();
      if (el) { el.dataset.eventId = ev.event_id; el.dataset.type = ev.type; }
    }
  }

  // ---- observations (tumen observe): every string is data, set as text
  function showObservation(o) {
    const seen = [o.seen_name ? `name ${o.seen_name}` : null, o.seen_imo ? `IMO ${o.seen_imo}` : null].filter(Boolean).join("; ");
    summary.replaceChildren(
      h("h2", {}, `Observation O${o.obs_id}`, " ", h("span", { class: "sub" }, `${o.kind} (${o.confidence})`)),
      h("p", {}, vesselLink(o.mmsi, names), ` given as ${o.vessel}`),
      seen ? h("p", {}, `identity seen: ${seen}`) : null,
      h("p", {}, `${fmtTime(o.ts)} UTC`),
      h("p", {}, o.port ? `${o.port}, ` : "", `${o.lat.toFixed(4)}, ${o.lon.toFixed(4)} ± ${o.uncertainty_km} km`),
      h("p", { class: "obs-source" }, "source: ", String(o.source || "")),
      o.note ? h("p", { class: "obs-note" }, String(o.note)) : null,
      h("ul", { class: "obs-corroboration" }, (o.corroboration || []).map((c) => h("li", { class: `corr corr-${c.outcome}` },
        h("strong", {}, String(c.outcome)), " ", String(c.explanation || "")))));
  }

  function drawObservations() {
    obsLayer.clearLayers();
    const cursor = sliderTime();
    for (const o of allObservations) {
      if (cursor !== null && Date.parse(o.ts) > cursor + 1000) continue;
      const m = L.circleMarker([o.lat, o.lon], {
        radius: 7, color: OBS_COLOUR, weight: 3, fillColor: "#fff", fillOpacity: 0.9, className: "observation",
      }).addTo(obsLayer);
      m.on("click", () => showObservation(o));
      const el = m.getElement();
      if (el) { el.dataset.obsId = String(o.obs_id); el.dataset.mmsi = String(o.mmsi); }
    }
  }

  async function loadObservations() {
    const q = { since: fromInput(since), until: fromInput(until), limit: 1000 };
    if (focus) q.mmsi = focus;
    allObservations = (await api("/api/observations", q)).observations;
  }

  // ---- tracks
  async function loadTracks(mmsis) {
    trackLayer.clearLayers();
    const bounds = L.latLngBounds([]);
    await Promise.all(mmsis.map(async (mmsi, i) => {
      const f = await api(`/api/vessels/${Number(mmsi)}/track`, { since: fromInput(since), until: fromInput(until) });
      if (!f.geometry) return;
      const line = L.geoJSON(f, { style: { color: i === 0 && focus ? "#1d3557" : "#3a5a80", weight: focus ? 2.5 : 1.8, opacity: 0.85, className: "track" } });
      line.on("click", () => summary.replaceChildren(
        h("h2", {}, vesselLink(mmsi, names)),
        h("p", {}, `${f.properties.n_positions} fixes, ${f.properties.parts.length} piece(s) between gaps`),
        h("p", {}, `${fmtTime(f.properties.start)} → ${fmtTime(f.properties.end)} UTC`),
        h("p", {}, `drawn with ${f.properties.n_points} points (simplified at ${f.properties.simplify_m} m)`),
        h("p", {}, h("a", { href: `/vessels/${Number(mmsi)}` }, "vessel page"))));
      line.addTo(trackLayer);
      line.eachLayer((l) => { const el = l.getElement && l.getElement(); if (el) el.dataset.mmsi = String(mmsi); });
      bounds.extend(line.getBounds());
    }));
    return bounds;
  }

  async function vesselsToShow() {
    if (focus) {
      // the focused vessel, and the vessel it met when the focused event is an encounter
      const out = [focus];
      if (focusEvent) {
        const ev = allEvents.find((x) => x.event_id === focusEvent);
        if (ev && ev.other_mmsi) out.push(ev.mmsi === focus ? ev.other_mmsi : ev.mmsi);
      }
      return out;
    }
    const n = Number(document.getElementById("vessel-count").value);
    const data = await api("/api/vessels", { min_score: 0.01, limit: n });
    for (const v of data.vessels) if (v.name) names[String(v.mmsi)] = v.name;
    return data.vessels.map((v) => v.mmsi);
  }

  async function loadEvents() {
    const q = { since: fromInput(since), until: fromInput(until), limit: 1000 };
    if (focus) q.mmsi = focus;
    const data = await api("/api/events", q);
    Object.assign(names, data.names);
    allEvents = data.events;
    return data;
  }

  async function refresh(fit) {
    await loadEvents();
    await loadObservations();
    const mmsis = await vesselsToShow();
    const bounds = await loadTracks(mmsis);
    for (const ev of allEvents) if (ev.lat !== null && ev.lat !== undefined) bounds.extend([ev.lat, ev.lon]);
    for (const o of allObservations) bounds.extend([o.lat, o.lon]);
    drawEvents();
    drawObservations();
    if (fit && bounds.isValid()) map.fitBounds(bounds.pad(0.1));
    await loadCoast();
    if (focusEvent) {
      const ev = allEvents.find((e) => e.event_id === focusEvent);
      if (ev) showEvent(ev);
    }
    document.body.dataset.ready = "1";
    if (window.performance && performance.mark) performance.mark("tumen-map-ready");
  }

  async function init() {
    const first = await api("/api/events", Object.assign({ limit: 1, sort: "start" }, focus ? { mmsi: focus } : {}));
    const last = await api("/api/events", Object.assign({ limit: 1, sort: "-end" }, focus ? { mmsi: focus } : {}));
    if (first.events.length) {
      range = [Date.parse(first.events[0].start), Date.parse(last.events[0].end)];
      since.value = toLocalInput(range[0]);
      until.value = toLocalInput(range[1] + 60000);
    }
    await loadPorts();
    await refresh(true);
  }

  let timer = null;
  function later(fn) { clearTimeout(timer); timer = setTimeout(() => fn().catch(() => {}), 250); }
  since.addEventListener("change", () => later(() => refresh(false)));
  until.addEventListener("change", () => later(() => refresh(false)));
  document.getElementById("vessel-count").addEventListener("change", () => later(() => refresh(true)));
  slider.addEventListener("input", drawEvents);
  slider.addEventListener("input", drawObservations);
  document.getElementById("map-filters").addEventListener("submit", (e) => e.preventDefault());
  init().catch((e) => TUMEN.showError(String(e.message || e)));
})();
