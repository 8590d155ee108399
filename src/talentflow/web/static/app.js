// talentflow dashboard: draw the figures embedded in the page, keep the URL shareable.
(function () {
  "use strict";
  var body = document.body;
  var config = {
    responsive: true,
    displaylogo: false,
    // Map geometry ships with the app (no CDN).
    topojsonURL: body.dataset.topojson,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
  };
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var fig = JSON.parse(document.getElementById(el.dataset.figure).textContent);
    Plotly.newPlot(el, fig.data, fig.layout, config).then(function () {
      el.dataset.rendered = "1";
    });
  });

  // The address bar always carries the full filters, so copying it reproduces the view.
  var canonical = body.dataset.canonical;
  if (canonical && location.pathname + location.search !== canonical) {
    history.replaceState(null, "", canonical + location.hash);
  }

  document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () {
      input.form.requestSubmit();
    });
  });
  document.querySelectorAll("input[type=range]").forEach(function (range) {
    var out = document.getElementById(range.id + "-out");
    range.addEventListener("input", function () {
      if (out) out.textContent = range.value;
    });
  });
  document.querySelectorAll("a.share").forEach(function (a) {
    a.addEventListener("click", function () {
      var url = location.origin + (canonical || location.pathname + location.search) + a.getAttribute("href");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(url).catch(function () {});
      }
      a.textContent = "Link: " + url;
    });
  });
})();
