"""An interactive, self-contained HTML view of a scope's graph.

:func:`render_view` returns the page (the REST server serves it as is);
``graphmem view --user alice [--as-of DATE] [--around NAME --hops 2] -o file.html``
writes it to a file.
"""

from graphmem.view.graph import ViewGraph, build_view_graph
from graphmem.view.render import page, render_view

__all__ = ["ViewGraph", "build_view_graph", "page", "render_view"]
