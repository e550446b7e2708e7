"""territoire: check and plan the territories of CPTS.

The flow, one module per stage:

* :mod:`territoire.reference` - the embedded commune reference (COG, populations, outlines);
* :mod:`territoire.read` - reading perimeter files and population files;
* :mod:`territoire.harmonise` - codes, names and statuses to the current COG;
* :mod:`territoire.graph` - commune adjacency;
* :mod:`territoire.analyse` - overlaps, size classes, funding, coverage, white zones;
* :mod:`territoire.plan` - proposals to cover white zones and settle overlaps;
* :mod:`territoire.export` - CSV/JSON outputs, written atomically.
"""

__version__ = "0.1.0"
