"""Meeting pack: ``rapport.xlsx`` and ``rapport.html``.

The workbook holds the tables, formatted; the report one printable page per
département: key figures, static map, the tables that matter.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import escaping, settings
from .errors import severity
from .formats import nombre, pourcentage

if TYPE_CHECKING:
    from .render import MapData

#: French column headers of the workbook.
HEADERS = {
    "cpts": "CPTS", "statut": "Statut", "nb_communes": "Nombre de communes", "population": "Population",
    "taille": "Taille", "financement_fonctionnement": "Financement de fonctionnement (€/an)",
    "financement_max_annuel": "Financement ACI maximal (€/an)", "departements": "Départements",
    "nb_morceaux": "Morceaux", "enclaves": "Enclaves", "communes_en_chevauchement": "Communes en chevauchement",
    "ecart_seuil": "Écart au seuil le plus proche (hab.)", "code_commune": "Code INSEE", "nom": "Commune",
    "departement": "Département", "nb_cpts": "Nombre de CPTS", "zone_blanche": "Zone blanche",
    "zone_blanche_id": "Zone blanche n°", "epci_siren": "EPCI (SIREN)", "epci_nom": "EPCI",
    "superficie_km2": "Superficie (km²)", "densite": "Densité (hab./km²)", "typologie": "Typologie",
    "communes": "Codes des communes", "noms": "Communes", "cpts_voisines": "CPTS voisines",
    "cpts_a": "CPTS A", "cpts_b": "CPTS B", "action": "Proposition", "cpts_cible": "CPTS proposée",
    "alternative": "Autre possibilité", "motif": "Motif",
    "part_couverte": "Part de la population couverte", "parts_population": "Parts de population par CPTS",
    "communes_partagees": "Communes partagées", "part_en_exces": "Part en excès",
    "part_population": "Part de la population", "variante": "Variante",
    "nb_communes_disputees": "Communes disputées", "population_disputee": "Population disputée",
    "option": "Option", "population_a": "Population A", "taille_a": "Taille A", "population_b": "Population B",
    "taille_b": "Taille B", "coupe_une_cpts": "Coupe une CPTS", "recommandee": "Recommandée", "remarque": "Remarque", "description": "Règles", "nb_nouvelles_cpts": "Nouvelles CPTS",
    "population_min": "Population min.", "population_mediane": "Population médiane",
    "population_max": "Population max.", "nb_epci_scindes_apres": "EPCI scindés",
    "compacite_moyenne_apres": "Compacité moyenne", "financement_max_total_apres": "Financement ACI max. total (€/an)",
    "nb_changements_taille": "Changements de taille", "taux_couverture_apres": "Couverture après",
    "taille_1": "Taille 1", "taille_2": "Taille 2", "taille_3": "Taille 3", "taille_4": "Taille 4",
    "nouvelle": "Nouvelle CPTS", "population_avant": "Population avant", "population_apres": "Population après",
    "taille_avant": "Taille avant", "taille_apres": "Taille après",
    "financement_max_avant": "Financement ACI max. avant (€/an)", "financement_max_apres": "Financement ACI max. après (€/an)",
    "financement_fonctionnement_avant": "Fonctionnement avant (€/an)",
    "financement_fonctionnement_apres": "Fonctionnement après (€/an)", "nb_morceaux_apres": "Morceaux après",
    "compacite_apres": "Compacité après", "croissance": "Croissance de la population",
    "forte_croissance": "À valider avec la CPTS (forte croissance)", "cpts_avant": "CPTS avant",
    "cpts_apres": "CPTS après", "evenement": "Changement", "statut_avant": "Statut avant",
    "statut_apres": "Statut après", "evolution_statut": "Évolution du statut", "communes_ajoutees": "Communes ajoutées",
    "communes_retirees": "Communes retirées", "ecart_financement_max": "Écart de financement ACI max. (€/an)",
    "zone_blanche_avant": "Zone blanche avant", "zone_blanche_apres": "Zone blanche après",
}
SHEETS = [("Synthèse", None), ("CPTS", "cpts.csv"), ("Communes", "communes.csv"),
          ("Chevauchements", "chevauchements.csv"), ("Zones blanches", "zones_blanches.csv"),
          ("Propositions", "propositions.csv"), ("Avant - après", "cpts_avant_apres.csv"), ("Variantes", "variantes.csv"),
          ("Options de chevauchement", "options_chevauchements.csv"),
          ("Indicateurs", "indicateurs.csv"), ("Évolution des CPTS", "comparaison_cpts.csv"), ("Évolution des communes", "comparaison_communes.csv")]
FIXED_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def _synthesis_rows(synthese: Mapping[str, Any]) -> list[tuple[str, object]]:
    rows = [("Départements", ", ".join(synthese["perimetre"])),
            ("Population (millésime)", synthese["millesime_population"]),
            ("Barème ACI", synthese.get("bareme", "")),
            ("Population totale", synthese["population_totale"]),
            ("Population couverte par une CPTS", synthese["population_couverte"]),
            ("Taux de couverture", synthese["taux_couverture"]),
            ("Taux de couverture par une CPTS signataire ACI", synthese["taux_couverture_aci"])]
    for s, v in synthese["population_couverte_par_statut"].items():
        rows.append((f"Population couverte — {settings.STATUS_LABELS.get(s, s)}", v))
    rows += [("Nombre de CPTS", synthese["nb_cpts"])]
    rows += [(f"CPTS de taille {t}", n) for t, n in synthese["nb_cpts_par_taille"].items()]
    rows += [("Communes en chevauchement", synthese["nb_communes_en_chevauchement"]),
             ("Population en chevauchement", synthese["population_en_chevauchement"]),
             ("Zones blanches", synthese["nb_zones_blanches"]),
             ("Communes en zone blanche", synthese["nb_communes_zones_blanches"]),
             ("Population en zone blanche", synthese["population_zones_blanches"])]
    rows += [(f"Avertissement {i + 1}", w) for i, w in enumerate(synthese["avertissements"])]
    return rows


def workbook(synthese: Mapping[str, Any], tables: dict[str, pd.DataFrame]) -> bytes:
    """The formatted workbook (French headers, thousands separators, frozen headers, fitted widths).

    Byte-identical for identical inputs (fixed zip dates and document properties).
    """
    wb = Workbook()
    ws = wb.active
    ws.title = "Synthèse"
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    ws.append(["Indicateur", "Valeur"])
    for label, value in _synthesis_rows(synthese):
        ws.append([label, _cell(value)])
        cell = ws.cell(ws.max_row, 2)
        if isinstance(value, float):
            cell.number_format = "0.0%"
        elif isinstance(value, int):
            cell.number_format = "#,##0"
    _finish_sheet(ws, bold, head_fill)
    for title, name in SHEETS[1:]:
        if name not in tables or tables[name].empty:  # no empty sheet: an absent table means « none »
            continue
        df = in_words(tables[name])
        ws = wb.create_sheet(title)
        ws.append([HEADERS.get(c, c) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        for j, col in enumerate(df.columns, start=1):
            if pd.api.types.is_integer_dtype(df[col]) or col in ("population",):
                fmt = "#,##0"
            elif pd.api.types.is_float_dtype(df[col]):
                fmt = "#,##0.00"
            else:
                continue
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        _finish_sheet(ws, bold, head_fill)
    warnings = sorted(dict.fromkeys(synthese.get("avertissements", [])), key=severity)
    if warnings:  # the full list: the terminal shows only the first ones
        ws = wb.create_sheet("Avertissements")
        ws.append(["Avertissement"])
        for line in warnings:
            ws.append([_cell(line)])
        _finish_sheet(ws, bold, head_fill)
    wb.properties.creator = "territoire"
    buf = io.BytesIO()
    wb.save(buf)
    return _stable_zip(buf.getvalue())


def _cell(v: object) -> object:
    """A workbook value: text without the characters XLSX forbids, numpy scalars as Python ones."""
    if isinstance(v, str):
        return escaping.xlsx_text(v)
    if v is None or pd.isna(v):
        return None
    return v.item() if hasattr(v, "item") else v


def table_workbook(df: pd.DataFrame, title: str) -> bytes:
    """One table as a one-sheet workbook, with the table's own column names (read back by territoire)."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    _finish_sheet(ws, Font(bold=True), PatternFill("solid", fgColor="DDE6F0"))
    wb.properties.creator = "territoire"
    buf = io.BytesIO()
    wb.save(buf)
    return _stable_zip(buf.getvalue())


