/* territoire: draws a map from the JSON data island "territoire-donnees".
 *
 * Every text of the data (names of CPTS and communes, statuses...) comes from
 * files sent by third parties: it is only ever set with textContent or as a
 * DOM text node, never as HTML. Styles, numbers and summaries are prepared in
 * Python (territoire.mapping.document); geometry is decoded from compact
 * integer arrays only when drawn (national maps: by département, on zoom).
 */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("territoire-donnees").textContent);
  var map = null;
  Object.keys(window).forEach(function (k) {
    if (!map && k.indexOf("map_") === 0 && window[k] instanceof L.Map) { map = window[k]; }
  });
  var C = D.communes, large = D.zoom_detail > 0;

  function node(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fmt(n) { return n < 0 ? "—" : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f"); }
  // A two-column table of [label, value] rows, as text, with an optional caption.
  function infoTable(rows, caption) {
    var t = node("table", "territoire-info");
    if (caption) { t.appendChild(node("caption", null, caption)); }
    rows.forEach(function (r) {
      var tr = node("tr");
      tr.appendChild(node("th", null, r[0]));
      tr.appendChild(node("td", null, r[1]));
      t.appendChild(tr);
    });
    return t;
  }

  // --- Patterns: white zones hatched, shared communes cross-hatched (not colour alone) ---------
  var motifs = {};
  function motif(ctx, name) {
    if (!motifs[name]) {
      var c = document.createElement("canvas"), g = c.getContext("2d");
      c.width = c.height = 10;
      g.strokeStyle = name === "hachures" ? D.style.hachures : D.style.chevauchement_bord;
      g.lineWidth = name === "hachures" ? 1.2 : 1.6;
      g.beginPath();
      g.moveTo(-1, 11); g.lineTo(11, -1); g.moveTo(-6, 6); g.lineTo(6, -6); g.moveTo(4, 16); g.lineTo(16, 4);
      if (name === "rayures") { g.strokeStyle = D.style.cpts_bord; g.lineWidth = 1.4; g.beginPath(); g.moveTo(2, -1); g.lineTo(2, 11); g.moveTo(7, -1); g.lineTo(7, 11); }
      if (name === "croisillons") { g.moveTo(-1, -1); g.lineTo(11, 11); g.moveTo(-6, 4); g.lineTo(6, 16); g.moveTo(4, -6); g.lineTo(16, 6); }
      g.stroke();
      motifs[name] = ctx.createPattern(c, "repeat");
    }
    return motifs[name];
  }
  L.Canvas.include({
    _fillStroke: function (ctx, layer) {
      var o = layer.options;
      if (o.fill) {
        ctx.globalAlpha = o.fillOpacity;
        ctx.fillStyle = o.fillColor || o.color;
        ctx.fill(o.fillRule || "evenodd");
        if (o.motif) { ctx.globalAlpha = 1; ctx.fillStyle = motif(ctx, o.motif); ctx.fill(o.fillRule || "evenodd"); }
      }
      if (o.stroke && o.weight !== 0) {
        if (ctx.setLineDash) { ctx.setLineDash(o._dashArray || []); }
        ctx.globalAlpha = o.opacity;
        ctx.lineWidth = o.weight;
        ctx.strokeStyle = o.color;
        ctx.lineCap = o.lineCap;
        ctx.lineJoin = o.lineJoin;
        ctx.stroke();
      }
    }
  });

  // --- Compact geometry (territoire.mapping.encode) ---------------------------------------------
  function Geo(g) {
    var i, fp = [0], pr = [0], rp = [0];
    for (i = 0; i < g.objets.length; i++) { fp.push(fp[i] + g.objets[i]); }
    for (i = 0; i < g.parties.length; i++) { pr.push(pr[i] + g.parties[i]); }
    for (i = 0; i < g.anneaux.length; i++) { rp.push(rp[i] + g.anneaux[i]); }
    this.g = g; this.fp = fp; this.pr = pr; this.rp = rp;
  }
  Geo.prototype.latlngs = function (i) {
    var g = this.g, s = g.echelle, out = [], p, r, k;
    for (p = this.fp[i]; p < this.fp[i + 1]; p++) {
      var poly = [];
      for (r = this.pr[p]; r < this.pr[p + 1]; r++) {
        var ring = [], x = 0, y = 0;
        for (k = this.rp[r]; k < this.rp[r + 1]; k++) {
          x += g.xy[2 * k]; y += g.xy[2 * k + 1];
          ring.push([y / s, x / s]);
        }
        poly.push(ring);
      }
      out.push(poly);
    }
    return out;
  };

  function pane(name, z, interactive) {
    var p = map.createPane(name);
    p.style.zIndex = z;
    if (!interactive) { p.style.pointerEvents = "none"; }
    return L.canvas({pane: name, padding: 0.3});
  }
  var rCommunes = pane("territoire-communes", 400, true);
  var rSynthese = pane("territoire-synthese", 405, true);
  var rContours = pane("territoire-contours", 420, false);

  // --- Communes --------------------------------------------------------------------------------
  function communeStyle(i) {
    var t = C.teinte[i], a = D.plan ? C.action[i] : -1;
    var s = {renderer: rCommunes, weight: 0.6, color: "#666666", fillOpacity: 0.75,
             fillColor: t >= 0 ? D.teintes[t] : "#ffffff"};
    if (D.plan) { s.fillOpacity = (a === 0 || a === 1) ? 0.9 : 0.45; }
    if (a === 0) { s.color = "#000000"; s.weight = 1.5; s.dashArray = "4 3"; }
    if (C.zone[i] >= 0 || t < 0) { s.fillColor = "#ffffff"; s.fillOpacity = 1; s.motif = "hachures"; }
    if ((C.cpts[i].length > 1 && !C.partagee[i]) || a === 2) { s.motif = "croisillons"; s.color = D.style.chevauchement_bord; s.weight = 2; }
    else if (C.partagee[i]) { s.motif = "rayures"; s.color = D.style.cpts_bord; s.weight = 1.5; }
    return s;
  }
  function cptsNames(i) { return C.cpts[i].map(function (n) { return D.cpts[n - 1].nom; }); }
  function communeRows(i) {
    var z = C.zone[i], rows = [["Code INSEE", C.code[i]], ["Population", fmt(C.pop[i]) + " hab."]];
    if (C.cpts[i].length) {
      if (C.parts[i].length) {
        rows.push([C.partagee[i] ? "CPTS (commune partagée)" : "CPTS (parts en excès)", cptsNames(i).map(function (n, k) {
          var share = parseFloat(C.parts[i][k].replace(",", ".")) / 100;
          return n + " : " + C.parts[i][k] + " de la population (" + fmt(Math.round(share * C.pop[i])) + " hab.)";
        }).join(" | ")]);
      } else {
        rows.push([C.cpts[i].length > 1 ? "CPTS (plusieurs)" : "CPTS", cptsNames(i).join(" | ")]);
      }
      rows.push(["N° sur la carte", C.cpts[i].join(", ")]);
    } else {
      rows.push(["CPTS", z >= 0 ? "aucune : zone blanche " + D.zones[z].id : "aucune"]);
    }
    if (!D.plan) { rows.push(["Statut", C.statut[i] >= 0 ? D.statuts[C.statut[i]] : "Aucune CPTS"]); }
    if (D.plan && C.action[i] >= 0) { rows.push(["Proposition", D.actions[C.action[i]]]); }
    return rows;
  }
  function cptsTable(n) {
    var c = D.cpts[n - 1];
    return infoTable(c.fiche, "n° " + c.numero + " — " + c.nom);
  }
  function communePopup(i, latlng) {
    var box = node("div");
    C.cpts[i].forEach(function (n) { box.appendChild(cptsTable(n)); });
    if (C.zone[i] >= 0) { box.appendChild(infoTable([["Zone blanche", D.zones[C.zone[i]].texte]], C.nom[i])); }
    if (!box.firstChild) { box.appendChild(infoTable(communeRows(i), C.nom[i] + " (" + C.code[i] + ")")); }
    L.popup({maxWidth: 460, autoPanPadding: [20, 20]}).setLatLng(latlng).setContent(box).openOn(map);
  }
  var geoCommunes = new Geo(C.geo), groups = {}, communes = L.layerGroup();
  function communeLayer(i) {
    var l = L.polygon(geoCommunes.latlngs(i), communeStyle(i));
    l.feature = {properties: {kind: "commune", code: C.code[i]}};
    l.bindTooltip(function () { return infoTable(communeRows(i), C.nom[i]); }, {sticky: true});
    l.on("click", function (e) { communePopup(i, e.latlng); });
    return l;
  }
  function depGroup(d) {
    if (!groups[d.code]) {
      var g = L.layerGroup();
      for (var i = d.debut; i < d.fin; i++) { g.addLayer(communeLayer(i)); }
      groups[d.code] = g;
    }
    return groups[d.code];
  }

  // --- CPTS, white zones, départements --------------------------------------------------------
  var geoCpts = new Geo(D.cpts_geo), outlines = L.layerGroup(), fills = L.layerGroup();
  var geoCptsBas = large ? new Geo(D.cpts_geo_bas) : null, geoZonesBas = large ? new Geo(D.zones_geo_bas) : null;
  var cptsLayers = D.cpts.map(function (c, i) {
    var ll = geoCpts.latlngs(i);
    var l = L.polygon(ll, {renderer: rContours, fill: false, weight: c.imbriquee ? 3.5 : 3, color: c.contour,
                           dashArray: c.nouvelle ? "10 6" : (c.imbriquee ? "2 5" : null), interactive: false});
    l.feature = {properties: {kind: "cpts", cpts: c.nom}};
    outlines.addLayer(l);
    if (large) {
      var f = L.polygon(geoCptsBas.latlngs(i), {renderer: rSynthese, weight: 1.5, color: D.style.cpts_bord,
                                                fillColor: c.remplissage, fillOpacity: 0.75});
      f.bindTooltip(node("b", null, "n° " + c.numero + " — " + c.nom), {sticky: true});
      f.on("click", function (e) { choose(c.numero, e.latlng); });
      fills.addLayer(f);
    }
    return l;
  });
  var geoZones = new Geo(D.zones_geo), zones = L.layerGroup();
  D.zones.forEach(function (z, i) {
    var ll = geoZones.latlngs(i);
    zones.addLayer(L.polygon(ll, {renderer: rContours, fill: false, weight: 3, color: D.style.zone_bord,
                                  dashArray: "9 5", interactive: false}));
    if (large) {
      var f = L.polygon(geoZonesBas.latlngs(i), {renderer: rSynthese, weight: 2, color: D.style.zone_bord,
                                                 fillColor: "#ffffff", fillOpacity: 1, motif: "hachures"});
      f.bindTooltip(node("b", null, z.texte), {sticky: true});
      fills.addLayer(f);
    }
  });
  var geoLimites = new Geo(D.limites), limites = L.layerGroup();
  D.departements.forEach(function (d, i) {
    limites.addLayer(L.polygon(geoLimites.latlngs(i), {renderer: rContours, fill: false, weight: 2.5,
                                                       color: D.style.departement_bord, dashArray: "7 5", interactive: false}));
  });

  // Communes where the reader looks (national maps: only at detail zoom); CPTS fills elsewhere.
  // Départements to draw are decoded one per frame, so zooming in never freezes the page.
  var pending = [], pumping = false;
  function pump() {
    var d = pending.shift();
    if (!d) { pumping = false; return; }
    communes.addLayer(depGroup(d));
    requestAnimationFrame(pump);
  }
  function syncDetail() {
    var detail = map.getZoom() >= D.zoom_detail, view = map.getBounds().pad(0.1);
    pending = [];
    D.departements.forEach(function (d) {
      var want = detail && (!large || view.intersects(d.bornes)), g = groups[d.code];
      if (want && !(g && communes.hasLayer(g))) {
        if (large) { pending.push(d); } else { communes.addLayer(depGroup(d)); }
      }
      if (!want && g && communes.hasLayer(g)) { communes.removeLayer(g); }
    });
    if (pending.length && !pumping) { pumping = true; requestAnimationFrame(pump); }
    // National view: filled CPTS and zones with their own light outlines; detailed outlines on zoom.
    if (large && detail && map.hasLayer(fills)) { map.removeLayer(fills); map.addLayer(outlines); map.addLayer(zones); }
    if (large && !detail && !map.hasLayer(fills)) { map.addLayer(fills); map.removeLayer(outlines); map.removeLayer(zones); }
  }

  var labelsOn = {numeros: L.layerGroup(), villes: L.layerGroup()};
  var overlays = {"Communes": communes, "Zones blanches (contours)": zones, "Contours des CPTS": outlines,
                  "Numéros et noms des CPTS": labelsOn.numeros, "Noms des villes": labelsOn.villes,
                  "Départements": limites};
  Object.keys(overlays).forEach(function (k) { overlays[k].addTo(map); });
  L.control.layers(null, overlays, {collapsed: true, position: "topright"}).addTo(map);
  L.control.scale({imperial: false, maxWidth: 160}).addTo(map);
  var Sources = L.Control.extend({options: {position: "bottomright"}, onAdd: function () {
    return node("div", "leaflet-control-attribution leaflet-control", D.sources);
  }});
  new Sources().addTo(map);

  // --- Header (outside the map: popups never go under the title) and side panel ---------------
  var header = node("div", "territoire-entete"), texts = node("div", "textes"), buttons = node("div", "territoire-boutons");
  texts.appendChild(node("h1", "territoire-titre", D.titre));
  texts.appendChild(node("div", "territoire-sous-titre", D.sous_titre));
  header.appendChild(texts);
  header.appendChild(buttons);
  function button(label, title, fn) {
    var b = node("button", null, label);
    b.type = "button"; b.title = title;
    b.addEventListener("click", fn);
    buttons.appendChild(b);
    return b;
  }
  button("Liste", "Afficher ou masquer la liste des CPTS", function () {
    document.body.classList.toggle("sans-panneau"); layout();
  });
  button("Plein écran", "Afficher la carte en plein écran", function () {
    if (document.fullscreenElement) { document.exitFullscreen(); } else if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen();
    }
  });
  button("Imprimer", "Imprimer la carte (A4 paysage)", function () { window.print(); });
  document.body.insertBefore(header, document.body.firstChild);
  var panel = node("div", "territoire-panneau");
  document.body.appendChild(panel);
  function layout() {
    document.documentElement.style.setProperty("--entete", header.offsetHeight + "px");
    map.invalidateSize({pan: false});
  }
  window.addEventListener("resize", layout);
  document.addEventListener("fullscreenchange", layout);
  window.addEventListener("beforeprint", layout);

  // Search a commune by name or code, accents and hyphens ignored; works offline.
  function norm(s) {
    return String(s).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[-'’\s]+/g, " ").trim();
  }
  var searchBox = node("div", "recherche"), input = node("input"), results = node("ul"), normNames = null;
  input.type = "search"; input.placeholder = "Rechercher une commune"; input.setAttribute("aria-label", "Rechercher une commune");
  searchBox.appendChild(input); searchBox.appendChild(results); panel.appendChild(searchBox);
  function communeLatLng(i) { return L.latLng(C.y[i] / C.geo.echelle, C.x[i] / C.geo.echelle); }
  function showCommune(i) {
    results.textContent = "";
    var ll = communeLatLng(i);
    map.setView(ll, Math.max(map.getZoom(), large ? D.zoom_detail + 1.5 : 12), {animate: false});
    syncDetail();
    L.popup({maxWidth: 460}).setLatLng(ll).setContent(infoTable(communeRows(i), C.nom[i])).openOn(map);
  }
  input.addEventListener("input", function () {
    var q = norm(input.value), hits = [];
    results.textContent = "";
    if (q.length < 2) { return; }
    normNames = normNames || C.nom.map(norm);
    for (var i = 0; i < normNames.length; i++) {
      var k = normNames[i].indexOf(q);
      if (k >= 0 || C.code[i] === q) { hits.push([k === 0 ? 0 : 1, -C.pop[i], i]); }
    }
    hits.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; });
    hits.slice(0, 8).forEach(function (h) {
      var li = node("li", null, C.nom[h[2]] + " (" + C.code[h[2]] + ")");
      li.addEventListener("click", showCommune.bind(null, h[2]));
      results.appendChild(li);
    });
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && results.firstChild) { results.firstChild.click(); }
  });

  var legend = node("details");
  legend.open = true;
  legend.appendChild(node("summary", null, "Légende"));
  D.legende.forEach(function (r) {
    var row = node("div", "lg-row"), box = node("span", r.ligne ? "lg-line" : "lg-box");
    if (r.ligne) {
      box.style.borderTop = r.ligne;
    } else {
      box.style.backgroundColor = r.fond;
      box.style.border = "3px " + (r.tirets ? "dashed " : "solid ") + r.bord;
      if (r.motif) {
        box.style.backgroundImage = "repeating-linear-gradient(" + (r.motif === "rayures" ? "90deg" : "45deg")
          + ", transparent 0 4px, " + r.bord + " 4px 6px)"
          + (r.motif === "croisillons" ? ", repeating-linear-gradient(-45deg, transparent 0 4px, " + r.bord + " 4px 6px)" : "");
      }
    }
    row.appendChild(box);
    row.appendChild(document.createTextNode(r.texte));
    legend.appendChild(row);
  });
  panel.appendChild(legend);

  // Every CPTS, numbered as on the map: a click zooms to it and opens its card.
  var rows = [], selected = null;
  function choose(n, latlng) {
    var c = D.cpts[n - 1];
    if (selected) { selected.setStyle({weight: D.cpts[selected.numero - 1].imbriquee ? 3.5 : 3}); }
    selected = cptsLayers[n - 1]; selected.numero = n;
    selected.setStyle({weight: 7});
    rows.forEach(function (r, k) { r.classList.toggle("choisie", k === n - 1); });
    if (!latlng) { map.fitBounds(c.bornes, {padding: [40, 40], animate: false, maxZoom: 12}); syncDetail(); }
    L.popup({maxWidth: 460}).setLatLng(latlng || c.point).setContent(cptsTable(n)).openOn(map);
  }
  panel.appendChild(node("h2", null, (D.plan ? "CPTS proposées (" : "CPTS (") + D.cpts.length + ")"));
  D.cpts.forEach(function (c) {
    var row = node("div", "ligne cpts-ligne"), body = node("div");
    row.appendChild(node("span", "puce", c.numero));
    body.appendChild(node("div", "nom", c.nom));
    body.appendChild(node("div", "resume", c.resume));
    row.appendChild(body);
    row.addEventListener("click", choose.bind(null, c.numero, null));
    panel.appendChild(row);
    rows.push(row);
  });
  if (D.zones.length) {
    panel.appendChild(node("h2", null, "Zones blanches (" + D.zones.length + ")"));
    D.zones.forEach(function (z) {
      var row = node("div", "ligne zone-ligne");
      row.appendChild(node("span", "puce puce-zone", "ZB"));
      row.appendChild(node("div", "resume", z.texte));
      row.addEventListener("click", function () { map.fitBounds(z.bornes, {padding: [30, 30], animate: false}); });
      panel.appendChild(row);
    });
  }

  // --- Labels: CPTS numbers and white zones always; CPTS names, then towns where they fit -------
  // Labels let the mouse through to the communes (tooltips everywhere); the list selects a CPTS.
  var labelPane = map.createPane("territoire-etiquettes");
  labelPane.style.zIndex = 450;
  labelPane.classList.add("territoire-etiquettes");
  var measure = document.createElement("canvas").getContext("2d"), widths = {};
  function width(text, font) {
    var k = font + "|" + text;
    if (!(k in widths)) { measure.font = font; widths[k] = Math.ceil(measure.measureText(text).width); }
    return widths[k];
  }
  // Priority: numbers and white zones (most populated first), CPTS names, towns (by population).
  var items = [], byPop = function (a, b) { return b.pop - a.pop; };
  var nums = D.cpts.map(function (c) {
    return {kind: "numero", cls: "cpts-numero", text: String(c.numero), ll: L.latLng(c.point), n: c.numero, pop: c.population};
  }).sort(byPop);
  var zoneItems = D.zones.map(function (z) {
    return {kind: "zone", cls: "zone-nom", text: z.texte, ll: L.latLng(z.point), pop: z.population};
  }).sort(byPop);
  var nameItems = nums.map(function (it) {
    return {kind: "nom", cls: "cpts-nom", text: D.cpts[it.n - 1].nom, ll: it.ll};
  });
  items = nums.concat(zoneItems, nameItems, D.villes.map(function (v) {
    return {kind: "ville", cls: "ville-nom", text: v[2], ll: L.latLng(v[0], v[1])};
  }));
  function element(it) {
    if (!it.el) {
      it.el = node("div", "etiquette " + it.cls, it.text);
      labelPane.appendChild(it.el);
    }
    return it.el;
  }
  function hide(it) { if (it.el) { it.el.style.visibility = "hidden"; } }
  function place() {
    var size = map.getSize(), placed = [], showNums = map.hasLayer(labelsOn.numeros), showTowns = map.hasLayer(labelsOn.villes);
    var origin = map.containerPointToLayerPoint([0, 0]);
    function free(b) {
      for (var k = 0; k < placed.length; k++) {
        var p = placed[k];
        if (b[0] < p[2] && b[2] > p[0] && b[1] < p[3] && b[3] > p[1]) { return false; }
      }
      return true;
    }
    var numberAt = {}, inView = {numero: 0, zone: 0}, view = map.getBounds();
    nums.concat(zoneItems).forEach(function (it) { if (view.contains(it.ll)) { inView[it.kind] += 1; } });
    // Numbers and zones are never hidden while few enough to fit; on a national view they declutter too.
    var always = {numero: inView.numero <= 60, zone: inView.zone <= 25};
    items.forEach(function (it) {
      var on = it.kind === "ville" ? showTowns : (it.kind === "zone" ? map.hasLayer(zones) || map.hasLayer(fills) : showNums);
      var p = on ? map.latLngToContainerPoint(it.ll) : null;
      if (!p || p.x < -50 || p.y < -50 || p.x > size.x + 50 || p.y > size.y + 50) { hide(it); return; }
      var font = it.kind === "ville" ? "italic 16px sans-serif" : "bold 16px sans-serif";
      var w = Math.max(it.kind === "numero" ? 28 : 0, width(it.text, font) + (it.kind === "numero" ? 10 : (it.kind === "zone" ? 16 : 6)));
      var h = it.kind === "numero" ? 28 : (it.kind === "zone" ? 26 : 20), x = p.x - w / 2, y = p.y - h / 2, b;
      if (it.kind === "nom") {  // under its number; no number shown, no name
        var q = numberAt[it.text];
        if (!q) { hide(it); return; }
        y = q[3] + 4;
      }
      if (always[it.kind]) {  // moved aside when the place is taken
        var d = it.kind === "numero" ? 30 : h + 4;
        var offs = [[0, 0], [d, 0], [-d, 0], [0, d], [0, -d], [d, d], [-d, -d], [d, -d], [-d, d], [0, 2 * d], [0, -2 * d]];
        for (var k = 0; k < offs.length; k++) {
          b = [x + offs[k][0], y + offs[k][1], x + offs[k][0] + w, y + offs[k][1] + h];
          if (free(b)) { break; }
        }
        if (it.kind === "numero") { numberAt[D.cpts[it.n - 1].nom] = b; }
      } else if (it.kind === "numero" || it.kind === "zone") {
        b = [x, y, x + w, y + h];
        if (!free(b)) { hide(it); return; }
        if (it.kind === "numero") { numberAt[D.cpts[it.n - 1].nom] = b; }
      } else {
        b = [x, y, x + w, y + h];
        if (b[0] < 0 || b[1] < 0 || b[2] > size.x || b[3] > size.y || !free(b)) { hide(it); return; }
      }
      placed.push([b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2]);
      var el = element(it);
      el.style.visibility = "visible";
      L.DomUtil.setPosition(el, L.point(b[0] + origin.x, b[1] + origin.y));
      el.style.width = it.kind === "numero" ? w + "px" : "";
    });
  }
  map.on("zoomstart", function () { labelPane.style.display = "none"; });
  map.on("zoomend moveend overlayadd overlayremove resize", function () {
    syncDetail();
    labelPane.style.display = "";
    place();
  });

  // --- Views: métropole by default, each overseas département a click away --------------------
  if (D.vues.length > 1) {
    var views = node("div", "territoire-vues");
    D.vues.forEach(function (v) {
      var b = node("button", null, v.nom);
      b.type = "button";
      b.addEventListener("click", function () { map.fitBounds(v.bornes, {animate: false}); });
      views.appendChild(b);
    });
    L.DomEvent.disableClickPropagation(views);
    map.getContainer().appendChild(views);
  }

  layout();
  map.fitBounds(D.vues[0].bornes, {animate: false});
  syncDetail();
  place();
  window.territoireCarte = {map: map, couches: overlays, choisir: choose, placer: place, rechercher: function (q) {
    input.value = q; input.dispatchEvent(new Event("input"));
    return Array.prototype.map.call(results.children, function (li) { return li.textContent; });
  }};
})();
