/* Draws every insight chart on the page with ECharts. Each chart's numbers sit
   in a <script type="application/json"> block next to its canvas (no inline
   script, so a strict CSP holds); this file only reads them. The same tables
   are served as CSV by the page (?format=csv&chart=<name>). */
(function () {
  "use strict";

  var BRAND = "#d9480f";
  var PALETTE = [BRAND, "#1c7ed6", "#2f9e44", "#f59f00", "#7048e8", "#868e96"];

  function label(data, key) {
    return (data.labels && data.labels[key]) || key;
  }

  function column(data, name) {
    var index = data.columns.indexOf(name);
    return data.rows.map(function (row) { return row[index]; });
  }

  function yuan(fen) { return "¥" + (fen / 100).toFixed(2); }

  function funnel(data) {
    return {
      tooltip: { trigger: "item" },
      series: [{
        type: "funnel", sort: "none", gap: 2, left: "8%", width: "84%", minSize: "34%",
        label: { show: true, position: "inside", formatter: "{b}: {c}" },
        data: data.rows.map(function (row) { return { name: label(data, row[0]), value: row[1] }; })
      }]
    };
  }

  function bars(data) {
    // Counts on the left axis; money (fen, shown in yuan) on the right.
    var money = ["gmv", "commission"];
    var categories = column(data, data.columns[0]).map(function (key) { return label(data, key); });
    var series = data.columns.slice(1).filter(function (c) { return ["title"].indexOf(c) < 0; })
      .map(function (name) {
        var isMoney = money.indexOf(name) >= 0;
        return {
          name: label(data, name), type: "bar", yAxisIndex: isMoney ? 1 : 0,
          data: column(data, name).map(function (v) { return isMoney ? v / 100 : v; })
        };
      });
    return {
      color: PALETTE,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: {
        type: "category", data: categories,
        axisLabel: { interval: 0, overflow: "truncate", width: categories.length > 4 ? 64 : 80, rotate: categories.length > 4 ? 35 : 0 }
      },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", axisLabel: { formatter: "¥{value}" } }],
      series: series
    };
  }

  function links(data) {
    var chart = bars({
      columns: ["code", "clicks", "orders", "commission"],
      rows: data.rows.map(function (row) { return [row[1] || row[0], row[2], row[3], row[5]]; }),
      labels: data.labels
    });
    return chart;
  }

  function heatmap(data) {
    var months = [], since = [], cells = [];
    data.rows.forEach(function (row) {
      if (months.indexOf(row[0]) < 0) months.push(row[0]);
      if (since.indexOf(row[2]) < 0) since.push(row[2]);
    });
    since.sort(function (a, b) { return a - b; });
    data.rows.forEach(function (row) {
      cells.push([since.indexOf(row[2]), months.indexOf(row[0]), Math.round(row[4] * 1000) / 10]);
    });
    return {
      tooltip: { formatter: function (p) { return months[p.value[1]] + " +" + since[p.value[0]] + ": " + p.value[2] + "%"; } },
      grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: since, name: label(data, "months_since"), nameLocation: "middle", nameGap: 24 },
      yAxis: { type: "category", data: months },
      visualMap: { min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 80, inRange: { color: ["#fff4e6", BRAND] } },
      series: [{ type: "heatmap", data: cells, label: { show: true, formatter: function (p) { return p.value[2] + "%"; } } }]
    };
  }

  function lorenz(data) {
    return {
      color: [BRAND, "#adb5bd"],
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "value", min: 0, max: 1, name: label(data, "sharers") },
      yAxis: { type: "value", min: 0, max: 1, name: label(data, "income") },
      series: [
        { name: label(data, "lorenz"), type: "line", showSymbol: false, areaStyle: { opacity: 0.15 }, data: data.rows },
        { name: label(data, "equality"), type: "line", showSymbol: false, lineStyle: { type: "dashed" }, data: [[0, 0], [1, 1]] }
      ]
    };
  }

  function deciles(data) {
    return {
      color: [BRAND],
      tooltip: { trigger: "axis", valueFormatter: function (v) { return (v * 100).toFixed(1) + "%"; } },
      grid: { left: 8, right: 8, bottom: 8, top: 16, containLabel: true },
      xAxis: { type: "category", data: column(data, "decile") },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } },
      series: [{ name: label(data, "share"), type: "bar", data: column(data, "share") }]
    };
  }

  function factors(data) {
    // Each factor this period against the previous one, as a ratio (1 = unchanged).
    var names = column(data, "metric");
    return {
      color: PALETTE,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: names.map(function (n) { return label(data, n); }), axisLabel: { interval: 0, overflow: "truncate", width: 70 } },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } },
      series: [{
        name: "Δ", type: "bar",
        data: column(data, "change").map(function (v) { return v === null ? 0 : v; })
      }]
    };
  }

  var BUILDERS = { funnel: funnel, bar: bars, heatmap: heatmap, lorenz: lorenz, tiles: factors };

  function draw(figure) {
    var name = figure.getAttribute("data-chart");
    var source = document.getElementById("chart-data-" + name);
    var canvas = figure.querySelector(".chart-canvas");
    if (!source || !canvas || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var build = name === "links" ? links : name === "deciles" ? deciles : BUILDERS[data.kind] || bars;
    if (!data.rows.length) {
      figure.classList.add("is-empty");
      return;
    }
    var chart = window.echarts.init(canvas, null, { renderer: "svg" });
    chart.setOption(build(data));
    figure.classList.add("is-drawn");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
  window.kinshopCharts = { draw: draw, yuan: yuan };
}());
