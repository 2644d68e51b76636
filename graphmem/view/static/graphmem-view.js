/* graphmem graph view: draws the embedded graph with Cytoscape and lists a node's facts.
 * Everything shown comes from the JSON block #graphmem-data; text is inserted with
 * textContent only, so nothing in the memory can inject markup or script. */
(function () {
  "use strict";
  var status = window.graphmemView;
  var data = JSON.parse(document.getElementById("graphmem-data").textContent);
  var panel = document.getElementById("panel");
  var byNode = {};
  var names = {};

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function interval(edge) {
    var from = edge.valid_at || "?";
    if (edge.status === "superseded") { return from + " \u2192 " + (edge.invalid_at || "?"); }
    return edge.valid_at ? "since " + edge.valid_at : "";
  }

  data.nodes.forEach(function (n) { names[n.id] = n.name; byNode[n.id] = []; });
  data.edges.forEach(function (e) {
    if (byNode[e.source]) { byNode[e.source].push(e); }
    if (byNode[e.target] && e.target !== e.source) { byNode[e.target].push(e); }
  });

  function showNode(id) {
    var node = data.nodes.filter(function (n) { return n.id === id; })[0];
    panel.replaceChildren();
    if (!node) { panel.appendChild(el("p", "hint", "Unknown entity.")); return; }
    panel.appendChild(el("h2", null, node.name));
    panel.appendChild(el("p", "type", node.type + (node.aliases.length ? " \u00b7 also " + node.aliases.join(", ") : "")));
    if (node.summary) { panel.appendChild(el("p", "summary", node.summary)); }
    var facts = byNode[id].slice().sort(function (a, b) {
      if (a.status !== b.status) { return a.status === "current" ? -1 : 1; }
      return (b.valid_at || "").localeCompare(a.valid_at || "");
    });
    panel.appendChild(el("h3", null, facts.length + (facts.length === 1 ? " fact" : " facts")));
    var list = el("ul", "facts");
    facts.forEach(function (edge) {
      var item = el("li", "fact " + edge.status);
      item.appendChild(el("div", "sentence", edge.fact));
      var meta = names[edge.source] + " \u2014 " + edge.predicate + " \u2192 " + names[edge.target];
      item.appendChild(el("div", "meta", meta));
      var when = interval(edge);
      var state = edge.status === "superseded" ? "superseded" + (edge.reason ? " (" + edge.reason + ")" : "") : "current";
      item.appendChild(el("div", "when", state + (when ? " \u00b7 " + when : "")));
      var sources = el("ul", "provenance");
      edge.episodes.forEach(function (episodeId) {
        var episode = data.episodes[episodeId];
        if (!episode) { return; }
        var who = episode.name || episode.role;
        var source = el("li", "source");
        source.appendChild(el("span", "said", who + ", " + episode.said_at + ": "));
        source.appendChild(el("q", null, episode.text));
        sources.appendChild(source);
      });
      if (sources.childNodes.length) { item.appendChild(sources); }
      list.appendChild(item);
    });
    panel.appendChild(list);
  }

  var elements = [];
  data.nodes.forEach(function (n) {
    elements.push({ group: "nodes", data: { id: n.id, label: n.name, type: n.type } });
  });
  data.edges.forEach(function (e) {
    var label = e.predicate + (e.status === "superseded" ? " (" + interval(e) + ")" : "");
    elements.push({ group: "edges", data: { id: e.id, source: e.source, target: e.target, label: label }, classes: e.status });
  });

  var cy = cytoscape({
    container: document.getElementById("graph"),
    elements: elements,
    minZoom: 0.05,
    maxZoom: 4,
    style: [
      { selector: "node", style: {
        "label": "data(label)", "background-color": "#3b6fb6", "color": "#1d2733",
        "font-size": 12, "text-valign": "bottom", "text-margin-y": 4, "width": 22, "height": 22 } },
      { selector: "node:selected", style: { "background-color": "#e0a526", "border-width": 2, "border-color": "#8a5d00" } },
      { selector: "edge", style: {
        "label": "data(label)", "curve-style": "bezier", "target-arrow-shape": "triangle",
        "width": 2, "line-color": "#7c8a99", "target-arrow-color": "#7c8a99", "font-size": 10,
        "color": "#44515f", "text-rotation": "autorotate", "text-background-color": "#ffffff",
        "text-background-opacity": 0.8, "text-background-padding": 1 } },
      { selector: "edge.superseded", style: {
        "line-style": "dashed", "line-dash-pattern": [6, 4], "line-color": "#98a4b0",
        "target-arrow-color": "#98a4b0", "color": "#7c8a99" } }
    ],
    layout: { name: data.nodes.length > 400 ? "grid" : "cose", animate: false, randomize: false, nodeDimensionsIncludeLabels: true }
  });
  cy.on("tap", "node", function (event) { showNode(event.target.id()); });

  status.nodeCount = cy.nodes().length;
  status.edgeCount = cy.edges().length;
  status.supersededCount = cy.edges(".superseded").length;
  status.select = function (id) { cy.$id(id).select(); showNode(id); return panel.innerText; };
  status.position = function (id) {
    var at = cy.$id(id).renderedPosition();
    var box = cy.container().getBoundingClientRect();
    return { x: box.left + at.x, y: box.top + at.y };
  };
  status.panelText = function () { return panel.innerText; };
  status.ready = true;
  document.body.setAttribute("data-ready", "true");
})();
