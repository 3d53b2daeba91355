"""Choosing the split and the codec from measured costs (``edgesplit explore``; Neurosurgeon, AGLOP).

Every operating point (split, bits, quantizer; the bottleneck's too) within the accuracy bound is
costed at each link bandwidth from three stages, each a measurement or labelled as a model by the
caller:

- device: the engine's cycles per frame at its split / the device clock;
- link: the frame's bytes in protocol packets (:func:`golden.throughput.packets_bytes`: ACK, DATA
  packets of 64 bytes, DATA_END) / the link's payload bytes per second (``bandwidth / 8``);
- host: the host layers after the split, timed on this CPU.

One frame's end-to-end latency is the sum of the stages (a frame crosses them in turn); pipelined
throughput is the slowest stage's rate (the stages work on successive frames at once). Host-only
sends the raw frame and runs the whole network on the host; edge-only runs the whole network on the
device and sends the class (a 1-byte reply).
"""

import math

from .throughput import KO_ET_AL, packets_bytes


def costed(stages):
    """``stages`` (seconds a frame by stage name) as latency, throughput and their bounding stage."""
    bound = max(stages, key=stages.get)
    return {"latency_s": sum(stages.values()), "fps": 1 / stages[bound] if stages[bound] else math.inf,
            "bound": bound, "stages_s": dict(stages)}


def at_bandwidth(points, bandwidth, *, clock_mhz, host_full_s, raw_bytes, edge_only_cycles):
    """The costed ``points`` (dicts with ``split``, ``bits_per_frame``, ``device_cycles`` and
    ``host_s``) and host-only and edge-only at ``bandwidth`` bits a second."""
    rate, clock = bandwidth / 8, clock_mhz * 1e6
    rows = [dict(p, **costed({"device": p["device_cycles"] / clock,
                              "link": packets_bytes(p["bits_per_frame"] / 8) / rate, "host": p["host_s"]}))
            for p in points]
    host_only = costed({"link": packets_bytes(raw_bytes, ack=False) / rate, "host": host_full_s})
    edge_only = costed({"device": edge_only_cycles / clock, "link": packets_bytes(1) / rate})
    return rows, host_only, edge_only


def explore(points, bandwidths, float_top1, max_loss=0.01, **costs):
    """A report per bandwidth: every point within ``max_loss`` of ``float_top1`` costed, the best by
    latency and by throughput, host-only and edge-only, and the ratios against them (Ko et al.'s
    16.5x over host-only and 2.5x over edge-only are throughput ratios)."""
    ok = [p for p in points if p["accuracy"] >= float_top1 - max_loss]
    out = []
    for bw in bandwidths:
        rows, host_only, edge_only = at_bandwidth(ok, bw, **costs)
        entry = {"bandwidth_bps": bw, "points": rows, "host_only": host_only, "edge_only": edge_only,
                 "best_latency": None, "best_throughput": None}
        if rows:
            lat, thr = min(rows, key=lambda r: r["latency_s"]), max(rows, key=lambda r: r["fps"])
            entry.update(best_latency=lat, best_throughput=thr,
                         latency_vs_host_only=host_only["latency_s"] / lat["latency_s"],
                         latency_vs_edge_only=edge_only["latency_s"] / lat["latency_s"],
                         fps_vs_host_only=thr["fps"] / host_only["fps"],
                         fps_vs_edge_only=thr["fps"] / edge_only["fps"], ko_et_al=KO_ET_AL)
        out.append(entry)
    return out


def crossovers(points, bandwidths, **costs):
    """Per split, the lowest latency at each of ``bandwidths`` (a dense grid), and the bandwidths where
    the best split changes: ``({split: [latency]}, host-only, edge-only, [(bandwidth, from, to)])``."""
    curves, host, edge, best = {}, [], [], []
    for bw in bandwidths:
        rows, ho, eo = at_bandwidth(points, bw, **costs)
        for s in sorted({r["split"] for r in rows}):
            curves.setdefault(s, []).append(min(r["latency_s"] for r in rows if r["split"] == s))
        host.append(ho["latency_s"])
        edge.append(eo["latency_s"])
        best.append(min(rows, key=lambda r: r["latency_s"])["split"] if rows else None)
    changes = [(bandwidths[i], best[i - 1], best[i]) for i in range(1, len(best)) if best[i] != best[i - 1]]
    return curves, host, edge, changes


def plot(curves, host, edge, changes, bandwidths, path, title=""):
    """Latency against bandwidth: a curve per split, host-only, edge-only, crossovers marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for s, lat in curves.items():
        ax.plot(bandwidths, [v * 1e3 for v in lat], label=f"split {s} (its best codec point)")
    ax.plot(bandwidths, [v * 1e3 for v in host], "k--", label="host-only (raw frame)")
    ax.plot(bandwidths, [v * 1e3 for v in edge], "k:", label="edge-only (whole network on the device)")
    for bw, a, b in changes:
        ax.axvline(bw, color="grey", lw=0.7)
        ax.annotate(f"{a}->{b}", (bw, ax.get_ylim()[1]), fontsize=7, rotation=90, va="top")
    ax.set(xscale="log", yscale="log", xlabel="link bandwidth (bit/s)", ylabel="latency of one frame (ms)",
           title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
