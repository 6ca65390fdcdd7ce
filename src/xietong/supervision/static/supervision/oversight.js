// 预警及处理情况: per kind, how many wait for an answer and how many were answered (ECharts).
(function () {
  "use strict";
  var source = document.getElementById("alert-rows"), box = document.getElementById("alert-chart");
  if (!source || !box) { return; }
  var rows = JSON.parse(source.textContent).slice().reverse();
  if (!rows.length) { box.style.display = "none"; return; }
  var chart = echarts.init(box);
  var series = [["待处理", "open", "#dc2626"], ["已知悉", "acknowledged", "#d97706"], ["已说明", "explained", "#0284c7"], ["已整改", "rectified", "#16a34a"]];
  chart.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    grid: { left: 120, right: 24, top: 30, bottom: 10 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: rows.map(function (r) { return r.kind; }) },
    series: series.map(function (s) {
      return { name: s[0], type: "bar", stack: "all", itemStyle: { color: s[2] }, data: rows.map(function (r) { return r[s[1]]; }) };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
