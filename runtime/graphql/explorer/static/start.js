// Starts the vendored GraphiQL against this server's /graphql (no CDN, no other origin).
(function () {
  var fetcher = GraphiQL.createFetcher({ url: new URL("/graphql", window.location.href).toString() });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolbarTabs: "variables" }));
})();
