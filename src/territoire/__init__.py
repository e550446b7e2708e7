"""territoire: check and plan the territories of CPTS.

The public API, in the users' words (see the README, « Bibliothèque Python »)::

    import territoire as t
    per = t.lire_perimetres("perimetres.csv")   # a file, a DataFrame or a GeoDataFrame
    audit = t.analyser(per)
    plan = t.planifier(per)

The flow, one module per stage:

* :mod:`territoire.readers` - files as users send them, to raw tables;
* :mod:`territoire.normalise` - raw tables and layers to validated perimeters;
* :mod:`territoire.harmonise` - codes, names and statuses to the current COG;
* :mod:`territoire.reference` - the embedded commune reference;
* :mod:`territoire.graph` - commune adjacency;
* :mod:`territoire.analyse` - overlaps, size classes, funding, coverage, white zones;
* :mod:`territoire.plan` - proposals to cover white zones and settle overlaps;
* :mod:`territoire.export`, :mod:`territoire.render`, :mod:`territoire.report` - outputs.

Names are imported on first use (PEP 562): ``import territoire`` is instant,
and the command line answers Ctrl-C at any moment of its start-up.
"""

from __future__ import annotations

# No import at all here: ``python -m territoire.cli`` runs this module before the command's own
# Ctrl-C guard, so a SIGINT landing now must not find a frame of ours to show in a traceback.
TYPE_CHECKING = False  # recognised by type checkers, with no import of ``typing``

__version__ = "0.1.0"

_API = {
    "lire_perimetres": "api", "lire_population": "api", "analyser": "api", "planifier": "api",
    "referentiel_communes": "api", "graphe_communes": "api", "bareme_aci": "api",
    "ecrire_resultats": "api", "carte": "api",
    "Perimetres": "models", "Population": "models", "Audit": "models", "Plan": "models",
    "Parametres": "models", "Synthese": "models", "Scenario": "models",
    "Journal": "errors", "TerritoireError": "errors", "TerritoireWarning": "errors",
}

__all__ = sorted(_API)

if TYPE_CHECKING:
    from typing import Any

    from .api import (
        analyser,
        bareme_aci,
        carte,
        ecrire_resultats,
        graphe_communes,
        lire_perimetres,
        lire_population,
        planifier,
        referentiel_communes,
    )
    from .errors import Journal, TerritoireError, TerritoireWarning
    from .models import Audit, Parametres, Perimetres, Plan, Population, Scenario, Synthese


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'territoire' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
