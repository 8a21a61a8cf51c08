/* tumen report: zoomable maps from the data embedded in each dossier (Leaflet, embedded above).
 *
 * Names in the data come over the air from anyone: every text reaches the page as a text
 * node (textContent), never as HTML. The data is JSON in <script type="application/json">,
 * read with JSON.parse(textContent). This script is allowed by its SHA-256 in the page's
 * Content-Security-Policy, which allows no other script and no inline style attribute. */
(function () {
  "use strict";
  function text(value, className) {
    var el = document.createElement("span");
    if (className) { el.className = className; }
    el.textContent = String(value);
    return el;
  }
  document.querySelectorAll(".lmap").forEach(function (el) {
    var holder = document.getElementById(el.id.replace("lmap-", "lmap-data-"));
    if (!holder) { return; }
    var data = JSON.parse(holder.textContent);
    var c = data.colours;
    var map = L.map(el, { zoomSnap: 0.25 });
    el.style.background = c.sea;
    map.createPane("coast").style.zIndex = 150; /* under the tiles: shows when they do not load */
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Leaflet; coastline GSHHS");
    if (data.tiles) {
      L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: 17,
        attribution: "&copy; OpenStreetMap contributors",
      }).addTo(map);
    }
    data.land.forEach(function (ring) {
      L.polygon(ring, { pane: "coast", color: c.coast, weight: 0.6, fillColor: c.land, fillOpacity: 1 }).addTo(map);
    });
    data.borders.forEach(function (line) {
      L.polyline(line, { pane: "coast", color: "#8c8c8c", weight: 0.8, dashArray: "4 3" }).addTo(map);
    });
    data.partners.forEach(function (line) {
      L.polyline(line, { color: "#6c757d", weight: 1.5, opacity: 0.8 }).addTo(map);
    });
    data.track.forEach(function (line) {
      L.polyline(line, { color: c.track, weight: 2, opacity: 0.9 }).addTo(map);
    });
    data.gaps.forEach(function (g) {
      L.polyline([g.from, g.to], { color: c.gap, weight: 2.5, dashArray: "8 5" })
        .bindPopup(text(g.popup, "popup"))
        .bindTooltip(text(g.label), { permanent: true, direction: "center", className: "num gapnum" })
        .addTo(map);
    });
    data.ports.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 3, color: "white", weight: 1, fillColor: p.colour, fillOpacity: 1 })
        .bindTooltip(text(p.name)).addTo(map);
    });
    data.events.forEach(function (e) {
      L.circleMarker([e.lat, e.lon], { radius: 9, color: "white", weight: 1.5, fillColor: e.colour, fillOpacity: 1 })
        .bindPopup(text(e.popup, "popup"))
        .bindTooltip(text(e.label), { permanent: true, direction: "center", className: "num" })
        .addTo(map);
    });
    map.fitBounds(data.bounds);
  });
})();
