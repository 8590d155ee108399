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

  // Filters apply with their Apply button only (WCAG 3.2.2: changing a select or a slider,
  // e.g. with arrow keys, never reloads the page or moves the focus).
  document.querySelectorAll("input[type=range]").forEach(function (range) {
    var out = document.getElementById(range.id + "-out");
    range.addEventListener("input", function () {
      if (out) out.textContent = range.value;
    });
  });
  // Scenario explorer: a slider or selector change asks the API for the new projections and
  // redraws in place; the address bar keeps the full slider state (shareable).
  var explorer = document.querySelector("form[data-explorer]");
  if (explorer) {
    var status = document.getElementById("explorer-status");
    var KEYS = ["country", "grants", "industry", "visa", "returns", "startup", "visa_from", "years"];
    var LEVEL = Number(explorer.dataset.level || 0.9);
    var latest = 0;
    // Same cell format as the server's tables (pages.cell), so a redrawn table reads the same.
    var fmt = function (v, col) {
      if (v === null || v === undefined) return "n/a";
      if (typeof v === "boolean") return v ? "yes" : "no";
      if (typeof v !== "number") return String(v);
      if (col === "year" && Number.isInteger(v)) return String(v);
      if (Number.isInteger(v) && Math.abs(v) >= 1) return v.toLocaleString("en", { maximumFractionDigits: 0 });
      if (Math.abs(v) < 1) return (Object.is(v, -0) ? "-" : "") + v.toFixed(3);
      return v.toLocaleString("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    };
    var cellRow = function (tag, values, columns) {
      var tr = document.createElement("tr");
      values.forEach(function (v, i) {
        var td = document.createElement(tag);
        td.textContent = tag === "th" ? v : fmt(v, columns[i]);
        tr.appendChild(td);
      });
      return tr;
    };
    var redraw = function (chart) {
      var card = document.getElementById(chart.id);
      if (!card) return Promise.resolve();
      card.querySelector("h2").textContent = chart.title;
      card.querySelector(".reading").textContent = chart.reading;
      var q = new URLSearchParams(chart.params).toString();
      var links = card.querySelectorAll(".links a");
      links[0].setAttribute("href", "/api/scenario?" + q + "&format=csv");
      links[1].setAttribute("href", "/api/scenario?" + q);
      var table = card.querySelector("table");
      if (table) {
        table.tHead.replaceChildren(cellRow("th", chart.columns, chart.columns));
        var body = document.createElement("tbody");
        chart.rows.forEach(function (row) {
          body.appendChild(cellRow("td", chart.columns.map(function (c) { return row[c]; }), chart.columns));
        });
        table.tBodies[0].replaceWith(body);
      }
      var el = card.querySelector("[data-figure]");
      el.dataset.rendered = "";
      return Plotly.react(el, chart.figure.data, chart.figure.layout, config).then(function () {
        el.dataset.rendered = "1";
      });
    };
    var ask = function (query, preview) {
      var url = "/api/scenario?" + query + "&figure=true" + (preview ? "&preview=true" : "");
      return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : body.detail.map(function (d) { return d.msg; }).join("; "));
          return body;
        });
      });
    };
    // Show one answer: assumptions, slider outputs, heading, address bar, then every chart.
    var show = function (body) {
      var list = document.getElementById("assumptions");
      list.replaceChildren.apply(list, body.assumptions.map(function (a) {
        var li = document.createElement("li");
        li.textContent = a;
        return li;
      }));
      var state = new URLSearchParams();
      KEYS.forEach(function (k) {
        state.set(k, body[k]);
        var out = document.getElementById(k + "-out");
        if (out) out.textContent = body[k];
      });
      var heading = "Scenario explorer: " + body.country_name;
      document.querySelector("main h1").textContent = heading;
      document.title = heading + " · talentflow";
      canonical = "/scenarios?" + state.toString();
      history.replaceState(null, "", canonical);
      return Promise.all(body.charts.map(redraw)).then(function () { return state; });
    };
    var update = function () {
      var ticket = ++latest;
      var query = new URLSearchParams(new FormData(explorer)).toString();
      var done = false;
      var shown = Promise.resolve();
      explorer.classList.add("busy");
      delete explorer.dataset.state;
      status.textContent = "Projecting…";
      // The point-estimate preview answers in milliseconds and is drawn first; the banded
      // projection (parameter draws, about a second) is asked for once the preview is in (so
      // the two do not compete for the server's CPU) and replaces it when it arrives.
      var quick = ask(query, true);
      var full = quick.catch(function () {}).then(function () { return ask(query, false); });
      quick.then(function (body) {
        shown = shown.then(function () {
          if (ticket !== latest || done) return null;
          status.textContent = "Point estimates shown; computing the " + Math.round(100 * LEVEL) + "% bands…";
          return show(body);
        });
      }).catch(function () {}); // the full answer reports any error
      full.then(function (body) {
        done = true;
        return shown.then(function () {
          if (ticket !== latest) return null;
          return show(body).then(function (state) {
            if (ticket !== latest) return;
            explorer.classList.remove("busy");
            status.textContent = "";
            explorer.dataset.state = state.toString();
          });
        });
      }).catch(function (err) {
        if (ticket !== latest) return;
        explorer.classList.remove("busy");
        status.textContent = "Cannot show this view: " + err.message;
      });
    };
    // The visa lever's origin cannot be the country itself.
    var country = explorer.elements.country;
    var origin = explorer.elements.visa_from;
    country.addEventListener("change", function () {
      Array.prototype.forEach.call(origin.options, function (o) {
        o.disabled = o.value !== "" && o.value === country.value;
      });
      if (origin.value === country.value) origin.value = "";
    });
    explorer.querySelectorAll("[data-scenario]").forEach(function (input) {
      input.addEventListener("change", update);
    });
    explorer.addEventListener("submit", function (ev) {
      ev.preventDefault();
      update();
    });
  }

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
