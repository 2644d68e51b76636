"""One self-contained HTML page of a scope's graph (no network: everything is inlined).

The page embeds the vendored Cytoscape.js build (``static/cytoscape.min.js``, MIT,
see ``static/cytoscape.LICENSE``), the view script and the graph as JSON. A strict
Content-Security-Policy forbids every fetch, so the page works offline and can be
opened from disk, mailed, or served by the REST server as is. For tests and
automation it exposes ``window.graphmemView = {nodeCount, edgeCount, errors, ready}``.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from graphmem.models.scope import Scope
from graphmem.view.graph import ViewGraph, build_view_graph

if TYPE_CHECKING:
    from graphmem.memory import Memory

LIBRARY = "cytoscape.min.js"
SCRIPT = "graphmem-view.js"

VIEW_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; connect-src 'none'"
)
_STYLE = """
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 14px/1.4 system-ui, -apple-system, "Segoe UI",
  Roboto, sans-serif; color: #1d2733; background: #f6f8fa; }
body { display: grid; grid-template-rows: auto 1fr; grid-template-columns: 1fr 360px;
  grid-template-areas: "head head" "graph panel"; }
header { grid-area: head; padding: 10px 16px; background: #1d2733; color: #f6f8fa; }
header h1 { margin: 0; font-size: 16px; font-weight: 600; }
header p { margin: 2px 0 0; font-size: 12px; color: #b9c2cc; }
#graph { grid-area: graph; min-height: 400px; background: #ffffff; }
#panel { grid-area: panel; overflow: auto; padding: 12px 16px; border-left: 1px solid #d8dee4; }
#panel h2 { margin: 0 0 2px; font-size: 18px; }
#panel h3 { margin: 14px 0 6px; font-size: 13px; text-transform: uppercase; color: #57606a; }
.type, .hint { color: #57606a; margin: 0; }
ul.facts { list-style: none; padding: 0; margin: 0; }
li.fact { padding: 8px 0; border-bottom: 1px solid #eaeef2; }
li.fact.superseded .sentence { color: #8a96a3; text-decoration: line-through; }
.meta, .when { font-size: 12px; color: #57606a; }
ul.provenance { margin: 4px 0 0 14px; padding: 0; font-size: 12px; color: #44515f; }
.legend span { margin-right: 14px; }
.legend .dash { border-bottom: 2px dashed #b9c2cc; display: inline-block; width: 24px; }
.legend .solid { border-bottom: 2px solid #7c8a99; display: inline-block; width: 24px; }
"""
# Installed first, so that errors in any later script are counted too.
_STATUS = (
    "window.graphmemView = {nodeCount: 0, edgeCount: 0, errors: [], ready: false};"
    "window.addEventListener('error', function (e) {"
    " window.graphmemView.errors.push(String(e.message || e)); });"
)


@cache
def _static(name: str) -> str:
    text = (resources.files("graphmem.view") / "static" / name).read_text(encoding="utf-8")
    # A script element ends at the first "</script", whatever JavaScript thinks.
    return text.replace("</script", "<\\/script")


def _json_for_html(value: Any) -> str:
    """JSON that cannot end its script element or open markup, whatever the data says."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(graph: ViewGraph, *, title: str | None = None) -> str:
    """The HTML document of a built view graph."""
    described = ", ".join(f"{key}={value}" for key, value in graph.scope.items())
    heading = title or f"graphmem \u2014 {described}"
    details = [
        f"{len(graph.nodes)} entities",
        f"{sum(e['status'] == 'current' for e in graph.edges)} current facts",
        f"{sum(e['status'] == 'superseded' for e in graph.edges)} superseded",
        f"as of {graph.as_of.isoformat()}" if graph.as_of else "as of now",
    ]
    if graph.around:
        details.append(f"within {graph.hops} hops of {graph.around}")
    if graph.truncated:
        details.append("truncated to the most recent records")
    empty = "" if graph.nodes else "<p class='hint'>No entities in this view.</p>"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{VIEW_CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(heading)}</title><style>{_STYLE}</style>"
        f"<script>{_STATUS}</script></head><body>"
        f"<header><h1>{html.escape(heading)}</h1><p>{html.escape(' · '.join(details))}"
        " &nbsp; <span class='legend'><span class='solid'></span> current "
        "<span class='dash'></span> superseded</span></p></header>"
        "<div id='graph'></div>"
        f"<aside id='panel'>{empty}<p class='hint'>Click an entity to list its facts and "
        "where they come from.</p></aside>"
        f"<script type='application/json' id='graphmem-data'>{_json_for_html(graph.to_json())}"
        "</script>"
        f"<script>{_static(LIBRARY)}</script>"
        f"<script>{_static(SCRIPT)}</script>"
        "</body></html>\n"
    )


def render_view(
    memory: Memory,
    scope: Scope,
    as_of: datetime | None = None,
    around: str | None = None,
    hops: int = 2,
) -> str:
    """A self-contained HTML page of ``scope``'s graph in ``memory``.

    ``as_of`` shows the graph as it was at that event time; ``around`` keeps the
    entities within ``hops`` facts of the named entity. Raises
    :class:`~graphmem.errors.NotFoundError` when ``around`` names no entity of the scope.
    """
    graph = build_view_graph(memory.store, scope, as_of=as_of, around=around, hops=hops)
    return page(graph)