def _finish_sheet(ws: Any, bold: Font, fill: PatternFill) -> None:
    # openpyxl takes any text starting with "=" for a formula: input names are text, never formulas.
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wrap = Alignment(wrap_text=True, vertical="top")
    for j, col in enumerate(ws.iter_cols(min_row=1, max_row=min(ws.max_row, 500)), start=1):
        width = max((len(str(c.value)) for c in col if c.value is not None), default=8)
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
        if width > 58:  # long texts (motives, lists of communes) wrap within the column
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.alignment = wrap


def _stable_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2020-01-01T00:00:00Z", content)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, content)
    return out.getvalue()


_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ titre }}</title>
<style>
body{font:12px/1.35 sans-serif;margin:0;color:#111}
section{padding:14mm 12mm;page-break-after:always}
h1{font-size:18px;margin:0 0 2px} h2{font-size:14px;margin:10px 0 4px}
.sous{color:#444;margin-bottom:8px}
.chiffres{display:grid;grid-template-columns:repeat(4,1fr);gap:6px;margin:8px 0}
.chiffre{border:1px solid #bbb;border-radius:4px;padding:6px}
.chiffre b{display:block;font-size:16px}
table{border-collapse:collapse;width:100%;margin-top:4px}
th,td{border:1px solid #ccc;padding:2px 4px;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap} th{background:#dde6f0}
img{max-width:100%;max-height:110mm;display:block;margin:6px auto}
.note{color:#555;font-size:10px}
@page{size:A4 portrait;margin:0}
</style></head><body>
{% for dep in departements %}
<section>
<h1>{{ dep.titre }}</h1>
<div class="sous">{{ sous_titre }}</div>
<div class="chiffres">
{% for label, value in dep.chiffres %}<div class="chiffre">{{ label }}<b>{{ value }}</b></div>{% endfor %}
</div>
{% if dep.carte %}<img alt="Carte" src="data:image/png;base64,{{ dep.carte }}">{% else %}<div class="note">Carte : voir la première page, carte.png et carte.html.</div>{% endif %}
{% for t in dep.tables %}
<h2>{{ t.titre }}</h2>
{% if t.lignes %}<table><tr>{% for h in t.entetes %}<th>{{ h }}</th>{% endfor %}</tr>
{% for ligne in t.lignes %}<tr>{% for v, num in ligne %}<td{% if num %} class="n"{% endif %}>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>{% if t.reste %}<div class="note">… et {{ t.reste }} autre(s) ligne(s) : voir rapport.xlsx.</div>{% endif %}
{% else %}<div class="note">Aucune.</div>{% endif %}
{% endfor %}
<div class="note">Sources : INSEE (COG, populations), IGN ADMIN EXPRESS, DGCL ; calculs : territoire{% if bareme %} ; barème ACI : {{ bareme }}{% endif %}.</div>
</section>
{% endfor %}
</body></html>
""")


def _n(v: object) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "—"
    if isinstance(v, float) and not float(v).is_integer():
        return nombre(v, 1)
    return nombre(v)


#: Yes/no values as the CSV files write them, and as a reader says them.
YES_NO = {True: "oui", False: "non", "true": "oui", "false": "non", "True": "oui", "False": "non"}


def in_words(df: pd.DataFrame) -> pd.DataFrame:
    """Statuses, proposed actions and yes/no as a reader says them (« Signataire ACI », « oui »), not as codes."""
    out = df.copy()
    for col in out.columns:
        if col.startswith("statut") or col == "action":
            labels = settings.ACTION_LABELS if col == "action" else settings.STATUS_LABELS
            out[col] = out[col].map(lambda v, lab=labels: lab.get(v, v) if isinstance(v, str) else v)
        elif pd.api.types.is_bool_dtype(out[col]) or (
                not pd.api.types.is_numeric_dtype(out[col]) and out[col].notna().any()
                and out[col].dropna().map(lambda v: isinstance(v, (str, bool)) and v in YES_NO).all()):
            out[col] = out[col].map(lambda v: YES_NO.get(v, v)).astype(object)
    return out


def _table(title: str, df: pd.DataFrame, cols: list[str], limit: int | None = None,
           totals: tuple[str, ...] = ()) -> dict:
    """A report table: complete unless ``limit`` (the rest is in the workbook), with a totals row for ``totals``."""
    sub = in_words(df[cols] if limit is None else df[cols].head(limit))
    def num(v: object) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))

    lines = [[(_n(v) if num(v) else ("" if pd.isna(v) else str(v)), num(v)) for v in row]
             for row in sub.itertuples(index=False)]
    if totals and len(df):
        lines.append([(_n(pd.to_numeric(df[c], errors="coerce").sum()), True) if c in totals else
                      ("Total" if i == 0 else "", False) for i, c in enumerate(cols)])
    return {"titre": title, "entetes": [HEADERS.get(c, c) for c in cols], "lignes": lines,
            "reste": 0 if limit is None else max(len(df) - limit, 0)}


def _touches(departements: pd.Series, code: str) -> pd.Series:
    return departements.fillna("").astype(str).str.split(", ").map(lambda d: code in d).astype(bool)


def html_report(synthese: Mapping[str, Any], tables: dict[str, pd.DataFrame], titre: str, sous_titre: str,
                png: bytes | None, dep_maps: dict[str, bytes] | None = None) -> str:
    """One printable page per département of the scope, with its own map.

    ``dep_maps``: the map of each département; without it, the scope's map
    is printed on the first page only (never repeated on each page).
    """
    cpts = tables["cpts.csv"]
    zones = tables["zones_blanches.csv"]
    over = tables["chevauchements.csv"]
    props = tables.get("propositions.csv")
    deps: list[dict] = []
    for code, fig in synthese["par_departement"].items():
        c = cpts[_touches(cpts["departements"], code)]
        z = zones[_touches(zones["departements"], code)]
        z = z.sort_values("population", ascending=False)
        o = over[over["departement"] == code]
        chiffres = [("Population", _n(fig["population_totale"])),
                    ("Couverte par une CPTS", pourcentage(fig["taux_couverture"])),
                    ("Couverte par une CPTS signataire ACI", pourcentage(fig["taux_couverture_aci"])),
                    ("CPTS", _n(fig["nb_cpts"])),
                    ("Communes en chevauchement", _n(fig["nb_communes_en_chevauchement"])),
                    ("Zones blanches", _n(fig["nb_zones_blanches"])),
                    ("Population en zone blanche", _n(fig["population_zones_blanches"])),
                    ("Tailles 1/2/3/4", "/".join(str(fig["nb_cpts_par_taille"][t]) for t in "1234"))]
        tabs = [_table("CPTS", c, ["cpts", "statut", "nb_communes", "population", "taille",
                                   "financement_max_annuel", "nb_morceaux"],
                       totals=("nb_communes", "population", "financement_max_annuel")),
                _table("Communes en chevauchement", o, ["code_commune", "nom", "population", "cpts"]),
                _table("Zones blanches (les plus peuplées d'abord)", z, ["zone_blanche_id", "nb_communes", "population",
                                                                         "typologie", "cpts_voisines"],
                       totals=("nb_communes", "population"))]
        if tables.get("indicateurs.csv") is not None:
            ind = tables["indicateurs.csv"]
            rows = ind[_touches(ind["departements"], code) | ind["niveau"].isin(["Région", "France"])]
            tabs.append(_table("Indicateurs (secret statistique appliqué)", rows, list(ind.columns.drop("departements"))))
        if props is not None:
            p = props[props["code_commune"].str.startswith(code)]
            summary = (p.groupby(["action", "cpts_cible"], sort=True)
                       .agg(communes=("code_commune", "size"), population=("population", "sum")).reset_index())
            summary.columns = ["action", "cpts_cible", "nb_communes", "population"]
            tabs.append(_table("Propositions", summary, ["action", "cpts_cible", "nb_communes", "population"],
                               totals=("nb_communes", "population")))
        before_after = tables.get("cpts_avant_apres.csv")
        if before_after is not None and not deps:  # the changes first: new CPTS, then tailles that change
            ba = before_after.assign(_ordre=np.where(before_after["nouvelle"].astype(bool), 1, np.where(
                before_after["taille_avant"].astype("Int64").fillna(-1)
                != before_after["taille_apres"].astype("Int64").fillna(-1), 0, 2)))
            ba = ba.sort_values(["_ordre", "cpts"], kind="stable")
            tabs.append(_table("CPTS avant → après (changements de taille d'abord, puis nouvelles CPTS)", ba,
                               ["cpts", "population_avant", "taille_avant", "financement_max_avant", "population_apres",
                                "taille_apres", "financement_max_apres"],
                               totals=("financement_max_avant", "financement_max_apres")))
        if tables.get("variantes.csv") is not None and len(tables["variantes.csv"]) > 1 and not deps:
            tabs.append(_table("Variantes du plan, côte à côte", tables["variantes.csv"],
                               ["variante", "nb_cpts", "nb_nouvelles_cpts", "population_min", "population_mediane",
                                "population_max", "nb_epci_scindes_apres", "financement_max_total_apres"]))
        image = (dep_maps or {}).get(code) or (png if not deps else None)
        place = f"{fig.get('nom', '')} ({code})"
        page_title = titre if titre.endswith(place) else f"{titre.split(' — ')[0]} — {place}"
        deps.append({"code": code, "nom": fig.get("nom", ""), "titre": page_title, "chiffres": chiffres, "tables": tabs,
                     "carte": base64.b64encode(image).decode() if image else ""})
    return _TEMPLATE.render(titre=titre, sous_titre=sous_titre, departements=deps, bareme=synthese.get("bareme", ""))


def meeting_pack(data: MapData, synthese: Mapping[str, Any], tables: dict[str, pd.DataFrame],
                 hors_ligne: bool = True, fond_de_carte: bool = False) -> dict[str, bytes]:
    """``carte.html``, ``carte.png``, ``rapport.xlsx`` and ``rapport.html`` for a map's content.

    ``hors_ligne`` changes nothing (maps are always self-contained).
    """
    from . import render

    layers = render.prepare(data)
    png = render.map_png(data, layers=layers)
    return {
        "carte.html": render.map_html(data, layers=layers, fond_de_carte=fond_de_carte).encode("utf-8"),
        "carte.png": png,
        "rapport.xlsx": workbook(synthese, tables),
        "rapport.html": html_report(synthese, tables, data.titre, data.sous_titre, png,
                                    departement_maps(data, synthese)).encode("utf-8"),
    }


#: Up to this many départements, each page of the report has the map of its own département.
MAX_DEPARTEMENT_MAPS = 13


def departement_maps(data: MapData, synthese: Mapping[str, Any]) -> dict[str, bytes]:
    """The map of each département of a scope of several (up to :data:`MAX_DEPARTEMENT_MAPS`)."""
    from dataclasses import replace

    from . import render

    deps = list(synthese["par_departement"])
    if not 1 < len(deps) <= MAX_DEPARTEMENT_MAPS:
        return {}
    out = {}
    for code, fig in synthese["par_departement"].items():
        com = data.communes[data.communes["departement"] == code]
        if com.empty:
            continue
        rest = data.sous_titre.split(" · ", 1)[1] if " · " in data.sous_titre else ""
        lead = (f"{pourcentage(fig['taux_couverture'])} de la population du département dans une CPTS"
                if not data.plan else data.sous_titre.split(" · ", 1)[0])
        sub = replace(data, communes=com, titre=f"{data.titre.split(' — ')[0]} — {fig.get('nom', '')} ({code})",
                      sous_titre=" · ".join(x for x in (lead, rest) if x))
        out[code] = render.map_png(sub)
    return out


def add_pdf(files: dict[str, bytes], wanted: bool) -> None:
    """``--pdf``: ``rapport.pdf``, ``rapport.html`` printed on A4 by the system's Chromium (offline).

    Outside the byte-identical guarantee (Chromium stamps its PDF). Without
    Chromium, a French error names the package to install.
    """
    import os
    import shutil
    import subprocess
    import tempfile

    from .errors import TerritoireError

    if not wanted or "rapport.html" not in files:
        return
    browser = (os.environ.get("TERRITOIRE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
               or shutil.which("google-chrome"))
    if not browser:
        raise TerritoireError("--pdf imprime le rapport avec Chromium, introuvable sur cette machine "
                              "(Debian, Ubuntu : apt-get install chromium ; ou TERRITOIRE_CHROMIUM=chemin).")
    with tempfile.TemporaryDirectory() as tmp:
        page, out = os.path.join(tmp, "rapport.html"), os.path.join(tmp, "rapport.pdf")
        with open(page, "wb") as fh:
            fh.write(files["rapport.html"])
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               "--disable-background-networking", f"--user-data-dir={os.path.join(tmp, 'profil')}",
               f"--print-to-pdf={out}", "file://" + page]
        done = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
        if done.returncode != 0 or not os.path.exists(out):
            raise TerritoireError(f"Chromium n'a pas pu imprimer le rapport en PDF (code {done.returncode}).")
        with open(out, "rb") as fh:
            files["rapport.pdf"] = fh.read()
