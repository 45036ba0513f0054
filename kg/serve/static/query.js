// The query page: YASGUI (editor and results) on this server's endpoint, the canned queries one
// click away, links to entities kept on this server, and downloads in every result format.
(function () {
  "use strict";
  const site = JSON.parse(document.getElementById("site").textContent);
  const canned = JSON.parse(document.getElementById("canned-queries").textContent);
  const endpoint = new URL("/sparql", window.location.href).href;
  const base = site.base;

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
      value: canned.length ? canned[0].text : "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
    },
    yasr: { prefixes: site.prefixes || {} },
  });

  // Every tab queries this server, whatever an older visit left in the browser's storage.
  function pinEndpoint(tab) {
    if (tab && tab.getEndpoint() !== endpoint) tab.setEndpoint(endpoint);
  }
  Object.keys(yasgui._tabs).forEach(function (id) { pinEndpoint(yasgui.getTab(id)); });
  yasgui.on("tabAdd", function (instance, id) { pinEndpoint(instance.getTab(id)); });

  // Entity IRIs in the results open their page on this server, in this window.
  function localise(root) {
    root.querySelectorAll('a[href^="' + base + '"]').forEach(function (a) {
      a.setAttribute("href", "/" + a.getAttribute("href").slice(base.length));
      a.removeAttribute("target");
      a.classList.add("entity-link");
    });
  }
  new MutationObserver(function () { localise(document.getElementById("yasgui")); })
    .observe(document.getElementById("yasgui"), { childList: true, subtree: true });

  // The canned queries: one click puts the query in the editor and runs it.
  document.querySelectorAll(".canned-query").forEach(function (button) {
    button.addEventListener("click", function () {
      const query = canned.find(function (q) { return q.name === button.dataset.name; });
      const tab = yasgui.getTab();
      pinEndpoint(tab);
      tab.setQuery(query.text);
      tab.query();
    });
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
  downloads.querySelectorAll("a[data-format]").forEach(function (a) {
    a.addEventListener("click", function () {
      const query = yasgui.getTab().getQuery();
      const ext = { json: "json", xml: "xml", csv: "csv", tsv: "tsv", turtle: "ttl", ntriples: "nt",
        nquads: "nq", rdfxml: "rdf", jsonld: "jsonld" }[a.dataset.format];
      a.href = "/sparql?format=" + a.dataset.format + "&query=" + encodeURIComponent(query);
      a.setAttribute("download", (queryForm() === "graph" ? "graph." : "results.") + ext);
    });
  });
  // Tables start in the simple view (values, not "7"^^xsd:integer); the toggle is still there.
  function simpleTables(tab) {
    const yasr = tab && tab.getYasr && tab.getYasr();
    const table = yasr && yasr.config.plugins && yasr.config.plugins.table;
    if (table && !table.dynamicConfig) table.dynamicConfig = { compact: true, pageSize: 50 };
  }
  yasgui.on("query", function (instance, tab) { simpleTables(tab); refreshDownloads(); });
  yasgui.on("tabSelect", function () { setTimeout(refreshDownloads, 0); });
  refreshDownloads();
})();
