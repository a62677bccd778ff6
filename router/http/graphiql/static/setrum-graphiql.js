// Mounts GraphiQL against this router's own endpoint (no CDN, no inline script, so the page
// works offline and under a strict Content-Security-Policy). Written for Setrum.
(function () {
  "use strict";
  var container = document.getElementById("graphiql");
  var endpoint = container.getAttribute("data-endpoint") || "/graphql";
  var fetcher = GraphiQL.createFetcher({
    url: new URL(endpoint, window.location.href).toString(),
    // multipart/mixed with deferSpec: @defer results arrive and show part by part
    // (docs/router.md §10 @defer and incremental delivery).
    headers: { accept: "application/graphql-response+json, application/json, multipart/mixed;deferSpec=20220824" },
  });
  var root = ReactDOM.createRoot(container);
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    })
  );
})();
