"""The ``territoire`` command line (messages in French).

Only the standard library is imported at module level: the scientific stack
loads inside :func:`main`, where an interruption (Ctrl-C, SIGTERM, SIGHUP)
is turned into one French line and a clean exit at any moment.
"""

from __future__ import annotations

import sys

try:  # Ctrl-C while Python loads the command: the same line and exit code as during the run
    import argparse
    import os
    import signal
    from collections.abc import Iterator
    from contextlib import contextmanager
    from pathlib import Path
    from typing import TYPE_CHECKING, Any

    from . import arguments, console, escaping, settings
    from .errors import MAX_WARNINGS_SHOWN, Journal, TerritoireError, checkpoint, severity
    from .formats import nombre as fmt
    from .formats import pourcentage as pct

    checkpoint("import")
except KeyboardInterrupt:
    sys.stderr.write("Interrompu par Ctrl-C : rien n'a été écrit.\n")
    raise SystemExit(130) from None

if TYPE_CHECKING:
    from .models import Population

# argparse's own words, in French.
_FR = {
    "usage: ": "usage : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "affiche cette aide et quitte",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (possibles : %(choices)s)",
    "expected one argument": "une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "show program's version number and exit": "affiche la version et quitte",
}


@contextmanager
def _in_french() -> Iterator[None]:
    """Argparse's own words in French, only while our parser works (argparse has no other hook)."""
    saved = argparse._  # type: ignore[attr-defined]
    argparse._ = lambda s: _FR.get(s, s)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = saved  # type: ignore[attr-defined]


