// The runs table: click a column header to sort by it (again to reverse); tick two or more runs to compare them.
"use strict";
(() => {
  const table = document.getElementById("runs");
  if (!table) return;
  const key = cell => cell.querySelector("[data-sort-key]")?.dataset.sortKey ?? cell.textContent.trim();
  table.querySelectorAll("th").forEach((th, column) => {
    if (th.dataset.nosort !== undefined) return;
    th.style.cursor = "pointer";
    th.addEventListener("click", () => {
      const descending = th.getAttribute("aria-sort") === "ascending";
      table.querySelectorAll("th").forEach(h => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      const body = table.tBodies[0];
      const rows = [...body.rows].filter(r => r.cells[0].tagName === "TD");
      const values = rows.map(r => key(r.cells[column]));
      const numeric = values.every(v => v === "" || !isNaN(Number(v)));
      const order = rows.map((r, i) => [r, values[i]]).sort(([, a], [, b]) => {
        if (a === "" || b === "") return a === b ? 0 : a === "" ? 1 : -1;   // blanks last either way
        const c = numeric ? Number(a) - Number(b) : a.localeCompare(b);
        return descending ? -c : c;
      });
      for (const [r] of order) body.appendChild(r);
    });
  });
  const button = document.getElementById("compare");
  const update = () => { button.disabled = table.querySelectorAll("input[name=run]:checked").length < 2; };
  table.addEventListener("change", update);
  update();
})();
