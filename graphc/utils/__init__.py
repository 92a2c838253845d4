"""``graphc.utils``: pictures of models.

``plot_model`` (``plot.py``) draws the layer graph or the IR of a model.  The
pieces: ``plot_graph`` (what is drawn), ``layer_graph`` / ``ir_graph`` (building
it from a model or a module), ``layout`` (a layered layout in pure Python),
``svg`` / ``png`` / ``dot`` (the writers; PNG uses matplotlib, DOT rendering
uses Graphviz when present).
"""

from .plot import plot_model

__all__ = ["plot_model"]
