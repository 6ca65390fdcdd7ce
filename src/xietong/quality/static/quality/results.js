// 评查结果: per-unit average score (bars) with defects by class (stacked), and the most frequent items.
(function () {
  if (typeof echarts === "undefined") { return; }
  var source = document.getElementById("quality-data");
  var data = source ? JSON.parse(source.textContent) : {};
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el);
    chart.setOption(option);
    el.dataset.drawn = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var colours = ["#eab308", "#ea580c", "#dc2626"];
  if (data.units) {
    draw("chart-units", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 190, right: 50, top: 30, bottom: 40 },
      yAxis: { type: "category", data: data.units, inverse: true, axisLabel: { width: 180, overflow: "truncate" } },
      xAxis: [{ type: "value", name: "分", max: 100 }, { type: "value", name: "问题", minInterval: 1, splitLine: { show: false } }],
      series: [{ name: "平均得分", type: "bar", data: data.scores, itemStyle: { color: "#1d4ed8" }, label: { show: true, position: "right" } }]
        .concat(data.severities.map(function (s, i) {
          return { name: s.name, type: "bar", stack: "defects", xAxisIndex: 1, data: s.data, itemStyle: { color: colours[i] }, barGap: "10%" };
        }))
    });
  }
  if (data.items) {
    draw("chart-items", {
      tooltip: { trigger: "item", formatter: "{b}：{c} 个（{d}%）" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: data.items, label: { formatter: "{b}\n{c}" } }]
    });
  }
})();
