/* Vessels ranked by risk points, with their signals. */
"use strict";
(() => {
  const { h, api, fmtNum } = TUMEN;
  const form = document.getElementById("vessel-filters");
  const params = new URLSearchParams(window.location.search);
  for (const name of ["q", "listed", "min_score"]) {
    const el = form.elements.namedItem(name);
    if (el && params.get(name) !== null) el.value = params.get(name);
  }
  async function load() {
    const q = {};
    for (const name of ["q", "listed", "min_score"]) {
      const v = form.elements.namedItem(name).value.trim();
      if (v) q[name] = v;
    }
    const data = await api("/api/vessels", Object.assign({ limit: 200 }, q));
    document.getElementById("count").textContent = data.ranked
      ? `${data.total} vessels` : "Not ranked yet: run tumen risk on this store.";
    const rows = data.vessels.map((v) => h("tr", {},
      h("td", { class: "num" }, String(v.rank)),
      h("td", {}, h("a", { href: `/vessels/${Number(v.mmsi)}` }, v.name || String(v.mmsi))),
      h("td", {}, String(v.mmsi)), h("td", {}, v.imo ? String(v.imo) : "–"), h("td", {}, v.flag || "–"),
      h("td", { class: "num" }, fmtNum(v.score, 1)),
      h("td", {}, v.listed ? h("span", { class: "badge listed" }, "listed") : ""),
      h("td", {}, v.signals.map((s) => `${s.title} ${fmtNum(s.points, 1)}`).join("; "))));
    document.getElementById("vessels").replaceChildren(h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["rank", "name", "MMSI", "IMO", "flag", "points", "", "signals"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows))));
    window.history.replaceState(null, "", `/vessels?${new URLSearchParams(q).toString()}`);
    document.body.dataset.ready = "1";
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load().catch(() => {}); });
  load().catch(() => {});
})();
