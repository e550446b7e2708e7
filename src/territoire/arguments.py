"""Option values as French users type them (``0,6``, ``40 000``), range-checked for argparse."""

from __future__ import annotations

import argparse
import math
import re


def number(text: str) -> float:
    """A number as French users type it: ``0,6``, ``40 000``."""
    try:
        value = float(text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre fini")
    return value


def share(text: str) -> float:
    """A share of a commune's area, in ]0, 1]."""
    value = number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"« {text} » hors de ]0, 1] : une part de surface, par exemple 0,5")
    return value


def inhabitants(text: str) -> int:
    """A number of inhabitants: a non-negative integer."""
    value = number(text)
    if value < 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"« {text} » : un nombre d'habitants entier et positif est attendu")
    return int(value)


def percent(text: str) -> float:
    """A percentage (``50`` or ``50 %``), returned as a share (0.5)."""
    value = number(text.replace("%", "").strip())
    if value < 0:
        raise argparse.ArgumentTypeError(f"« {text} » : un pourcentage positif est attendu, par exemple 50")
    return value / 100


def version_text() -> str:
    """``--version``: the version and the embedded reference's vintages (``reference.json``, no heavy import)."""
    import json

    from . import __version__, settings

    try:
        meta = json.loads((settings.data_dir() / "reference.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"territoire {__version__}"
    return (f"territoire {__version__} — référence : communes du COG {meta['cog']}, population municipale "
            f"{meta['millesime_population']} (Mayotte {meta['millesime_population_mayotte']}), contours IGN "
            f"ADMIN EXPRESS du COG {meta.get('contours', {}).get('cog', '?')}")


def perimeter_file_back(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Options in any order: ``--departement 91 FICHIER`` gives FICHIER to ``--departement``; take it back.

    Without a file, ``analyse`` and ``planifier`` need ``--departement`` or ``--region`` (the scope
    is then all white).
    """
    if not hasattr(args, "perimetres"):
        return
    deps = args.departement or []
    while args.perimetres is None and deps and not re.fullmatch(r"\d{1,3}|2[abAB]", deps[-1].strip()):
        args.perimetres = deps.pop()
    if args.departement is not None and not deps:
        args.departement = None
    if args.perimetres is None and not args.departement and not args.region:
        parser.error("fichier de périmètres manquant (ou --departement/--region pour partir d'un territoire "
                     "sans CPTS)")


def map_options(p: argparse.ArgumentParser) -> None:
    """Options of the map (every command that draws one)."""
    p.add_argument("--hors-ligne", action="store_true",
                   help="sans effet, gardée pour compatibilité : la carte est toujours autonome (Leaflet embarqué)")
    p.add_argument("--fond-de-carte", action="store_true",
                   help="ajoute un fond OpenStreetMap (vu avec une connexion ; les couches s'affichent sans)")


def common_options(p: argparse.ArgumentParser, *, maps: bool = True, indicators: bool = True) -> None:
    """Options of the commands that read a perimeter file (map and indicator options where they act)."""
    from . import settings

    p.add_argument("-q", "--quiet", "--silencieux", dest="quiet", action="store_true",
                   help="sans lignes de progression (elles ne s'affichent de toute façon que dans un terminal)")
    if indicators:
        p.add_argument("--indicateurs", metavar="FICHIER",
                       help="indicateurs par commune (CSV ou XLSX : code INSEE, comptes ; un taux X avec sa colonne "
                            "X_denominateur) agrégés par CPTS, zone blanche, département, région et France")
        p.add_argument("--seuil-secret", type=inhabitants, default=11, metavar="N",
                       help="secret statistique : les comptes sous N sont masqués partout (défaut : %(default)s)")
    p.add_argument("--bareme", metavar="FICHIER",
                   help="barème ACI à utiliser (JSON comme regles/bareme_aci.json : seuils de taille, montants "
                        "par taille, nom et date) au lieu de celui livré ; son nom et sa date sont écrits dans "
                        "chaque sortie")
    p.add_argument("--population", metavar="FICHIER",
                   help="populations à utiliser (colonnes code et population, tout millésime) ; "
                        "remplacent la référence pour les communes listées")
    if maps:
        map_options(p)
        p.add_argument("--date-perimetres", metavar="DATE",
                       help="date des périmètres, affichée sur la carte (ex. « décembre 2019 ») ; "
                            "à défaut, une date écrite dans la ligne de titre du fichier")
        p.add_argument("--sans-carte", action="store_true",
                       help="n'écrit ni carte, ni rapport, ni couches SIG (tableaux et JSON seulement)")
        p.add_argument("--pdf", action="store_true",
                       help="imprime aussi le rapport en PDF A4 (rapport.pdf) avec le Chromium du système")
    p.add_argument("--majorite", type=share, default=None, metavar="PART",
                   help="pour les polygones : communes entières seulement, chacune à la CPTS qui couvre au "
                        "moins cette part de sa surface, entre 0 (exclu) et 1 ; par défaut, une commune dont "
                        f"plusieurs CPTS couvrent chacune au moins {settings.POLYGON_SHARE * 100:.0f}\u00a0%% est partagée, "
                        f"les autres vont à la CPTS qui en couvre {settings.POLYGON_MAJORITY * 100:.0f}\u00a0%%")
    p.add_argument("--communes-partagees", nargs="*", metavar="CODE",
                   help="les communes listées entières dans plusieurs CPTS (ou seulement celles dont le code "
                        "suit) sont partagées à parts égales entre elles, pas en chevauchement")
    p.add_argument("--couche", metavar="NOM",
                   help="couche à lire quand le fichier (GeoPackage, archive .zip) en contient plusieurs")
    p.add_argument("--feuille", metavar="NOM",
                   help="feuille à lire quand le classeur contient plusieurs listes de communes")


def planner_options(p: argparse.ArgumentParser) -> None:
    """Options of ``planifier`` (the planner's parameters, defaults from :class:`Parametres`)."""
    from . import plan

    d = plan.Parametres()
    p.add_argument("--zone-max-extension", type=inhabitants, default=d.population_max_zone_extension, metavar="HAB",
                   help="population maximale d'une zone blanche couverte par extension des CPTS "
                        "voisines ; au-delà, nouvelles CPTS (défaut : %(default)s)")
    p.add_argument("--min-nouvelle", type=inhabitants, default=d.population_min_nouvelle_cpts, metavar="HAB",
                   help="population minimale d'une nouvelle CPTS, quand la zone le permet (défaut : %(default)s)")
    p.add_argument("--max-cpts", type=inhabitants, default=d.population_max_cpts, metavar="HAB",
                   help="population qu'une extension ne fait jamais dépasser (défaut : %(default)s)")
    p.add_argument("--franchir-seuil", action="store_true",
                   help="autorise une extension à changer la taille (et le financement) d'une CPTS")
    p.add_argument("--franchir-departement", action="store_true",
                   help="autorise une extension dans un département que la CPTS ne touche pas encore")
    p.add_argument("--variantes", action="store_true",
                   help="calcule aussi les variantes (EPCI d'abord, minimum 40 000, seuils franchissables) "
                        "au-delà de 13 départements ; en deçà, elles le sont toujours (variantes.csv)")
    p.add_argument("--sans-priorite-aci", action="store_true",
                   help="à choix égal, ne pas préférer la CPTS la plus avancée (signataire ACI)")
    p.add_argument("--croissance-alerte", type=percent, default=d.croissance_max_sans_alerte,
                   metavar="POURCENT", help="signale « à valider avec la CPTS » une CPTS dont la population "
                                            "croît de plus de ce pourcentage (défaut : 50)")
