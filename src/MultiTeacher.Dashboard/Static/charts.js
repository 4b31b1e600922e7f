// Draws the dashboard's charts with uPlot from /runs/{id}/charts.json or /compare/charts.json:
// each chart has its own y axis, round ticks (uPlot's 1-2-5 steps), a legend under the plot that
// shows the hovered values, and the colours the server chose (one per teacher on every page).
"use strict";
window.MTCharts = (() => {
  const width = 520, height = 240;
  // Steps are whole numbers: tick every 1, 2, 5, 10, ... steps, never at half a step.
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000, 200000, 500000, 1000000];

  // Tick labels with as many decimals as the tick step needs (uPlot picks 1-2-5 steps; its default
  // labels stop at 3 decimals, which turns the ticks of a learning rate into 0.001, 0.001, 0, 0).
  function ticks(div, axis) {
    return (u, splits) => {
      const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
      let d = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
      if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6) d++;
      const labels = splits.map(v => v == null ? "" : Math.abs(v) >= 1e6 || (step < 1e-6) ? v.toExponential(1) : v.toFixed(Math.min(d, 12)));
      div.dataset[axis + "ticks"] = labels.join(" ");
      return labels;
    };
  }

  function options(chart, div) {
    const bars = chart.kind === "bars";
    const series = [{ label: bars ? "model" : chart.x_label, value: bars ? (u, v) => v == null ? "--" : chart.categories[v] : undefined }];
    for (const s of chart.series) {
      series.push({
        label: s.label,
        stroke: s.colour,
        width: bars ? 1 : 1.6,
        fill: bars ? s.colour + "cc" : undefined,
        dash: s.dash || undefined,
        spanGaps: true,
        points: { show: bars ? false : (u, i) => u.data[0].length < 3 },
        paths: bars ? uPlot.paths.bars({ size: [0.7, 48], align: 0 }) : undefined,
        value: (u, v) => v == null ? "--" : format(v),
      });
    }
    const x = bars
      ? { time: false, range: [-0.5, chart.categories.length - 0.5] }
      : { time: false };
    const y = bars ? { range: (u, min, max) => [0, max * 1.08] } : {};
    return {
      // Bars get room for their labels: about 90 pixels per category.
      title: chart.title, width: bars ? Math.max(width, 80 + 90 * chart.categories.length) : width, height, series,
      scales: { x, y },
      axes: [
        bars ? { label: chart.x_label, size: 60, splits: () => chart.categories.map((_, i) => i), values: (u, t) => t.map(i => chart.categories[i] ?? "") }
             : { label: chart.x_label, incrs: steps, values: ticks(div, "x") },
        { label: chart.y_label, size: 70, values: ticks(div, "y") },
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: !bars, y: false } },
    };
  }

  function format(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
    return a >= 1000 ? v.toFixed(0) : v.toPrecision(4);
  }

  function render(container, charts) {
    for (const old of container.querySelectorAll(".chart")) old._plot?.destroy();
    container.textContent = "";
    if (charts.length === 0) {
      container.insertAdjacentHTML("beforeend", "<p class=\"empty\">no metrics recorded yet</p>");
      return;
    }
    for (const chart of charts) {
      const div = document.createElement("div");
      div.className = "chart";
      div.dataset.chart = chart.id;
      div.dataset.series = String(chart.series.length);
      container.appendChild(div);
      const data = [chart.x, ...chart.series.map(s => s.values)];
      div._plot = new uPlot(options(chart, div), data, div);
    }
  }

  async function load(container, url, refreshMs) {
    const draw = async () => {
      const response = await fetch(url);
      if (!response.ok) return;
      render(container, (await response.json()).charts);
      container.dataset.loaded = String(Number(container.dataset.loaded || 0) + 1);
    };
    await draw();
    if (refreshMs) setInterval(draw, refreshMs);
  }

  return { render, load };
})();
