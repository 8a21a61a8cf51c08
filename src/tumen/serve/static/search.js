/* Search results: vessels heard (fuzzy on names) and sanctioned parties (screening). */
"use strict";
(() => {
  const { h, api, fmtNum, fmtTime } = TUMEN;
  const q = new URLSearchParams(window.location.search).get("q") || "";
  async function load() {
    if (!q.trim()) {
      document.getElementById("search-title").textContent = "Search";
      document.body.dataset.ready = "1";
      return;
    }
    document.getElementById("search-title").textContent = `Search: ${q}`;
    const data = await api("/api/search", { q });
    const vs = data.vessels.map((v) => h("li", { class: "result" },
      h("a", { href: `/vessels/${Number(v.mmsi)}`, class: "vessel-link" }, v.name || `MMSI ${v.mmsi}`),
      h("small", {}, ` MMSI ${v.mmsi}${v.imo ? " · IMO " + v.imo : ""}${v.callsign ? " · " + v.callsign : ""} · matched ${v.matched} ${fmtNum(v.score, 2)}`
        + (v.risk_rank ? ` · risk rank ${v.risk_rank} (${fmtNum(v.risk_score, 1)} points)` : "")
        + (v.last_seen ? ` · last heard ${fmtTime(v.last_seen)}` : ""))));
    document.getElementById("found-vessels").replaceChildren(vs.length ? h("ul", { class: "results" }, vs) : h("p", { class: "hint" }, "No vessel heard under a similar name or number."));
    const ps = data.parties.map((p) => h("li", { class: `result ${p.match ? "is-match" : ""}` },
      h("strong", {}, p.caption || p.entity_id), h("small", {}, ` ${p.schema} · score ${fmtNum(p.score, 2)}${p.match ? " · match" : ""} · ${(p.programs || []).join(", ")}`),
      h("ul", { class: "features" }, (p.explanation || []).map((e) => h("li", {}, e)))));
    document.getElementById("found-parties").replaceChildren(ps.length ? h("ul", { class: "results" }, ps) : h("p", { class: "hint" }, "No listed party resembles this."));
    document.body.dataset.ready = "1";
  }
  load().catch(() => {});
})();
