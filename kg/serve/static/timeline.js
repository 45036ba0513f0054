// The timeline of events: vis-timeline (vendored) over the items the page carries; a click opens the event.
(function () {
  "use strict";
  const items = JSON.parse(document.getElementById("timeline-items").textContent);
  const focus = JSON.parse(document.getElementById("timeline-focus").textContent);
  const container = document.getElementById("timeline");
  if (!items.length) {
    container.textContent = "No dated event.";
    return;
  }
  const timeline = new vis.Timeline(container, new vis.DataSet(items), {
    stack: true, zoomKey: "ctrlKey", margin: { item: 6 }, orientation: "top", selectable: true,
  });
  timeline.on("select", function (properties) {
    const item = items.find(function (i) { return i.id === properties.items[0]; });
    if (item) window.location.href = item.href;
  });
  if (focus !== null) {
    timeline.setSelection([focus]);
    timeline.focus(focus, { animation: false, zoom: false });  // keep the zoom that fits every event
  }
})();
