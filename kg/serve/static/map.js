// The map of places: Leaflet (vendored) with the user's tile server, or the points alone on a plain
// grid when none is configured, so the page never asks another server for anything unless told to.
(function () {
  "use strict";
  const points = JSON.parse(document.getElementById("map-points").textContent);
  const tiles = JSON.parse(document.getElementById("map-tiles").textContent);
  const map = L.map("map", { worldCopyJump: true }).setView([20, 0], 2);
  if (tiles && tiles.url) {
    L.tileLayer(tiles.url, { attribution: tiles.attribution || "", maxZoom: 18 }).addTo(map);
  } else {
    // a graticule every 30 degrees stands in for the tiles
    for (let lat = -60; lat <= 60; lat += 30) L.polyline([[lat, -180], [lat, 180]], { color: "#ccd", weight: 1 }).addTo(map);
    for (let lon = -180; lon <= 180; lon += 30) L.polyline([[-85, lon], [85, lon]], { color: "#ccd", weight: 1 }).addTo(map);
  }
  const most = Math.max(1, ...points.map(function (p) { return p.articles; }));
  const markers = points.map(function (p) {
    const marker = L.circleMarker([p.lat, p.lon], {
      radius: 5 + 10 * Math.sqrt(p.articles / most), color: "#2b6a39", fillColor: "#3f8f4e", fillOpacity: 0.7, weight: 1,
      className: "place-marker",
    });
    const link = document.createElement("a");
    link.href = p.href;
    link.textContent = p.label;
    const box = document.createElement("div");
    box.appendChild(link);
    box.appendChild(document.createTextNode(" · " + p.articles + " article(s)"));
    marker.bindPopup(box);
    marker.bindTooltip(p.label);
    return marker.addTo(map);
  });
  if (markers.length) map.fitBounds(L.featureGroup(markers).getBounds().pad(0.3), { maxZoom: 6 });
})();
