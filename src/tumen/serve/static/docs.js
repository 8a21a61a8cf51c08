/* The API page: Swagger UI from the bundled copy when present, else a plain list of endpoints. */
"use strict";
(() => {
  const { h, api } = TUMEN;
  if (window.SwaggerUIBundle) {
    window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: false });
    document.body.dataset.ready = "1";
    return;
  }
  api("/openapi.json").then((spec) => {
    const items = [];
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        items.push(h("li", {}, h("code", {}, `${method.toUpperCase()} ${path}`), " — ", op.summary || "",
          h("ul", {}, (op.parameters || []).map((p) => h("li", {}, h("code", {}, p.name), `: ${p.description || ""}`)))));
      }
    }
    document.getElementById("endpoints").replaceChildren(h("ul", {}, items));
    document.body.dataset.ready = "1";
  });
})();
