/* Alerts written by tumen watch, then new ones as they arrive (server-sent events). */
"use strict";
(() => {
  const { h, api, fmtTime, vesselLink } = TUMEN;
  const list = h("ul", { class: "alerts" });
  function add(a) {
    const b = a.body || {};
    list.prepend(h("li", { class: "alert", dataset: { seq: String(a.seq) } },
      h("strong", {}, String(a.rule || "alert")), a.is_update ? " (update) " : " ",
      fmtTime(a.raised_at), " · ", a.mmsi ? vesselLink(a.mmsi, {}) : "",
      b.summary || b.title ? [" · ", String(b.summary || b.title)] : null));
  }
  async function init() {
    const data = await api("/api/alerts", { limit: 200 });
    document.getElementById("alerts").replaceChildren(list);
    data.alerts.forEach(add);
    if (!data.alerts.length) list.appendChild(h("li", { class: "hint" }, "No alerts yet."));
    const src = new EventSource(`/api/alerts/stream?after_seq=${Number(data.last_seq)}`);
    src.addEventListener("alert", (e) => add(JSON.parse(e.data)));
    document.body.dataset.ready = "1";
  }
  init().catch(() => {});
})();
