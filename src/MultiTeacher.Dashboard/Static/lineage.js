// Lays out /runs/{id}/lineage.json with dagre (left to right, earlier on the left) and draws it as
// SVG: runs as rounded boxes linking to their pages, artifacts as square boxes, teachers and their
// caches outlined in the teacher's colour, "cached" edges dashed.
"use strict";
window.MTLineage = (() => {
  const ns = "http://www.w3.org/2000/svg";
  const el = (name, attrs, parent) => {
    const e = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  };
  const clip = (s, n) => s.length <= n ? s : s.slice(0, n - 1) + "…";

  async function load(container, url) {
    const graph = await (await fetch(url)).json();
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 60, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of graph.nodes) {
      const w = Math.min(260, Math.max(130, 7 * Math.max(clip(n.label, 36).length, clip(n.detail, 36).length) + 16));
      g.setNode(n.id, { width: w, height: 40, node: n });
    }
    for (const e of graph.edges) g.setEdge(e.from, e.to, { kind: e.kind });
    dagre.layout(g);

    const size = g.graph();
    const svg = el("svg", { id: "lineage", width: Math.ceil(size.width), height: Math.ceil(size.height), "font-size": "11", "font-family": "system-ui, sans-serif" });
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#666" }, marker);
    for (const e of g.edges()) {
      const edge = g.edge(e);
      const d = edge.points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
      el("path", { class: `edge edge-${edge.kind}`, d, fill: "none", stroke: "#666", "stroke-dasharray": edge.kind === "cached" ? "4 3" : "none",
        "marker-end": "url(#arrow)", "data-from": e.v, "data-to": e.w }, svg);
    }
    for (const id of g.nodes()) {
      const box = g.node(id), n = box.node;
      const x = box.x - box.width / 2, y = box.y - box.height / 2;
      let parent = svg;
      if (n.run != null) parent = el("a", { href: `/runs/${n.run}` }, svg);
      const group = el("g", { class: `node ${n.kind}${n.run === graph.run ? " current" : ""}`, "data-id": id, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` }, parent);
      el("title", {}, group).textContent = `${n.label}\n${n.detail}`;
      el("rect", { width: box.width, height: box.height, rx: n.kind === "run" ? 10 : 2,
        fill: n.run === graph.run ? "#fde9b8" : n.kind === "run" ? "#e6f4ea" : "#eef3fb",
        stroke: n.colour || "#555", "stroke-width": n.colour ? 2.5 : 1 }, group);
      el("text", { x: 6, y: 16 }, group).textContent = clip(n.label, 36);
      el("text", { x: 6, y: 31, fill: "#555" }, group).textContent = clip(n.detail, 36);
    }
    container.textContent = "";
    container.appendChild(svg);
  }

  return { load };
})();
