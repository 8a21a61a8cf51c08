/* The events list: filters and sorting kept in the URL, pages of 100, links to vessels and the map. */
"use strict";
(() => {
  const { h, api, eventTable, TYPE_TITLES } = TUMEN;
  const form = document.getElementById("event-filters");
  const typeSel = document.getElementById("f-type");
  for (const [k, t] of Object.entries(TYPE_TITLES)) typeSel.appendChild(h("option", { value: k }, t));
  const params = new URLSearchParams(window.location.search);
  for (const name of ["type", "mmsi", "port", "since", "until", "sort"]) {
    const el = form.elements.namedItem(name);
    if (el && params.get(name)) el.value = params.get(name);
  }
  let offset = Number(params.get("offset") || 0);
  const limit = 100;

  function query() {
    const q = {};
    for (const name of ["type", "mmsi", "port", "since", "until", "sort"]) {
      const v = form.elements.namedItem(name).value.trim();
      if (v) q[name] = v;
    }
    return q;
  }

  async function load() {
    const q = query();
    const data = await api("/api/events", Object.assign({ limit, offset }, q));
    document.getElementById("count").textContent =
      `${data.total} events${data.total > limit ? `; ${offset + 1}–${Math.min(offset + limit, data.total)} shown` : ""}`;
    document.getElementById("events").replaceChildren(data.events.length
      ? eventTable(data.events, data.names) : h("p", { class: "hint" }, "No events match."));
    document.getElementById("prev").disabled = offset <= 0;
    document.getElementById("next").disabled = offset + limit >= data.total;
    const exp = new URLSearchParams(Object.assign({ format: "csv" }, q));
    exp.delete("sort");
    document.getElementById("export-link").setAttribute("href", `/api/export?${exp.toString()}`);
    const url = new URLSearchParams(Object.assign({}, q, offset ? { offset } : {}));
    window.history.replaceState(null, "", `/events${url.toString() ? "?" + url.toString() : ""}`);
    document.body.dataset.ready = "1";
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load().catch(() => {}); });
  document.getElementById("prev").addEventListener("click", () => { offset = Math.max(0, offset - limit); load().catch(() => {}); });
  document.getElementById("next").addEventListener("click", () => { offset += limit; load().catch(() => {}); });
  load().catch(() => {});
})();