class _Parser(argparse.ArgumentParser):
    """An argparse parser that speaks French, without changing argparse for anyone else."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with _in_french():
            super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        with _in_french():
            return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        with _in_french():
            return super().format_help()

    def format_usage(self) -> str:
        with _in_french():
            return super().format_usage()

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"Erreur : {message}\n")


def _print_journal(journal: Journal) -> None:
    if journal.infos:
        print("\nHarmonisations, réparations et choix :")
        for line in journal.infos:
            print(f"  - {line}")
    lines = sorted(dict.fromkeys(journal.avertissements), key=severity)  # once each, the most serious first
    if lines:
        print("\nAvertissements :")
        for line in lines[:MAX_WARNINGS_SHOWN]:
            print(f"  ! {line}")
        if len(lines) > MAX_WARNINGS_SHOWN:
            print(f"  … et {len(lines) - MAX_WARNINGS_SHOWN} autre(s) : liste complète dans synthese.json "
                  "(« avertissements ») et la feuille « Avertissements » du classeur.")


def _population(path: str | None) -> Population | None:
    from . import read

    return read.read_population(path) if path else None


def _warn_invisible_characters(names: Any, journal: Journal) -> None:
    """Names holding control characters: they are removed from the workbook, the PNG and the terminal."""
    bad = sorted({n for n in names if isinstance(n, str) and escaping.has_control_characters(n)})
    if bad:
        journal.warn(f"{len(bad)} nom(s) de CPTS contiennent des caractères de contrôle invisibles "
                     f"(par exemple « {escaping.plain_text(bad[0])} ») : ils sont retirés du classeur, de la "
                     "carte PNG et de l'affichage ; corrigez le fichier source.")


def _read_perimeters(args: argparse.Namespace) -> Any:
    """The perimeter file of ``analyse`` or ``planifier``; without one, the scope all white."""
    from . import read
    return read.no_perimeters() if args.perimetres is None else read.read_perimeters(
        args.perimetres, majority=args.majorite, layer=args.couche, sheet=args.feuille, shared=_shared(args))


def _indicators(args: argparse.Namespace, audit: Any) -> None:
    """``--indicateurs``: health indicators per territory added to the audit."""
    from . import indicators, read, reference

    if getattr(args, "indicateurs", None):
        indicators.attach(audit, read.read_indicators(args.indicateurs), reference.units(), args.seuil_secret)


def _inputs(args: argparse.Namespace, *names: str) -> list[str]:
    return [getattr(args, n) for n in names if getattr(args, n, None)]


# --- perimetres ---------------------------------------------------------------------

def cmd_perimetres(args: argparse.Namespace) -> int:
    """``territoire perimetres``: read, harmonise and summarise a perimeter file."""
    import pandas as pd

    from . import analyse, destination, export, read, reference, settings

    inputs = _inputs(args, "fichier", "population")
    if args.sortie:
        destination.check_file(Path(args.sortie), inputs, export.PERIMETER_FORMATS, export.is_perimeter_output)
    per = read.read_perimeters(args.fichier, majority=args.majorite, layer=args.couche,
                               sheet=args.feuille, shared=_shared(args))
    checkpoint("lecture")
    pop = _population(args.population)
    journal = Journal()
    journal.extend(per.journal)
    units = analyse.units_with_population(pop, journal)
    table = per.table.assign(population=per.table["code_commune"].map(units["population"]))
    g = table.groupby("cpts", sort=True)
    summary = pd.DataFrame({"statut": g["statut"].first().fillna(settings.STATUS_UNKNOWN),
                            "communes": g.size(), "population": g["population"].sum()})
    summary["taille"] = analyse.size_class(summary["population"])
    vintage = (f"fichier {pop.source}" + (f", millésime {pop.millesime}" if pop.millesime else "")
               if pop else reference.population_vintage_label())
    print(f"Périmètres lus dans {per.source} : {len(summary)} CPTS, {len(table)} communes "
          f"(COG {reference.metadata()['cog']}).")
    print(f"Population : {vintage}.\n")
    width = max(len(n) for n in summary.index)
    print(f"{'CPTS':<{width}}  {'statut':<17} {'communes':>8} {'population':>11}  taille")
    for name, r in summary.iterrows():
        print(f"{name:<{width}}  {r['statut']:<17} {r['communes']:>8} {fmt(r['population']):>11}  {r['taille']}")
    if pop is not None:
        missing = table.loc[~table["code_commune"].isin(pop.valeurs.index), "code_commune"].unique()
        if len(missing):
            journal.warn(f"{len(missing)} commune(s) des périmètres absentes du fichier de population : "
                         f"population de référence ({reference.population_vintage_label()}) utilisée.")
    _warn_invisible_characters(summary.index, journal)
    _print_journal(journal)
    if args.sortie:
        export.write_perimeters(per.table, args.sortie)
        print(f"\nPérimètres normalisés écrits dans {args.sortie}.")
    return 0


# --- analyse -------------------------------------------------------------------------

def cmd_analyse(args: argparse.Namespace) -> int:
    """``territoire analyse``: the audit and its meeting pack."""
    from . import analyse, destination, export

    inputs = _inputs(args, "perimetres", "population", "indicateurs")
    destination.check_folder(Path(args.sortie), inputs)  # before the work, so as not to waste it
    per = _read_perimeters(args)
    checkpoint("lecture")
    audit = analyse.analyse(per, _population(args.population), args.departement, args.region)
    _indicators(args, audit)
    checkpoint("analyse")
    journal = Journal()
    _warn_invisible_characters(audit.cpts["cpts"], journal)
    s = audit.synthese
    s["avertissements"] = s["avertissements"] + journal.avertissements
    s["date_perimetres"] = (_titles().perimeter_date(args.perimetres, args.date_perimetres) if args.perimetres
                            else args.date_perimetres)
    extra = {}
    if not args.sans_carte:
        from . import gis, reference, render, report  # folium and matplotlib load only when a map is asked for

        data = render.audit_map_data(audit, date_perimetres=s["date_perimetres"])
        extra = report.meeting_pack(data, s, export.audit_tables(audit), fond_de_carte=args.fond_de_carte)
        extra["resultats.gpkg"] = gis.geopackage(gis.audit_layers(audit, reference.units()), s["perimetre"])
        report.add_pdf(extra, args.pdf)
        checkpoint("carte")
    out = export.write_audit(audit, args.sortie, extra, inputs)
    print(f"Analyse de {per.source} sur le(s) département(s) {', '.join(s['perimetre'])} "
          f"(population : {s['millesime_population']}).")
    print(f"  Population totale        : {fmt(s['population_totale'])}")
    print(f"  Couverte par une CPTS    : {fmt(s['population_couverte'])} ({pct(s['taux_couverture'])})")
    print(f"  Couverte par une CPTS signataire ACI : {pct(s['taux_couverture_aci'])}")
    print(f"  CPTS                     : {s['nb_cpts']} (tailles 1/2/3/4 : "
          f"{'/'.join(str(s['nb_cpts_par_taille'][t]) for t in '1234')})")
    print(f"  Communes en chevauchement: {s['nb_communes_en_chevauchement']} "
          f"({fmt(s['population_en_chevauchement'])} hab.)")
    print(f"  Zones blanches           : {s['nb_zones_blanches']} ({s['nb_communes_zones_blanches']} communes, "
          f"{fmt(s['population_zones_blanches'])} hab.)")
    if s["nb_communes_partagees"]:
        print(f"  Communes partagées       : {s['nb_communes_partagees']} "
              f"({fmt(s['population_communes_partagees'])} hab. ; non couverts : "
              f"{fmt(s['population_zones_blanches_infracommunales'])} hab.)")
    _print_journal(Journal(avertissements=list(s["avertissements"])))
    print(f"\nRésultats écrits dans {out}/")
    return 0


# --- planifier --------------------------------------------------------------------------

def cmd_planifier(args: argparse.Namespace) -> int:
    """``territoire planifier``: the Plan 100 % CPTS and its meeting pack."""
    from . import destination, export, plan, summaries

    inputs = _inputs(args, "perimetres", "population", "indicateurs")
    destination.check_folder(Path(args.sortie), inputs)
    params = plan.Parametres(
        population_max_zone_extension=args.zone_max_extension,
        population_min_nouvelle_cpts=args.min_nouvelle,
        population_max_cpts=args.max_cpts,
        franchir_seuil_taille=args.franchir_seuil,
        franchir_departement=args.franchir_departement,
        preferer_aci=not args.sans_priorite_aci,
        croissance_max_sans_alerte=args.croissance_alerte,
    )
    per = _read_perimeters(args)
    checkpoint("lecture")
    result = plan.planifier(per, _population(args.population), args.departement, args.region, params,
                            variantes=True if args.variantes else None)
    _indicators(args, result.apres)
    checkpoint("analyse")
    _warn_invisible_characters(result.apres.cpts["cpts"], result.journal)
    plan_tables = export.plan_tables(result)
    tables = {**export.audit_tables(result.apres), "propositions.csv": result.propositions,
              **{k: v for k, v in plan_tables.items()
                 if k in ("cpts_avant_apres.csv", "variantes.csv", "options_chevauchements.csv")}}
    result.scenario["date_perimetres"] = (_titles().perimeter_date(args.perimetres, args.date_perimetres)
                                          if args.perimetres else args.date_perimetres)
    extra = {}
    if not args.sans_carte:
        from . import gis, reference, render, report

        data = render.plan_map_data(result, date_perimetres=result.scenario["date_perimetres"])
        extra = report.meeting_pack(data, result.apres.synthese, tables, fond_de_carte=args.fond_de_carte)
        extra["resultats.gpkg"] = gis.geopackage(gis.plan_layers(result, reference.units()),
                                                 result.scenario["perimetre"])
        report.add_pdf(extra, args.pdf)
        checkpoint("carte")
    out = export.write_plan(result, args.sortie, extra, inputs)
    summaries.plan(result.scenario)
    _print_journal(Journal(avertissements=result.apres.synthese["avertissements"]
                           + result.journal.avertissements))
    print(f"\nPropositions écrites dans {out}/")
    return 0


# --- comparer ----------------------------------------------------------------------------

def cmd_comparer(args: argparse.Namespace) -> int:
    """``territoire comparer``: what changed between two dates."""
    from . import analyse, compare, destination, export, read, reference, summaries

    inputs = _inputs(args, "avant", "apres", "population")
    destination.check_folder(Path(args.sortie), inputs)
    kw = {"majority": args.majorite, "layer": args.couche, "sheet": args.feuille, "shared": _shared(args)}
    per_a, per_b = read.perimeters_of(args.avant, **kw), read.perimeters_of(args.apres, **kw)
    checkpoint("lecture")
    scope = (args.departement or args.region) and analyse.resolve_scope(per_a.table, args.departement, args.region)
    scope = scope or sorted(set(analyse.resolve_scope(per_a.table)) | set(analyse.resolve_scope(per_b.table)))
    pop = _population(args.population)
    before, after = analyse.analyse(per_a, pop, scope), analyse.analyse(per_b, pop, scope)
    cpts = compare.cpts_changes(before, after, reference.units()["nom"])
    communes = compare.commune_changes(before, after)
    summary = compare.summary(before, after, cpts)
    files = {"comparaison.json": export.json_bytes(summary), "comparaison_cpts.csv": export.csv_bytes(cpts),
             "comparaison_communes.csv": export.csv_bytes(communes)}
    if not args.sans_carte:
        from . import render, report

        tables = {**export.audit_tables(after), "comparaison_cpts.csv": cpts, "comparaison_communes.csv": communes}
        files.update(report.meeting_pack(render.audit_map_data(after), after.synthese, tables))
        report.add_pdf(files, args.pdf)
    out = export.write_results(files, args.sortie, inputs)
    summaries.comparison(summary, cpts, per_a.source, per_b.source, scope)
    print(f"\nComparaison écrite dans {out}/")
    return 0


# --- carte -------------------------------------------------------------------------------

def cmd_carte(args: argparse.Namespace) -> int:
    """``territoire carte``: redraw the map of a results folder."""
    from . import export, render

    folder = Path(args.dossier)
    export.results_folder_files(folder)  # before reading anything from it
    data = export.read_map_data(folder)
    layers = render.prepare(data)
    files = {"carte.html": render.map_html(data, layers=layers, fond_de_carte=args.fond_de_carte).encode("utf-8"),
             "carte.png": render.map_png(data, layers=layers)}
    checkpoint("carte")
    export.update_results(files, folder)
    print(f"Carte écrite dans {folder / 'carte.html'} et {folder / 'carte.png'}"
          + (" (fond OpenStreetMap en ligne)." if args.fond_de_carte else " (autonome, sans réseau)."))
    return 0


# --- parser ----------------------------------------------------------------------------

EPILOG_PERIMETRES = """exemple :
  territoire perimetres data/exemples/essonne_2019_perimetres.csv \\
      --population data/exemples/essonne_2017_population_totale.csv --sortie perimetres.csv
