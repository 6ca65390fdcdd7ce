// The 类案 chart: how the similar cases were charged (pie) and the terms imposed per charge (scatter).
(function () {
  document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
    if (el.dataset.drawn || typeof echarts === "undefined") { return; }
    el.dataset.drawn = "1";
    var data = JSON.parse(el.dataset.chart);
    var points = [];
    data.terms.forEach(function (t, i) { t.months.forEach(function (m) { points.push([m, t.charge]); }); });
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: {},
      legend: { bottom: 0, type: "scroll" },
      grid: { left: "52%", right: 10, top: 20, bottom: 40, containLabel: true },
      xAxis: { type: "value", name: "刑期（月）", nameLocation: "middle", nameGap: 24 },
      yAxis: { type: "category", data: data.terms.map(function (t) { return t.charge; }) },
      series: [
        { type: "pie", radius: ["25%", "55%"], center: ["24%", "45%"], data: data.charges, label: { formatter: "{b}\n{c}件" } },
        { type: "scatter", data: points, symbolSize: 10, name: "判处刑期" }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
