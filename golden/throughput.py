"""Frames per second of split, host-only and edge-only inference (the model behind ``edgesplit fps``).

A frame's rate is the slowest of the stages it crosses, each running on its own (the edge device,
the link and the host are pipelined against each other):

- *split* (edgesplit): the edge device computes and codes the frame (its cycles per frame at its
  clock), the link carries the coded frame as protocol packets (``docs/PROTOCOL.md``: ACK, DATA
  packets of 64 bytes, DATA_END), the host decodes it and runs the host layers;
- *host-only*: the raw camera frame crosses the link in the same packets and the host runs the
  whole network;
- *edge-only*: the device runs the whole network (every conv block on the same array, the classifier
  as a matrix-vector product on it) and sends the class, one 1-byte DATA_END packet.

The camera sits at the device, as in Ko et al.: the link carries device-to-host traffic only. The
hardware-in-the-loop setting, where the host also sends the pixels, is reported apart.
"""

import math
from types import SimpleNamespace

import numpy as np

from . import layer_engine, link

LINKS = {
    # name: payload bytes per second
    "2 Mbps": 2_000_000 / 8,  # Ko et al.'s link: 2 Mbit/s of payload
    "3 Mbaud UART": 3_000_000 / 10,  # the boards' FTDI UART, 8N1: 10 line bits per byte
}
KO_ET_AL = {"vs_host_only": 16.5, "vs_edge_only": 2.5}
"""Throughput ratios of partitioned inference that Ko et al. (AVSS 2018) report (PAPERS.md)."""


def packets_bytes(payload_bytes, ack=True):
    """Line bytes of a reply carrying ``payload_bytes``: an ACK, DATA packets of :data:`link.CHUNK`
    bytes, the last one a DATA_END (an empty payload still sends one DATA_END)."""
    over = link.HEADER.size + 4  # header and CRC-32 of every packet
    n = max(1, math.ceil(payload_bytes / link.CHUNK))
    return (over if ack else 0) + n * over + payload_bytes


def fps(rate, bytes_per_frame):
    return rate / bytes_per_frame if bytes_per_frame else math.inf


def whole_network_program(cfg):
    """:class:`golden.layer_engine.Program` of every conv block of ``cfg``'s network on its array
    (the weights are zeros: the schedule depends on the shapes only), and the classifier's cycles."""
    spec = cfg.spec
    blocks = spec.edge + spec.host
    layers = [SimpleNamespace(block=b, weight=np.zeros((b.cout, b.cin * b.k * b.k), np.int64),
                              bias=np.zeros(b.cout, np.int64), mult=np.ones(b.cout, np.int64),
                              shift=np.zeros(b.cout, np.int64)) for b in blocks]
    model = SimpleNamespace(spec=spec, layers=layers)
    prog = layer_engine.compile_program(model, len(blocks), cfg.rows, cfg.cols, cfg.acc_depth)
    c, h, w = prog.out_shape
    fc_cycles = math.ceil(c * h * w / cfg.rows) * math.ceil(spec.classes / cfg.cols)
    return prog, fc_cycles


def edge_only(cfg, edge_cycles_measured=None):
    """Cycles per frame of the whole network on the device, and whether its memories hold it.

    The edge layers' cycles are ``edge_cycles_measured`` (the RTL's counters) when given, else the
    schedule model's; the host blocks' are the schedule model's (the RTL runs conv blocks of any
    shape); the classifier is ``ceil(K / rows) * ceil(classes / cols)`` cycles at full rate.
    """
    prog, fc = whole_network_program(cfg)
    sched = layer_engine.schedule_for(cfg, prog)["layers"]
    n_edge = cfg.split
    edge_cycles = edge_cycles_measured if edge_cycles_measured is not None else sum(
        x["cycles"] for x in sched[:n_edge])
    host_conv = sum(x["cycles"] for x in sched[n_edge:])
    w, a = prog.weight_bytes(), prog.activation_words() * cfg.rows
    fits = w <= cfg.weight_mem_bytes and a <= cfg.act_mem_bytes
    why = None if fits else (f"the whole network needs {w} bytes of weight memory and {a} of activation "
                             f"memory, this configuration has {cfg.weight_mem_bytes} and {cfg.act_mem_bytes}")
    return {"cycles": edge_cycles + host_conv + fc, "edge_layer_cycles": edge_cycles,
            "host_block_cycles": host_conv, "classifier_cycles": fc, "weight_bytes": w,
            "activation_bytes": a, "fits_memories": fits,
            "does_not_fit": why}


def compare(*, clock_mhz, split_cycles, edge_only_cycles, coded_bytes, raw_bytes, host_tail_s, host_full_s,
            links=None):
    """Frames per second of the three ways over each link, the stage that bounds each, and the
    ratios split / host-only and split / edge-only."""
    clock = clock_mhz * 1e6
    out = {}
    for name, rate in (links or LINKS).items():
        split = {"device": clock / split_cycles, "link": fps(rate, packets_bytes(coded_bytes)),
                 "host": 1 / host_tail_s}
        host = {"link": fps(rate, packets_bytes(raw_bytes, ack=False)), "host": 1 / host_full_s}
        edge = {"device": clock / edge_only_cycles, "link": fps(rate, packets_bytes(1))}
        row = {}
        for way, stages in (("split", split), ("host_only", host), ("edge_only", edge)):
            bound = min(stages, key=stages.get)
            row[way] = {"fps": stages[bound], "bound": bound, "stages": stages}
        row["split_vs_host_only"] = row["split"]["fps"] / row["host_only"]["fps"]
        row["split_vs_edge_only"] = row["split"]["fps"] / row["edge_only"]["fps"]
        out[name] = row
    return out
