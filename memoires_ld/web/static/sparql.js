// The SPARQL editor: YASGUI (vendored in yasgui/) set up for this endpoint only.
// Nothing here or in YASGUI may reach another site: the completers that would ask Linked Open
// Vocabularies or carry prefix.cc's list are replaced by completers over our own terms.
(function () {
  "use strict";
  const Yasgui = window.Yasgui;
  const config = JSON.parse(document.getElementById("sparql-config").textContent);
  const endpoint = config.endpoint;

  const prefixes = Object.entries(config.prefixes).map(([p, iri]) => `${p}: <${iri}>`).sort();
  const local = (name, list) => ({ name, bulk: true, persistenceId: undefined, get: () => Promise.resolve(list) });
  Yasgui.Yasqe.forkAutocompleter("prefixes", local("local-prefixes", prefixes), false);
  Yasgui.Yasqe.forkAutocompleter("property", local("local-properties", config.properties), false);
  Yasgui.Yasqe.forkAutocompleter("class", local("local-classes", config.classes), false);
  Yasgui.Yasqe.defaults.autocompleters = ["variables", "local-prefixes", "local-properties", "local-classes"];

  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint, method: "POST" },
    endpointCatalogueOptions: { getData: () => [{ endpoint }], keys: [] },
    copyEndpointOnNewTab: false,
    populateFromUrl: false,
    autofocus: false,
    persistenceId: "memoires-ld-sparql",
    yasqe: { value: config.defaultQuery, collapsePrefixesOnLoad: true },
  });
  // Tabs the browser kept from another address of the site talk to this endpoint.
  Object.values(yasgui._tabs || {}).forEach((tab) => tab.setEndpoint && tab.setEndpoint(endpoint));

  if (config.query) {
    const tab = yasgui.addTab(true, {
      name: config.tabName || "Requête",
      yasqe: { value: config.query },
      requestConfig: { endpoint, method: "POST" },
    });
    tab.show();
    tab.getYasqe().setValue(config.query);
    tab.query();
  }
  window.memoiresSparql = yasgui;
})();
