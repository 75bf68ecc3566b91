/* The dashboard's only script: draws each chart from the JSON its page embeds, and submits
   choosers when their selection changes. Loaded as a file, so the pages need no inline
   script (the Content-Security-Policy allows scripts from the service only). */
(function () {
  "use strict";

  function drawChart(container) {
    var source = document.getElementById(container.getAttribute("data-figure"));
    var figure = JSON.parse(source.textContent);
    var config = { displayModeBar: false, responsive: true, displaylogo: false };
    return window.Plotly.newPlot(container, figure.data, figure.layout, config).then(function () {
      container.setAttribute("data-drawn", "true");
    });
  }

  function drawCharts() {
    var containers = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
    if (containers.length === 0) {
      return;
    }
    if (!window.Plotly) {
      containers.forEach(function (c) {
        c.textContent = "The chart could not be drawn: the table below has the same figures.";
      });
      return;
    }
    Promise.all(containers.map(drawChart)).then(function () {
      document.body.setAttribute("data-charts-drawn", String(containers.length));
    });
  }

  function autoSubmit() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (s) {
      s.addEventListener("change", function () {
        s.form.submit();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    autoSubmit();
    drawCharts();
  });
})();
