// Charts of 大数据分析研判, drawn with ECharts from the JSON the server put in #analytics-data.
// A bar or slice that stands for a place or charge carries the URL to drill into; clicking it goes there.
(function () {
  if (typeof echarts === "undefined") { return; }
  var source = document.getElementById("analytics-data");
  var data = source ? JSON.parse(source.textContent) : {};
  var charts = [];

  function draw(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el);
    chart.setOption(option);
    if (onClick) { chart.on("click", onClick); }
    el.dataset.drawn = "1";
    charts.push(chart);
  }
  function go(params) { if (params.data && params.data.url) { window.location.href = params.data.url; } }

  if (data.trend) {
    draw("chart-trend", {
      tooltip: { trigger: "axis" },
      legend: { data: ["立案数", "同比%", "环比%"], bottom: 0 },
      grid: { left: 40, right: 40, top: 20, bottom: 50 },
      xAxis: { type: "category", data: data.trend.map(function (t) { return t.period; }) },
      yAxis: [{ type: "value", name: "件" }, { type: "value", name: "%", splitLine: { show: false } }],
      series: [
        { name: "立案数", type: "bar", data: data.trend.map(function (t) { return t.count; }), itemStyle: { color: "#b91c1c" } },
        { name: "同比%", type: "line", yAxisIndex: 1, smooth: true, data: data.trend.map(function (t) { return t.yoy; }) },
        { name: "环比%", type: "line", yAxisIndex: 1, smooth: true, data: data.trend.map(function (t) { return t.mom; }), lineStyle: { type: "dashed" } }
      ]
    });
  }
  if (data.regions) {
    var regions = data.regions.slice().sort(function (a, b) { return (a.per_10k || 0) - (b.per_10k || 0); });
    draw("chart-regions", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["立案数", "每万人"], bottom: 0 },
      grid: { left: 90, right: 30, top: 40, bottom: 64 },
      yAxis: { type: "category", data: regions.map(function (r) { return r.name; }) },
      xAxis: [
        { type: "value", name: "立案数（件）", nameLocation: "middle", nameGap: 26 },
        { type: "value", name: "每万人", nameLocation: "middle", nameGap: 24, splitLine: { show: false } }
      ],
      series: [
        { name: "立案数", type: "bar", data: regions.map(function (r) { return { value: r.count, url: r.url }; }), itemStyle: { color: "#1d4ed8" } },
        { name: "每万人", type: "scatter", xAxisIndex: 1, symbolSize: 10, data: regions.map(function (r) { return { value: r.per_10k, url: r.url }; }), itemStyle: { color: "#ea580c" } }
      ]
    }, go);
  }
  if (data.charges) {
    draw("chart-charges", {
      tooltip: { trigger: "item", formatter: "{b}：{c} 件（{d}%）" },
      // names of up to ten characters (掩饰、隐瞒犯罪所得、犯罪所得收益罪) break onto lines, not "掩饰…"
      series: [{
        type: "pie", radius: ["30%", "54%"], center: ["54%", "52%"], data: data.charges, minShowLabelAngle: 4,
        label: { formatter: "{b}\n{d}%", width: 72, overflow: "break", lineHeight: 14 },
        labelLayout: { hideOverlap: true }
      }]
    }, go);
  }
  if (data.funnel) {
    draw("chart-funnel", {
      tooltip: { trigger: "item", formatter: "{b}：{c} 件" },
      series: [{ type: "funnel", left: "5%", width: "90%", top: 10, bottom: 10, sort: "none", minSize: "30%",
                 data: data.funnel.map(function (f) { return { name: f.step, value: f.count }; }),
                 label: { position: "inside", formatter: "{b} {c}", color: "#fff", textBorderColor: "rgba(0,0,0,.35)", textBorderWidth: 2 } }]
    });
  }
  if (data.durations) {
    draw("chart-durations", {
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 10, top: 20, bottom: 50 },
      xAxis: { type: "category", data: data.durations.bins, name: "天", axisLabel: { rotate: 45 } },
      yAxis: { type: "value", name: "件" },
      series: [{ type: "bar", data: data.durations.counts, itemStyle: { color: "#15803d" } }]
    });
  }
  if (data.heat && data.heat.charges.length) {
    var max = Math.max.apply(null, data.heat.cells.map(function (c) { return c[2]; }).concat([1]));
    draw("chart-heat", {
      tooltip: { formatter: function (p) { return data.heat.charges[p.value[1]] + " " + p.value[0] + " 时：" + p.value[2] + " 件"; } },
      grid: { left: 10, right: 10, top: 10, bottom: 70, containLabel: true },
      xAxis: { type: "category", data: Array.from({ length: 24 }, function (_, h) { return h; }), name: "时", nameGap: 6 },
      yAxis: { type: "category", data: data.heat.charges, axisLabel: { width: 110, overflow: "truncate" } },
      visualMap: { min: 0, max: max, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120, itemWidth: 12, calculable: true, text: ["多", "少"] },
      series: [{ type: "heatmap", data: data.heat.cells }]
    });
  }
  if (data.pairs && data.pairs.length) {
    var names = {};
    data.pairs.forEach(function (p) { names[p.a] = (names[p.a] || 0) + p.n; names[p.b] = (names[p.b] || 0) + p.n; });
    var top = Math.max.apply(null, Object.values(names));
    draw("chart-pairs", {
      tooltip: {},
      series: [{
        type: "graph", layout: "circular", roam: true, label: { show: true },
        data: Object.keys(names).map(function (n) { return { name: n, value: names[n], symbolSize: 12 + 30 * names[n] / top }; }),
        links: data.pairs.map(function (p) { return { source: p.a, target: p.b, value: p.n, lineStyle: { width: 1 + 6 * p.n / data.pairs[0].n } }; }),
        lineStyle: { color: "source", opacity: 0.6, curveness: 0.2 }
      }]
    });
  }
  if (data.query && data.query.length) {
    draw("chart-query", {
      tooltip: { trigger: "axis" },
      grid: { left: 50, right: 10, top: 20, bottom: 90 },
      xAxis: { type: "category", data: data.query.map(function (r) { return r.name; }), axisLabel: { rotate: 40 } },
      yAxis: { type: "value", name: "件" },
      series: [{ type: "bar", data: data.query.map(function (r) { return r.value; }), itemStyle: { color: "#1d4ed8" } }]
    });
  }
  // Warnings: the town's monthly series, the baseline months it was judged against, the threshold.
  document.querySelectorAll(".spark[data-series]").forEach(function (el) {
    var series = el.dataset.series.split(",").map(Number);
    var baseline = {};
    (el.dataset.baseline || "").split(",").forEach(function (i) { if (i !== "") { baseline[Number(i)] = true; } });
    var first = new Date(el.dataset.first + "T00:00:00");
    var labels = series.map(function (_, i) {
      var d = new Date(first.getFullYear(), first.getMonth() + i, 1);
      return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0");
    });
    el.style.height = "90px";
    var chart = echarts.init(el);
    chart.setOption({
      grid: { left: 30, right: 8, top: 8, bottom: 18 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: labels, axisLabel: { interval: 11, fontSize: 10 } },
      yAxis: { type: "value", splitNumber: 2, axisLabel: { fontSize: 10 } },
      series: [{
        type: "bar", name: "件",
        data: series.map(function (v, i) {
          var color = i === series.length - 1 ? "#dc2626" : (baseline[i] ? "#1d4ed8" : "#cbd5e1");
          return { value: v, itemStyle: { color: color } };
        }),
        markLine: { symbol: "none", label: { formatter: "上限 {c}", fontSize: 10 }, data: [{ yAxis: Number(el.dataset.threshold) }], lineStyle: { color: "#ea580c" } }
      }]
    });
    el.dataset.drawn = "1";
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
