"""Tables, ratios, the RESULTS.md section of one benchmark run, and the p95 plot."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FLAT_PEER_NOTE = (
    "Mem0 OSS 2.x has no graph memory (removed from the open-source package in v2): it is "
    "the flat-vector peer (FAISS, infer=False). graphmem searches do graph expansion "
    "(two hops, personalized PageRank) on every query."
)
SYNTHETIC_NOTE = (
    "Search stores are synthetic: fact/entity/episode vectors are precomputed unit vectors "
    "(random directions mixed with per-type centroids) written through the store protocol "
    "(graphmem) or vector_store.insert (Mem0), and 'vector' latencies use precomputed query "
    "vectors. 'embed' latencies embed the query text with MiniLM first. Ingest throughput is "
    "measured with real MiniLM embeddings at small scale."
)


def _ms(block: dict[str, Any] | None, key: str) -> str:
    return "-" if not block else f"{block[key]:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.2f}x"


def _embedding_floor_lines(floor: dict[str, Any] | None, mem0: dict[str, Any] | None) -> list[str]:
    """What embedding alone costs: the throughput no storage work could exceed."""
    if not floor:
        return []
    per_call, batch = floor["max_per_s_one_call_per_turn"], floor["max_per_s_one_batch"]
    line = (
        f"Embedding floor (the bare MiniLM embedder on the same {floor['texts']} turn texts, "
        f"no store): one call per turn {floor['one_call_per_turn_s']:.2f} s "
        f"(at most {per_call:.0f} turns/s), one batch {floor['one_batch_s']:.2f} s "
        f"(at most {batch:.0f} turns/s)."
    )
    if mem0:
        # Each ceiling bounds the ratio of the matching mode: one turn per call against
        # Mem0's one turn per call, one batch against Mem0's conversations (when run).
        batched = mem0.get("session") or mem0
        line += (
            f" Even with storage free, graphmem/Mem0 could reach at most "
            f"**{_ratio(per_call, mem0['per_s'])}** one turn per call and "
            f"**{_ratio(batch, batched['per_s'])}** with every turn in one batch (against "
            f"Mem0's {'10-turn conversations' if mem0.get('session') else 'one turn per call'})."
        )
    return ["", line]


def markdown(run: dict[str, Any]) -> str:
    """The dated section appended to RESULTS.md."""
    gi, mi = run["graphmem_ingest"], run.get("mem0_ingest")
    lines = [
        f"## Performance (embedded store vs Mem0 OSS), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{run['command']}`",
        "",
        f"Machine: {run['cpus']} cores, load average {run['load_before']} before and "
        f"{run['load_after']} after the run (shared machine; compare ratios measured in "
        f"the same run, not absolute numbers). torch threads: {run['threads']} for both.",
        "",
        FLAT_PEER_NOTE,
        "",
        SYNTHETIC_NOTE,
        "",
        "### Ingest (real MiniLM embeddings, offline rules extractor)",
        "",
        "| system | operation | items | items/s | embedding s | items/s without embedding "
        "| facts stored |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, op in (
        ("add", "add() chat turns, one per call"),
        ("add_session", "add() chat turns, 10-turn conversations"),
        ("add_facts", "add_facts() triples, 10 per call"),
    ):
        r = gi.get(name)
        if r is None:
            continue
        lines.append(
            f"| graphmem | {op} | {r['items']} | {r['per_s']:.1f} | {r['embed_s']:.1f} "
            f"| {r['per_s_without_embedding']:.1f} | {r['facts_stored']} |"
        )
    if mi:
        ms = mi.get("session")
        lines.append(
            f"| Mem0 | add(infer=False) chat turns, one per call | {mi['items']} "
            f"| {mi['per_s']:.1f} | - | - | - |"
        )
        if ms:
            lines.append(
                f"| Mem0 | add(infer=False) chat turns, 10-turn conversations | {ms['items']} "
                f"| {ms['per_s']:.1f} | - | - | - |"
            )
        lines += [
            "",
            "graphmem/Mem0 add throughput (turns/s, target >= 10x): one turn per call "
            f"**{_ratio(gi['add']['per_s'], mi['per_s'])}**",
        ]
        if ms and gi.get("add_session"):
            lines[-1] += (
                f"; 10-turn conversations **{_ratio(gi['add_session']['per_s'], ms['per_s'])}**"
            )
    lines += _embedding_floor_lines(gi.get("embedding_floor"), mi)
    lines += [
        "",
        "### Search (limit 10; graphmem with graph expansion)",
        "",
        "| facts | system | vector p50 / p95 / p99 ms | CPU ms per vector search "
        "| embed p50 / p95 / p99 ms | open s | peak RSS MiB (open + search / with reindex) "
        "| disk MiB | reindex s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for scale in run["scales"]:
        g, m = scale["graphmem"], scale.get("mem0")
        gv, ge = g["search_vector"], g.get("search_embed")
        lines.append(
            f"| {scale['facts']:,} | graphmem | {_ms(gv, 'p50')} / {_ms(gv, 'p95')} / "
            f"{_ms(gv, 'p99')} | {g.get('cpu_ms_per_search', float('nan')):.1f} | "
            f"{_ms(ge, 'p50')} / {_ms(ge, 'p95')} / {_ms(ge, 'p99')} | {g['open_s']:.2f} | "
            f"{g['peak_rss_mib']:.0f} / {g.get('peak_rss_reindex_mib', float('nan')):.0f} | "
            f"{g['disk_mib']:.0f} | "
            f"{g.get('reindex_s', float('nan')):.1f} |"
        )
        fv, fe = g.get("search_facts_vector"), g.get("search_facts_embed")
        if fv:
            lines.append(
                f"| {scale['facts']:,} | graphmem, facts only | {_ms(fv, 'p50')} / "
                f"{_ms(fv, 'p95')} / {_ms(fv, 'p99')} | - | {_ms(fe, 'p50')} / {_ms(fe, 'p95')} / "
                f"{_ms(fe, 'p99')} | - | - | - | - |"
            )
        if m:
            mv, me = m["search_vector"], m["search_embed"]
            lines.append(
                f"| {scale['facts']:,} | Mem0 | {_ms(mv, 'p50')} / {_ms(mv, 'p95')} / "
                f"{_ms(mv, 'p99')} | {m.get('cpu_ms_per_search', float('nan')):.1f} | "
                f"{_ms(me, 'p50')} / {_ms(me, 'p95')} / {_ms(me, 'p99')} | "
                f"- | {m['peak_rss_mib']:.0f} | - | - |"
            )
    warm = [s for s in run["scales"] if "search_vector_warm" in s["graphmem"]]
    if warm:
        lines += [
            "",
            "graphmem, the same queries a second time (the first search of an owner loads its "
            "edges into memory; these do not): "
            + "; ".join(
                f"{s['facts']:,} facts vector p50 {_ms(s['graphmem']['search_vector_warm'], 'p50')}"
                f" / p95 {_ms(s['graphmem']['search_vector_warm'], 'p95')} ms"
                for s in warm
            ),
        ]
    lines += [
        "",
        "'facts only' is `search(include=[\"facts\"])`: the same facts, with graph "
        "expansion, but no episode indexes read and no entities or episodes ranked (Mem0 "
        "returns memories only). It runs after the warm pass.",
        "",
    ]
    if any(scale.get("mem0") for scale in run["scales"]):
        lines += ["Ratios graphmem/Mem0 (lower is better for latency):", ""]
    for scale in run["scales"]:
        m = scale.get("mem0")
        if not m:
            continue
        g = scale["graphmem"]
        lines.append(
            f"- {scale['facts']:,} facts: vector p50 "
            f"{_ratio(g['search_vector']['p50'], m['search_vector']['p50'])}, p95 "
            f"{_ratio(g['search_vector']['p95'], m['search_vector']['p95'])}; with query "
            f"embedding p50 {_ratio(g['search_embed']['p50'], m['search_embed']['p50'])}, p95 "
            f"{_ratio(g['search_embed']['p95'], m['search_embed']['p95'])}"
        )
        fv, fe = g.get("search_facts_vector"), g.get("search_facts_embed")
        if fv and fe:
            lines[-1] += (
                f"; facts only: vector p50 {_ratio(fv['p50'], m['search_vector']['p50'])}, "
                f"p95 {_ratio(fv['p95'], m['search_vector']['p95'])}, with query embedding "
                f"p50 {_ratio(fe['p50'], m['search_embed']['p50'])}, "
                f"p95 {_ratio(fe['p95'], m['search_embed']['p95'])}"
            )
    lines += ["", *[f"- {note}" for note in run.get("notes", [])], ""]
    return "\n".join(lines) + "\n"


def save_scale(folder: Path, scale: dict[str, Any], command: str) -> None:
    """Keep ``scale`` as the latest measurement of its store size, for :func:`plot`."""
    stamped = {**scale, "command": command, "measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M}"}
    (folder / f"latest-scale-{scale['facts']}.json").write_text(json.dumps(stamped, indent=1))


def latest_scales(folder: Path) -> list[dict[str, Any]]:
    """The latest measurement of every store size kept by :func:`save_scale`, smallest first."""
    scales = [json.loads(f.read_text()) for f in folder.glob("latest-scale-*.json")]
    return sorted(scales, key=lambda scale: int(scale["facts"]))


def plot(scales: list[dict[str, Any]], path: Path) -> None:
    """Search p95 (with query embedding, and without) against store size, log-log.

    Each size comes from the latest run that measured it (a 1M run takes half an
    hour and does not run Mem0); the legend says when each was measured.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=80)
    series = (
        ("graphmem", "search_vector", "graphmem (graph expansion), query vector", "-o"),
        ("graphmem", "search_embed", "graphmem, embedding the query", "--o"),
        ("graphmem", "search_facts_vector", "graphmem facts only, query vector", "-^"),
        ("graphmem", "search_facts_embed", "graphmem facts only, embedding the query", "--^"),
        ("mem0", "search_vector", "Mem0 (flat vector), query vector", "-s"),
        ("mem0", "search_embed", "Mem0, embedding the query", "--s"),
    )
    for system, key, label, style in series:
        points = [
            (s["facts"], s[system][key]["p95"])
            for s in scales
            if s.get(system) and s[system].get(key)
        ]
        if points:
            ax.plot(*zip(*points, strict=True), style, label=label)
    when = "; ".join(f"{s['facts']:,} at {s.get('measured_at', '?')}" for s in scales)
    ax.set_xscale("log")
    ax.set_yscale("log")
    dates = textwrap.wrap(f"measured (UTC): {when}", 70, break_long_words=False)
    ax.set_xlabel("\n".join(["facts in store", *dates]))
    ax.set_ylabel("search p95 (ms)")
    ax.set_title("Search p95 vs store size, latest run of each size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
