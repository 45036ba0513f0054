// The query page: YASGUI (editor and results) on this server's endpoint, the canned queries one
// click away (those about an entity take it from the name box or ?name=), IRIs under the base shown
// short and opening their page here, the first rows of a large result drawn at once with the whole
// answer one download away, and downloads in every result format.
(function () {
  "use strict";
  const site = JSON.parse(document.getElementById("site").textContent);
  const canned = JSON.parse(document.getElementById("canned-queries").textContent);
  const endpoint = new URL("/sparql", window.location.href).href;
  const base = site.base;
  const opening = canned.find(function (q) { return q.name === site.default; }) || canned[0];
  // Rows drawn in the table at most: drawing is the slow part of a large answer in the browser
  // (seconds for a few thousand rows); the rest is a download away.
  const DRAW_LIMIT = 1000;

  function attribute(text) {
    return text.replace(/&/g, "&amp;").replace(/'/g, "&#39;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  // IRIs under the base: a link to their page here, shown as the path (person/chad-g-carroll) rather
  // than a truncated IRI. Made as the table draws each cell: no pass over the page afterwards.
  const Table = Yasgui.Yasr.plugins.table;
  const uriLink = Table.prototype.getUriLinkFromBinding;
  Table.prototype.getUriLinkFromBinding = function (binding, prefixes) {
    if (!binding || typeof binding.value !== "string" || binding.value.indexOf(base) !== 0 || binding.value === base) {
      return uriLink.call(this, binding, prefixes);
    }
    const path = binding.value.slice(base.length);
    return "<a class='iri entity-link' href='/" + attribute(path) + "' title='" + attribute(binding.value) + "'>" +
      attribute(path) + "</a>";
  };
  // A large answer: the first DRAW_LIMIT rows in the table, and a note with "download all".
  const notice = document.getElementById("row-notice");
  const getRows = Table.prototype.getRows;
  Table.prototype.getRows = function () {
    const rows = getRows.call(this);
    if (rows.length <= DRAW_LIMIT) {
      notice.hidden = true;
      return rows;
    }
    notice.hidden = false;
    notice.textContent = "Showing the first " + DRAW_LIMIT.toLocaleString("en") + " of " +
      rows.length.toLocaleString("en") + " rows. Download all of them: ";
    ["csv", "tsv", "json"].forEach(function (format) {
      const a = document.createElement("a");
      a.dataset.format = format;
      a.className = "download-all";
      a.href = "#";
      a.textContent = format.toUpperCase();
      a.addEventListener("click", prepareDownload);
      notice.appendChild(a);
      notice.appendChild(document.createTextNode(" "));
    });
    return rows.slice(0, DRAW_LIMIT);
  };

  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: {
      endpoint: endpoint,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json,*/*;q=0.9",
      acceptHeaderGraph: "text/turtle,*/*;q=0.9",
    },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: "newskg-query-page",
    yasqe: {
      // only completions that need no other server: prefixes from the bundled list, variables
      autocompleters: ["prefixes", "variables"],
      value: opening ? opening.text : "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
    },
    yasr: { prefixes: site.prefixes || {} },
  });

  // Every tab queries this server, whatever an older visit left in the browser's storage.
  function pinEndpoint(tab) {
    if (tab && tab.getEndpoint() !== endpoint) tab.setEndpoint(endpoint);
  }
  Object.keys(yasgui._tabs).forEach(function (id) { pinEndpoint(yasgui.getTab(id)); });
  yasgui.on("tabAdd", function (instance, id) { pinEndpoint(instance.getTab(id)); });

  // A canned query about an entity names it in VALUES ?name: the name box (or ?name=) replaces it.
  const nameBox = document.getElementById("entity-name");
  function literal(text) {
    return '"' + text.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  }
  function withName(query) {
    const name = nameBox.value.trim();
    if (!query.parameter || !name) return query.text;
    const single = /VALUES\s*\?name\s*\{[^}]*\}/;
    if (single.test(query.text)) return query.text.replace(single, "VALUES ?name { " + literal(name) + " }");
    // VALUES (?x ?name) { (... "old name") }: the last string in the row is the name
    return query.text.replace(/(VALUES\s*\([^)]*\?name\s*\)\s*\{\s*\([^)]*?)"(?:[^"\\]|\\.)*"(\s*\)\s*\})/,
      function (all, before, after) { return before + literal(name) + after; });
  }
  function runCanned(name) {
    const query = canned.find(function (q) { return q.name === name; });
    if (!query) return;
    const tab = yasgui.getTab();
    pinEndpoint(tab);
    tab.setQuery(withName(query));
    tab.query();
  }
  document.querySelectorAll(".canned-query").forEach(function (button) {
    button.addEventListener("click", function () { runCanned(button.dataset.name); });
  });

  // Downloads: the current query, answered by the server in the chosen format.
  const downloads = document.getElementById("downloads");
  function queryForm() {
    const yasqe = yasgui.getTab().getYasqe();
    const kind = yasqe.getQueryType ? yasqe.getQueryType() : "SELECT";
    return (kind === "CONSTRUCT" || kind === "DESCRIBE") ? "graph" : "select";
  }
  function refreshDownloads() {
    const graph = queryForm() === "graph";
    downloads.querySelector(".for-select").hidden = graph;
    downloads.querySelector(".for-graph").hidden = !graph;
  }
  function prepareDownload(event) {
    const a = event.currentTarget;
    const query = yasgui.getTab().getQuery();
    const ext = { json: "json", xml: "xml", csv: "csv", tsv: "tsv", turtle: "ttl", ntriples: "nt",
      nquads: "nq", rdfxml: "rdf", jsonld: "jsonld" }[a.dataset.format];
    a.href = "/sparql?format=" + a.dataset.format + "&query=" + encodeURIComponent(query);
    a.setAttribute("download", (queryForm() === "graph" ? "graph." : "results.") + ext);
  }
  downloads.querySelectorAll("a[data-format]").forEach(function (a) { a.addEventListener("click", prepareDownload); });
  // Tables start in the simple view (values, not "7"^^xsd:integer); the toggle is still there.
  function simpleTables(tab) {
    const yasr = tab && tab.getYasr && tab.getYasr();
    const table = yasr && yasr.config.plugins && yasr.config.plugins.table;
    if (table && !table.dynamicConfig) table.dynamicConfig = { compact: true, pageSize: 50 };
  }
  yasgui.on("query", function (instance, tab) { simpleTables(tab); refreshDownloads(); });
  yasgui.on("tabSelect", function () { setTimeout(refreshDownloads, 0); });
  refreshDownloads();

  // Open on something that shows rows: ?canned=NAME[&name=...] runs that query; otherwise the
  // opening query runs when the editor holds it (a query left from an earlier visit waits for a click).
  const asked = new URLSearchParams(window.location.search);
  if (asked.get("name")) nameBox.value = asked.get("name");
  if (asked.get("canned")) {
    runCanned(asked.get("canned"));
  } else if (opening && yasgui.getTab().getQuery().trim() === opening.text.trim()) {
    const tab = yasgui.getTab();
    pinEndpoint(tab);
    tab.query();
  }
})();
