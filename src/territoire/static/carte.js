/* territoire: draws a map from the JSON data island "territoire-donnees".
 *
 * Every text of the data (names of CPTS and communes, statuses...) comes from
 * files sent by third parties: it is only ever set with textContent or as a
 * DOM text node, never as HTML. Labels and styles are prepared in Python.
 */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("territoire-donnees").textContent);
  var map = null;
  Object.keys(window).forEach(function (k) {
    if (!map && k.indexOf("map_") === 0 && window[k] instanceof L.Map) { map = window[k]; }
  });

  function node(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // A two-column table of [label, value] rows, as text.
  function infoTable(rows) {
    var t = node("table", "territoire-info");
    rows.forEach(function (r) {
      var tr = node("tr");
      tr.appendChild(node("th", null, r[0]));
      tr.appendChild(node("td", null, r[1]));
      t.appendChild(tr);
    });
    return t;
  }

  function styleOf(f) { return f.properties.style; }

  var layers = {};
  var order = [];

  function add(key, layer) {
    layers[key] = layer;
    order.push(key);
    layer.addTo(map);
  }

  // Popup rows of each CPTS, by name: a click on a commune opens those of its CPTS.
  var fiches = {};
  D.cpts.features.forEach(function (f) { fiches[f.properties.cpts] = f.properties.fiche; });
  // A commune: its tooltip on hover; on click, the popup of every CPTS it belongs to.
  function onCommune(f, l) {
    l.bindTooltip(function () { return infoTable(f.properties.infobulle); }, {sticky: true});
    if (f.properties.cpts.length) {
      l.on("click", function (e) {
        var box = node("div");
        f.properties.cpts.forEach(function (n) { if (fiches[n]) { box.appendChild(infoTable(fiches[n])); } });
        L.popup({maxWidth: 420}).setLatLng(e.latlng).setContent(box).openOn(map);
      });
    }
  }
  add("communes", L.geoJSON(D.communes, {style: styleOf, onEachFeature: onCommune}));
  if (D.chevauchements.features.length) {
    add("chevauchements", L.geoJSON(D.chevauchements, {style: styleOf, onEachFeature: onCommune}));
  }
  if (D.cpts.features.length) {
    // Outlines only: the mouse goes through to the communes (tooltip on hover, CPTS popup on click).
    add("cpts", L.geoJSON(D.cpts, {style: styleOf, interactive: false}));
    var names = L.layerGroup(), marks = [];
    D.noms.forEach(function (n) {
      var span = node("span", "cpts-nom", n[2]);
      marks.push(L.marker([n[0], n[1]], {
        icon: L.divIcon({className: "", iconSize: [0, 0], html: span}), interactive: false
      }).addTo(names));
    });
    add("noms", names);
    // Names are placed most populated first; one that would overlap a placed one is hidden.
    var declutter = function () {
      var placed = [];
      marks.forEach(function (m) {
        var el = m.getElement(), span = el && el.firstChild;
        if (!span) { return; }
        span.style.visibility = "visible";
        var r = span.getBoundingClientRect();
        var hit = placed.some(function (p) {
          return r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top;
        });
        if (hit) { span.style.visibility = "hidden"; } else { placed.push(r); }
      });
    };
    map.on("zoomend moveend overlayadd", declutter);
    map.whenReady(function () { setTimeout(declutter, 0); });
  }
  add("departements", L.geoJSON(D.departements, {style: styleOf, interactive: false}));

  var overlays = {};
  order.forEach(function (k) { overlays[D.couches[k]] = layers[k]; });
  L.control.layers(null, overlays, {collapsed: false}).addTo(map);

  var legend = node("div", "territoire-legende");
  legend.appendChild(node("b", null, "Légende"));
  D.legende.forEach(function (r) {
    var row = node("div", "lg-row"), box = node("span", r.ligne ? "lg-line" : "lg-box");
    if (r.ligne) {
      box.style.borderTop = r.ligne;
    } else {
      box.style.background = r.fond;
      box.style.border = "2px " + (r.tirets ? "dashed " : "solid ") + r.bord;
    }
    row.appendChild(box);
    row.appendChild(document.createTextNode(r.texte));
    legend.appendChild(row);
  });
  document.body.appendChild(legend);
  var title = node("div", "territoire-titre");
  title.appendChild(node("b", null, D.titre));
  title.appendChild(node("br"));
  title.appendChild(document.createTextNode(D.sous_titre));
  document.body.appendChild(title);

  map.fitBounds(D.bornes);
  window.territoireCarte = {map: map, couches: layers};
})();