"""
EPILOG_ANALYSE = """exemple :
  territoire analyse data/exemples/essonne_2019_perimetres.csv \\
      --population data/exemples/essonne_2017_population_totale.csv --sortie resultats/
"""
EPILOG_PLANIFIER = """exemple :
  territoire planifier data/exemples/essonne_2019_perimetres.csv --sortie plan/
  territoire analyse plan/perimetres_proposes.csv --sortie apres/
"""


def _titles() -> Any:
    from .mapping import titles

    return titles


def _shared(args: argparse.Namespace) -> bool | list[str]:
    value = getattr(args, "communes_partagees", None)
    return False if value is None else (value or True)


def _add_comparer(sub: Any) -> None:
    """The ``comparer`` command's parser."""
    p = sub.add_parser("comparer", help="ce qui a changé entre deux dates (deux fichiers ou deux dossiers de résultats)",
                       description="Compare deux états des CPTS d'un territoire : CPTS créées, supprimées, renommées, "
                                   "statuts avancés ou reculés, communes ajoutées et retirées, couverture et zones "
                                   "blanches, changements de taille et leur effet en €/an.",
                       epilog="exemple :\n  territoire comparer perimetres_2024.csv perimetres_2026.csv --sortie suivi/",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("avant", metavar="AVANT", help="périmètres d'avant (fichier, ou dossier de résultats)")
    p.add_argument("apres", metavar="APRES", help="périmètres d'après (fichier, ou dossier de résultats)")
    arguments.common_options(p, indicators=False)
    p.add_argument("--departement", nargs="+", metavar="CODE", help="départements comparés")
    p.add_argument("--region", metavar="CODE_OU_NOM", help="région comparée (code ou nom)")
    p.add_argument("--sortie", default="comparaison", metavar="DOSSIER",
                   help="dossier des résultats (défaut : %(default)s)")
    p.set_defaults(func=cmd_comparer)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``territoire`` command (help and messages in French)."""
    parser = _Parser(prog="territoire", formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Vérifier et planifier les territoires des CPTS : chevauchements, "
                                 "tailles, financement ACI, couverture et zones blanches.",
                     epilog="exemple :\n  territoire analyse data/exemples/essonne_2019_perimetres.csv\n\n"
                            "Aide d'une commande : territoire COMMANDE --help")
    parser.add_argument("--version", action="version", version=arguments.version_text(),
                        help="affiche la version, le COG et les millésimes de population embarqués, et quitte")
    sub = parser.add_subparsers(dest="commande", title="commandes", metavar="COMMANDE",
                                parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("perimetres", help="vérifier un fichier de périmètres",
                       description="Lit un fichier de périmètres (CSV, XLSX, ODS, GeoJSON, GeoPackage, "
                                   "Shapefile), harmonise les codes au COG courant et affiche, par "
                                   "CPTS, statut, communes, population et taille.",
                       epilog=EPILOG_PERIMETRES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fichier", metavar="FICHIER", help="fichier de périmètres")
    arguments.common_options(p, maps=False, indicators=False)
    p.add_argument("--sortie", metavar="FICHIER.csv",
                   help="écrit les périmètres normalisés (cpts, statut, code_commune, part)")
    p.set_defaults(func=cmd_perimetres)

    p = sub.add_parser("analyse", help="chevauchements, tailles, financement, couverture, zones blanches",
                       description="Audit territorial : communes en chevauchement, taille et "
                                   "financement ACI de chaque CPTS, taux de couverture par statut, "
                                   "zones blanches et CPTS voisines.",
                       epilog=EPILOG_ANALYSE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("perimetres", metavar="PERIMETRES", nargs="?",
                   help="fichier de périmètres (sans fichier, avec --departement ou --region : tout le "
                        "territoire en zone blanche, point de départ d'un Plan 100 %% CPTS)")
    arguments.common_options(p)
    p.add_argument("--departement", nargs="+", metavar="CODE",
                   help="départements analysés (défaut : ceux que touchent les périmètres)")
    p.add_argument("--region", metavar="CODE_OU_NOM",
                   help="région analysée, par son code INSEE (11) ou son nom (« Île-de-France »)")
    p.add_argument("--sortie", default="resultats", metavar="DOSSIER",
                   help="dossier des résultats (défaut : %(default)s)")
    p.set_defaults(func=cmd_analyse)

    p = sub.add_parser("planifier", help="propositions pour couvrir chaque zone blanche et régler les chevauchements",
                       description="Plan 100 % CPTS : attribue chaque commune en chevauchement à une "
                                   "seule CPTS, étend les CPTS voisines des petites zones blanches et "
                                   "propose de nouvelles CPTS dans les grandes, avec l'effet sur la "
                                   "population, la taille et le financement de chaque CPTS.",
                       epilog=EPILOG_PLANIFIER, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("perimetres", metavar="PERIMETRES", nargs="?",
                   help="fichier de périmètres (sans fichier, avec --departement ou --region : tout le "
                        "territoire en zone blanche)")
    arguments.common_options(p)
    p.add_argument("--departement", nargs="+", metavar="CODE",
                   help="départements traités (défaut : ceux que touchent les périmètres)")
    p.add_argument("--region", metavar="CODE_OU_NOM",
                   help="région traitée, par son code INSEE (84) ou son nom (« Auvergne-Rhône-Alpes »)")
    p.add_argument("--sortie", default="plan", metavar="DOSSIER",
                   help="dossier des propositions (défaut : %(default)s)")
    arguments.planner_options(p)
    p.set_defaults(func=cmd_planifier)

    _add_comparer(sub)

    p = sub.add_parser("carte", help="redessiner la carte à partir de résultats enregistrés",
                       description="Redessine carte.html et carte.png dans un dossier écrit par "
                                   "« territoire analyse » ou « territoire planifier ».",
                       epilog="exemple :\n  territoire carte resultats/",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dossier", metavar="DOSSIER", help="dossier de résultats")
    arguments.map_options(p)
    p.set_defaults(func=cmd_carte)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 done, 2 bad input, 130 interrupted, 1 bug)."""
    try:
        with console.session():
            try:
                parser = build_parser()
                args = parser.parse_args(argv)
                arguments.perimeter_file_back(args, parser)
                quiet = getattr(args, "quiet", False) or not sys.stderr.isatty()
                with console.progress(not quiet, getattr(args, "sans_carte", False)), \
                        settings.scale_from(getattr(args, "bareme", None)):
                    checkpoint("demarrage")
                    return int(args.func(args))
            except TerritoireError as exc:
                print(f"Erreur : {exc}", file=sys.stderr)
                return 2
            except KeyboardInterrupt as exc:
                signum = getattr(exc, "signum", signal.SIGINT)
                how = "Ctrl-C" if signum == signal.SIGINT else f"le signal {console.SIGNAL_NAMES.get(signum, signum)}"
                print(f"Interrompu par {how} : les fichiers en cours d'écriture ont été retirés, les résultats "
                      "précédents sont intacts.", file=sys.stderr)
                return 128 + int(signum)
            except BrokenPipeError:
                # The reader of a pipe (``| head``) stopped reading: not an error of ours.
                devnull = os.open(os.devnull, os.O_WRONLY)
                if sys.__stdout__ is not None:
                    os.dup2(devnull, sys.__stdout__.fileno())
                return 141
            except Exception as exc:  # a bug: short message, detail on demand
                if os.environ.get("TERRITOIRE_DEBUG"):
                    raise
                print(f"Erreur inattendue ({type(exc).__name__} : {exc}). Relancez avec TERRITOIRE_DEBUG=1 "
                      "pour le détail et signalez-la.", file=sys.stderr)
                return 1
    except KeyboardInterrupt:  # a second Ctrl-C while reporting the first
        return 130


if __name__ == "__main__":
    sys.exit(main())
