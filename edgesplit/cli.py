"""The ``edgesplit`` command: a thin layer that parses arguments and calls golden/rtl/sim/fpga.

Every subcommand takes ``--config FILE`` and the common overrides, prints a human summary and writes
machine-readable results with ``--json FILE``. Errors a user can cause print one line and exit
non-zero (2 for bad input), never a traceback.
"""

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

from golden.config import QUANTIZERS, Config
from golden.errors import ConfigError, DataError, EdgesplitError


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def _write_json(path, obj):
    if not path:
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(obj, indent=2, default=_jsonable) + "\n")
    except OSError as exc:
        raise EdgesplitError(f"cannot write {path}: {exc.strerror or exc}") from None


def _jsonable(x):
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def load_config(args):
    """The :class:`Config` from ``--config`` plus the command-line overrides."""
    cfg = Config.from_file(args.config) if args.config else Config()
    overrides = {k: getattr(args, k, None)
                 for k in ("network", "split", "bits", "clip", "quantizer", "weights", "random_weights",
                           "rows", "cols", "board", "bottleneck", "code_channels", "data")}
    if overrides["network"] is not None and overrides["split"] is None and cfg.network != overrides["network"]:
        # another network's default split may not exist: take its last edge layer
        from golden.netspec import get_netspec

        overrides["split"] = len(get_netspec(overrides["network"]).edge)
    return cfg.replace(**overrides)


# -- subcommands -----------------------------------------------------------------------------------
def cmd_config(args, cfg):
    print(cfg.to_json())
    _write_json(args.json, cfg.to_dict())
    return 0


def cmd_train(args, cfg):
    from golden import pipeline

    out = args.out or None
    bundle, tables, b = pipeline.train_and_build(cfg, out=out, epochs=args.epochs, log=_say)
    print(f"model bundle: {bundle}\ncodec tables: {tables}\nfloat top-1: {b.meta['float_accuracy']:.4f}")
    _write_json(args.json, {"bundle": str(bundle), "tables": str(tables), **b.meta})
    return 0


def _ensure_model(cfg):
    from golden import network

    if cfg.random_weights is not None:
        return
    path = network.bundle_path(cfg)
    if not path.exists():
        if cfg.spec.name != "digits64":
            raise ConfigError(f"network {cfg.spec.name!r} has no trained bundle at {path}: pass "
                              f"--weights FILE.npz, or --random-weights SEED to check it without training")
        if cfg.weights:
            raise ConfigError(f"model bundle {cfg.weights!r} does not exist")
        from golden import pipeline

        _say(f"no trained model at {path}: training one (about 3 minutes)")
        pipeline.train_and_build(cfg, log=_say)


def cmd_import(args, _cfg):
    from golden import importer
    from golden.sources import check_source

    check_source(args.data)
    shape = None
    if args.in_shape:
        try:
            shape = tuple(int(v) for v in args.in_shape.split(","))
            assert len(shape) == 3 and min(shape) >= 1
        except (ValueError, AssertionError):
            raise ConfigError(f"--in-shape must be C,H,W (three positive integers), not {args.in_shape!r}") from None
    r = importer.import_model(args.model, args.split, args.out, data=args.data, name=args.name, in_shape=shape,
                              log=_say)
    print(f"network file: {r['network']}\nmodel bundle: {r['bundle']}\nfloat top-1 {r['float_top1']:.4f} (the "
          f"module's own {r['module_top1']:.4f}); run it with --network {r['network']} --weights {r['bundle']}")
    _write_json(args.json, r)
    return 0


def cmd_demo(args, cfg):
    from golden.evaluate import Evaluator

    start = time.time()
    _check_counts(frames=(args.frames, 1, cfg.test_frames), rtl_frames=(args.rtl_frames, 0, 64))
    _ensure_model(cfg)
    ev = Evaluator(cfg, progress=_say)
    float_acc = ev.float_accuracy()
    int8 = ev.host_accuracy(cfg.split, ev.features[cfg.split - 1])
    point = ev.codec_point(cfg.split, cfg.bits, cfg.quantizer, cfg.clip, roundtrip=0)
    q = point.pop("_q")
    n = min(args.frames, len(q))
    feats = ev.features[cfg.split - 1]
    identical = 0
    frame_bytes = 0
    for i in range(n):
        data = ev.codec.encode(cfg, feats[i], seq=i)
        dec = ev.codec.decode(data)
        identical += int((dec.levels == q[i]).all() and dec.header.seq == i)
        frame_bytes += len(data)
    raw_bits = int(ev.test.images[0].size * 8)
    c, h, w = feats.shape[1:]
    report = {
        "config": cfg.to_dict(), "test_frames": len(ev.test), "float_accuracy": float_acc,
        "int8_accuracy": int8, "accuracy": point["accuracy"], "split": cfg.split,
        "feature_shape": [c, h, w], "bits": cfg.bits, "quantizer": cfg.quantizer,
        "clip": point["clip"], "bits_per_frame": point["bits_per_frame"],
        "bits_per_element": point["bits_per_element"], "raw_bits_per_frame": raw_bits,
        "reduction_vs_raw": raw_bits / point["bits_per_frame"],
        "roundtrip_frames": n, "roundtrip_identical": identical, "seconds": time.time() - start,
    }
    print(f"edgesplit demo: {cfg.network}, split after block {cfg.split} "
          f"(features {c}x{h}x{w}), {cfg.bits}-bit {cfg.quantizer} quantizer, clip {point['clip']}")
    print(f"  test frames            {len(ev.test)}")
    print(f"  top-1 float            {float_acc:.4f}")
    print(f"  top-1 int8 edge        {int8:.4f}")
    print(f"  top-1 after codec      {point['accuracy']:.4f}  ({(point['accuracy'] - float_acc) * 100:+.2f} points)")
    print(f"  bits per frame         {point['bits_per_frame']:.0f}  (raw frame {raw_bits}, "
          f"{report['reduction_vs_raw']:.1f}x fewer)")
    print(f"  bits per element       {point['bits_per_element']:.3f}")
    print(f"  frames through bytes   {identical}/{n} decode bit-exact to the golden levels "
          f"({frame_bytes} bytes)")
    ok = identical == n
    if cfg.bottleneck is None:
        b = report["bottleneck"] = _demo_bottleneck(cfg, ev, point, n, float_acc)
        ok = ok and (b is None or b["roundtrip_identical"] == n)
    if args.rtl_frames:
        print(f"  RTL: simulating the edge device (layer engine + codec, Verilator) on "
              f"{args.rtl_frames} test frames")
        r = _sim_device(cfg, args.rtl_frames, "verilator", args.build_dir, 0.0, 0.0, 1)
        report["rtl"] = {k: r[k] for k in ("frames", "frames_identical", "frames_decoded", "frame_bytes",
                                           "compute_cycles_per_frame", "latency_cycles",
                                           "frame_period_cycles", "clock_mhz", "projected_fps")}
        ok = ok and r["frames_identical"] == r["frames_decoded"] == r["frames"]
    report["seconds"] = time.time() - start
    print(f"  time                   {report['seconds']:.1f} s")
    _write_json(args.json, report)
    return 0 if ok else 1


def _demo_bottleneck(cfg, ev, plain, n, float_acc):
    """The shipped shared bottleneck at its operating point beside the plain codec's ``plain``
    point: the device's integer path on every test frame, ``n`` frames through bytes."""
    import numpy as np

    from golden import bottleneck_int
    from golden.edge_device import device_frames

    if not bottleneck_int.model_path(cfg).exists():
        return None
    op = bottleneck_int.shipped(cfg).meta.get("operating_point")
    if op is None:
        return None
    c = cfg.replace(bottleneck="shared", split=op["split"], bits=op["bits"])
    pt = bottleneck_int.point(c, ev.features[c.split - 1], ev.labels)
    frames, codes = device_frames(c, ev.test.images[:n])
    codec = bottleneck_int.codec(c)
    same = sum(int(np.array_equal(codec.decode(f).levels, bottleneck_int.quantize_code(x, c.bits)))
               for f, x in zip(frames, codes))
    raw = int(ev.test.images[0].size * 8)
    print(f"  shared learned bottleneck (--bottleneck shared; its encoder runs on the device's array): split "
          f"{c.split}, {c.bits} bits, code {'x'.join(map(str, pt['code_shape']))}")
    print(f"    top-1                {pt['top1']:.4f}  ({(pt['top1'] - float_acc) * 100:+.2f} points)")
    print(f"    bits per frame       {pt['frame_bits']:.0f}  ({raw / pt['frame_bits']:.1f}x fewer than raw, "
          f"{pt['frame_bits'] / plain['bits_per_frame']:.2f}x the plain codec's above)")
    print(f"    frames through bytes {same}/{n} decode bit-exact to the golden levels")
    return dict(pt, roundtrip_identical=same, reduction_vs_raw=raw / pt["frame_bits"])


def _print_eval(result):
    print(f"float top-1 {result['float_accuracy']:.4f}; int8 top-1 per split "
          + ", ".join(f"{k}: {v:.4f}" for k, v in result["int8_accuracy"].items())
          + f"; raw frame {result['raw_bits_per_frame']} bits")
    print(f"{'method':15s} {'split':>5s} {'bits':>4s} {'q':>3s} {'top-1':>7s} {'bits/frame':>11s} "
          f"{'bits/elem':>9s}")
    for p in result["points"]:
        print(f"{p['method']:15s} {p['split']:5d} {p['bits']:4d} {str(p.get('quality', '')):>3s} "
              f"{p['accuracy']:7.4f} {p['bits_per_frame']:11.1f} {p['bits_per_element']:9.3f}")
    s = result["summary"]
    if s.get("best"):
        b = s["best"]
        print(f"best edgesplit point within 1% of float: split {b['split']}, {b['bits']} bits "
              f"{b['quantizer']}, top-1 {b['accuracy']:.4f}, {b['bits_per_frame']:.0f} bits/frame, "
              f"{b['bits_per_element']:.3f} bits/element")
        lo = s["lowest_bits_per_element"]
        print(f"lowest bits/element within 1% of float: split {lo['split']}, {lo['bits']} bits "
              f"{lo['quantizer']}, top-1 {lo['accuracy']:.4f}, {lo['bits_per_element']:.3f} bits/element, "
              f"{lo['bits_per_frame']:.0f} bits/frame ({lo['reduction_vs_raw']:.1f}x fewer than raw)")
        for split, b in s["best_by_split"].items():
            jp = b["jpeg_bits_at_equal_accuracy"]
            print(f"  split {split}: {b['bits_per_frame']:.0f} bits/frame ({b['bits']} bits {b['quantizer']}, "
                  f"top-1 {b['accuracy']:.4f}); JPEG at equal accuracy: "
                  f"{'never reaches it' if jp is None else f'{jp:.0f} bits/frame'}")
        for name, t in s["targets"].items():
            v = t["value"]
            print(f"  {'met    ' if t['met'] else 'MISSED '} {name:30s} "
                  f"{'n/a' if v is None else f'{v:.3f}'}")
    else:
        print("no edgesplit point stays within 1% of float accuracy")
    _print_bottleneck_summary(s.get("bottleneck"))
    print(f"eval took {result['seconds']:.1f} s")


def _print_bottleneck_summary(s):
    if s is None:
        return
    b = s["best"]
    if b is None:
        print("shared bottleneck (edgesplit-ae): no point within 1% of float accuracy")
        return
    jp, plain = s["jpeg_best_split_bits"], s["plain_codec_best_bits"]
    print(f"shared bottleneck (edgesplit-ae), best within 1% of float: split {b['split']}, {b['bits']} bits, "
          f"{b['code_channels']} code channels {'x'.join(map(str, b['code_shape']))}: top-1 {b['accuracy']:.4f}, "
          f"{b['bits_per_frame']:.0f} bits/frame ({s['reduction_vs_raw']:.1f}x fewer than raw); each at its "
          f"best split: JPEG on tiles {'never reaches it' if jp is None else f'{jp:.0f} bits'}, plain codec "
          f"{'none within 1%' if plain is None else f'{plain:.0f} bits'}")
    apart = s.get("per_split")
    if apart:
        ab = apart["best"]
        print(f"  one autoencoder per split (ae-per-split): {apart['params']} weights, {apart['weights_ratio']:.2f}x the "
              f"shared model's; best top-1 {apart['best_top1']:.4f} (shared {apart['shared_best_top1']:.4f}); "
              + (f"best within 1%: split {ab['split']}, {ab['bits']} bits, {ab['bits_per_frame']:.0f} bits/frame"
                 if ab else "no point within 1% of float"))
    for name, t in s["targets"].items():
        v = t["value"]
        print(f"  {'met    ' if t['met'] else 'MISSED '} {name:34s} {'n/a' if v is None else f'{v:.3f}'}")


def cmd_eval(args, cfg):
    from golden import evaluate

    _ensure_model(cfg)
    splits = args.splits or None
    if splits:
        bad = [s for s in splits if s not in cfg.spec.splits]
        if bad:
            raise ConfigError(f"unknown split(s) {bad}; {cfg.network} has splits {list(cfg.spec.splits)}")
    bits = args.bits_list or list(range(1, 9))
    if any(not 1 <= b <= 8 for b in bits):
        raise ConfigError(f"bits must be between 1 and 8, not {bits}")
    result = evaluate.evaluate(cfg, splits=splits, bits_range=bits, baselines=not args.no_baselines,
                               progress=_say)
    _print_eval(result)
    return _plot_and_write(args, lambda path: evaluate.plot(result, path), result)


def _plot_and_write(args, draw, report):
    """Draw the plot to ``--plot`` if asked, write ``report`` to ``--json``; the exit status 0."""
    if args.plot:
        draw(args.plot)
        print(f"plot: {args.plot}")
    _write_json(args.json, report)
    return 0


def cmd_bottleneck(args, cfg):
    from golden import bottleneck

    _ensure_model(cfg)
    _check_counts(epochs=(args.epochs, 1, 1000))
    if args.save:
        return _ship_bottleneck(args, cfg)
    r = bottleneck.study(cfg, epochs=args.epochs, log=_say)
    base = r["float_top1"]
    print(f"learned bottleneck study (float, code fake-quantized; the int8 device path: --save, eval), "
          f"{cfg.network}: float top-1 {base:.4f}, raw frame {r['raw_bits']} bits")
    for name in ("shared", "per_split"):
        b = r[name]["best"]
        print(f"  {name}: {r[name]['params']} weights; "
              + (f"best within 1%: split {b['split']}, {b['bits']} bits, {b['k']} code channels "
                 f"{b['code_shape']}: top-1 {b['top1']:.4f}, {b['frame_bits']:.0f} bits a frame "
                 f"({r['raw_bits'] / b['frame_bits']:.1f}x under raw, {b['bits_per_split_element']:.3f} bits "
                 f"an element of the split tensor)" if b else "no point within 1% of float"))
    print(f"  shared weights {r['per_split']['params'] / r['shared']['params']:.2f}x fewer than one "
          f"autoencoder per split")
    _write_json(args.json, r)
    return 0


def _ship_bottleneck(args, cfg):
    from golden import bottleneck

    r = bottleneck.ship(dataclasses.replace(cfg, bottleneck=None, code_channels=None), epochs=args.epochs,
                        shared=not args.per_split, log=_say)
    b = r["best"]
    best = (f"best within 1%: split {b['split']}, {b['bits']} bits, {b['k']} code channels: top-1 {b['top1']:.4f}, "
            f"{b['frame_bits']:.0f} bits a frame" if b else "no point within 1% of float")
    print(f"{'per-split' if args.per_split else 'shared'} bottleneck trained and quantized ({r['params']} weights, "
          f"{r['seconds']:.0f} s); int8 on the device's path, {best}")
    _write_json(args.json, r)
    return 0


def _test_features(cfg, index):
    from golden import datasets, edge, ptq

    test = datasets.embedded(cfg, "test")
    if not 0 <= index < len(test):
        raise ConfigError(f"--index must be between 0 and {len(test) - 1}, not {index}")
    model = ptq.int_model(cfg)
    return edge.run(model, test.images[index:index + 1], cfg.split)[0], int(test.labels[index])


def cmd_encode(args, cfg):
    from golden.codec import Codec

    _ensure_model(cfg)
    feats, label = _test_features(cfg, args.index)
    codec = Codec.for_config(cfg)
    data = codec.encode(cfg, feats, seq=args.index & 0xFF)
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        raise EdgesplitError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    c, h, w = feats.shape
    print(f"test frame {args.index} (label {label}) -> {args.output}: {len(data)} bytes, features "
          f"{c}x{h}x{w}, split {cfg.split}, {cfg.bits} bits {cfg.quantizer}, clip {codec.clip(cfg)}")
    _write_json(args.json, {"index": args.index, "label": label, "bytes": len(data),
                            "shape": [c, h, w], "split": cfg.split, "bits": cfg.bits,
                            "quantizer": cfg.quantizer, "clip": codec.clip(cfg)})
    return 0


def cmd_decode(args, cfg):
    from golden.codec import Codec
    from golden.tables import TableSet

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    codec = Codec(TableSet.load(args.tables)) if args.tables else Codec.for_config(cfg)
    dec = codec.decode(data)
    h = dec.header
    digest = hashlib.sha256(dec.levels.tobytes()).hexdigest()
    out = {"shape": list(h.shape), "dtype": str(dec.levels.dtype), "sha256": digest,
           "split": h.split, "bits": h.bits, "clip": h.clip, "quantizer": h.mode, "seq": h.seq,
           "table_id": f"0x{h.table_id:08x}", "bytes": len(data),
           "nonzero": int((dec.levels != 0).sum())}
    print(f"{args.file}: {len(data)} bytes, levels {'x'.join(map(str, h.shape))} {dec.levels.dtype}, "
          f"split {h.split}, {h.bits} bits {h.mode}, clip {h.clip}, seq {h.seq}, "
          f"{out['nonzero']} non-zero, sha256 {digest}")
    _write_json(args.json, out)
    return 0


def _check_counts(**counts):
    """Frame counts and probabilities from the command line, refused with a clear message."""
    for name, (value, lo, hi) in counts.items():
        if not lo <= value <= hi:
            raise ConfigError(f"--{name.replace('_', '-')} must be between {lo} and {hi}, not {value}")


def cmd_sim(args, cfg):
    _check_counts(frames=(args.frames, 1, cfg.test_frames), elements=(args.elements, 0, 10_000_000),
                  idle=(args.idle, 0.0, 0.9), stall=(args.stall, 0.0, 0.9))
    _ensure_model(cfg)
    if args.part == "edge":
        return _sim_edge(args, cfg)
    if args.part == "codec":
        return _sim_codec(args, cfg)
    if args.part == "netlist":
        return _sim_netlist(args, cfg)
    r = _sim_device(cfg, args.frames, args.sim, args.build_dir, args.idle, args.stall, args.seed, args.waves)
    _write_json(args.json, r)
    return 0 if r["frames_identical"] == r["frames_decoded"] == r["frames"] else 1


def _sim_device(cfg, frames, sim, build_dir, idle, stall, seed, waves=False):
    from sim import device

    r = device.simulate(cfg, frames=frames, sim=sim, build_dir=build_dir, idle=idle, stall=stall,
                        seed=seed, waves=waves)
    print(f"edge device (layer engine + codec) in {sim}: {cfg.rows}x{cfg.cols} array, split {cfg.split}, "
          f"{cfg.bits}-bit {cfg.quantizer}, {r['frames']} test frames (input gaps {idle:.0%}, output "
          f"stalls {stall:.0%})")
    for f in r["per_frame"]:
        verdict = "byte-identical" if f["identical"] else "DIFFERS from golden"
        decoded = "decodes to the golden levels" if f["decodes_to_golden"] else "does NOT decode to golden"
        print(f"  frame {f['index']:3d}: {f['bytes']} bytes, {verdict}, {decoded}; compute "
              f"{f['compute_cycles']} cycles (layers {f['layer_cycles']})")
    mhz = cfg.core_mhz
    period = r["frame_period_cycles"] or (r["latency_cycles"][0] if r["latency_cycles"] else None)
    r["clock_mhz"] = mhz
    r["projected_fps"] = mhz * 1e6 / period if period else None
    print(f"  {r['frames_identical']}/{r['frames']} frames byte-identical, {r['frames_decoded']}/{r['frames']} "
          f"decode to the golden tensor; first pixel to last byte {r['latency_cycles'][0]} cycles"
          + (f", one frame every {period:.0f} cycles back to back" if r["frame_period_cycles"] else ""))
    if period:
        print(f"  projected {r['projected_fps']:.0f} frames/s at the {cfg.board}'s core clock of {mhz:g} MHz "
              f"(the clock its bitstream is built for; 'edgesplit build' reports whether it is met)")
    return r


def _sim_edge(args, cfg):
    from sim import edge

    r = edge.simulate(cfg, frames=args.frames, sim=args.sim, build_dir=args.build_dir, idle=args.idle,
                      stall=args.stall, seed=args.seed, waves=args.waves)
    print(f"edge part in {args.sim}: {cfg.rows}x{cfg.cols} array, split {cfg.split}, {r['frames']} test frames "
          f"(input gaps {args.idle:.0%}, output stalls {args.stall:.0%})")
    for f in r["per_frame"]:
        verdict = "bit-exact" if f["bit_exact"] else f"{f['mismatches']} bytes differ"
        print(f"  frame {f['index']:3d}: {verdict}, {f['cycles']} cycles (layers {f['layer_cycles']})")
    print(f"  {r['bit_exact']}/{r['frames']} bit-exact with golden; {r['cycles_per_frame']:.0f} cycles per frame, "
          f"array utilization {r['utilization']:.1%}; {r['sim_cycles_per_second']:.0f} simulated cycles/s")
    _write_json(args.json, r)
    return 0 if r["bit_exact"] == r["frames"] else 1


def netlist_session(cfg, frames, sim, build_dir):
    """Synthesize ``cfg``'s SoC for its board as the bitstream build does (fpga.build.synthesize) and
    play a session of ``frames`` frames on that netlist at its UART pins (sim.soc.simulate); the
    report has ``synth_seconds`` too. Here, where fpga/ and sim/ meet: neither imports the other."""
    from fpga.build import synthesize
    from sim import soc

    start = time.time()
    n = synthesize(cfg, cfg.board, Path(build_dir) / "netlist_synth")
    report = soc.simulate(cfg, frames=frames, sim=sim, build_dir=build_dir, netlist=soc.Netlist(**n))
    report["synth_seconds"] = time.time() - start - report["wall_seconds"]
    return report


def _sim_netlist(args, cfg):
    from fpga.build import BOARDS

    if args.sim != "verilator":
        raise ConfigError(f"the post-synthesis check models the FPGAs' cells in Verilator: choose --sim verilator, "
                          f"not {args.sim}")
    r = netlist_session(cfg, args.frames, args.sim, args.build_dir)
    print(f"post-synthesis netlist of the {cfg.board} SoC (synth_{BOARDS[cfg.board][2]}, {r['synth_seconds']:.0f} s) in "
          f"{args.sim} at its UART pins, {r['cycles']} cycles in {r['wall_seconds']:.0f} s:")
    for step in r["steps"]:
        verdict = "byte-identical" if step["identical"] else "DIFFERS from the reference device"
        if step["name"] == "counters":
            verdict = "frames and NAKs equal, layer cycles measured" if step.get("counters_ok") else "COUNTERS DIFFER"
        print(f"  {step['name']:12s} {step['bytes']:5d} bytes, {verdict}")
    _write_json(args.json, r)
    ok = all(s["identical"] or s.get("counters_ok") for s in r["steps"])
    return 0 if ok and r["frames_identical"] == r["frames"] else 1


def _sim_codec(args, cfg):
    from sim import codec

    r = codec.simulate(cfg, sim=args.sim, build_dir=args.build_dir, seed=args.seed,
                       min_elements=args.elements, idle=args.idle, stall=args.stall, waves=args.waves,
                       serial=cfg.serial)
    kind = "bit-serial" if cfg.serial else "element-a-cycle"
    print(f"{kind} codec of the {cfg.board} in {args.sim}: {r['frames']} frames, {r['elements']} elements (input gaps "
          f"{args.idle:.0%}, output stalls {args.stall:.0%})")
    for f in r["per_frame"]:
        if not f["identical"]:
            print(f"  {f['name']}: {f['bytes']} bytes, golden {f['want_bytes']}: DIFFERS")
    print(f"  {r['frames_identical']}/{r['frames']} frames byte-identical with the golden frames "
          f"({r['sim_seconds']:.1f} s simulated)")
    _write_json(args.json, r)
    return 0 if r["frames_identical"] == r["frames"] else 1


def cmd_bench(args, cfg):
    from golden import bench

    _ensure_model(cfg)
    result = bench.codec_throughput(cfg, frames=args.frames, repeats=args.repeats)
    print(f"codec at split {cfg.split}, {cfg.bits} bits {cfg.quantizer}: {result['frames']} frames, "
          f"{result['payload_bits_per_frame']:.0f} payload bits per frame")
    print(f"  decoder  {result['decode_mbit_per_s']:.2f} Mbit/s of payload, "
          f"{result['decode_frames_per_s']:.0f} frames/s")
    print(f"  encoder  {result['encode_mbit_per_s']:.2f} Mbit/s of payload, "
          f"{result['encode_frames_per_s']:.0f} frames/s")
    print(f"  3 Mbaud UART carries {result['uart_payload_mbit_per_s']:.2f} Mbit/s of payload: the "
          f"decoder is {result['decode_vs_uart']:.1f}x faster (target >= 3x)")
    result = {"codec": result}
    if not args.no_rtl:
        result.update(_bench_rtl(args, cfg))
    _write_json(args.json, result)
    return 0


def _bench_rtl(args, cfg):
    """Cycle counts and utilization from RTL simulation (Verilator) of the configured and the
    reference array shapes, and the simulators' speed."""
    from sim import edge

    shapes = [(cfg.rows, cfg.cols)] + [s for s in ((4, 4), (8, 8)) if s != (cfg.rows, cfg.cols)]
    runs = {}
    for rows, cols in shapes:
        c = cfg.replace(rows=rows, cols=cols)
        _say(f"bench: simulating the {rows}x{cols} edge part in Verilator")
        r = edge.simulate(c, frames=1, sim="verilator", build_dir=args.build_dir, idle=0, stall=0)
        layers = _layer_figures(r)
        runs[f"{rows}x{cols}"] = {"rows": rows, "cols": cols, "cycles_per_frame": r["cycles_per_frame"],
                                  "utilization": r["utilization"], "layers": layers,
                                  "bit_exact": r["bit_exact"] == r["frames"],
                                  "verilator_cycles_per_second": r["sim_cycles_per_second"]}
    speed = {"verilator": runs[f"{cfg.rows}x{cfg.cols}"]["verilator_cycles_per_second"]}
    networks = _bench_networks(args, cfg)
    if not args.no_icarus:
        _say("bench: the same in Icarus (slower)")
        r = edge.simulate(cfg, frames=1, sim="icarus", build_dir=args.build_dir, idle=0, stall=0)
        speed["icarus"] = r["sim_cycles_per_second"]
    main = runs[f"{cfg.rows}x{cfg.cols}"]
    _say("bench: the codec RTL in Verilator (real frames of every bit width, worst cases)")
    from sim import codec

    cb = codec.bench(cfg, build_dir=args.build_dir)
    print(f"RTL (Verilator, cycle counters of the layer engine), split {cfg.split}:")
    for name, r in runs.items():
        print(f"  {name}: {r['cycles_per_frame']:.0f} cycles/frame, utilization {r['utilization']:.1%} "
              f"({'bit-exact' if r['bit_exact'] else 'MISMATCH'})")
        for x in r["layers"]:
            print(f"      layer {x['layer']}: {x['cycles']:7d} cycles, ideal {x['ideal_cycles']:9.0f}, "
                  f"{x['utilization']:.1%}")
    for name, r in networks.items():
        if "error" in r:
            print(f"  {name} (random weights) on {cfg.rows}x{cfg.cols}: {r['error']}")
            continue
        print(f"  {name} (random weights) on {cfg.rows}x{cfg.cols}: {r['cycles_per_frame']:.0f} cycles/frame, "
              f"utilization {r['utilization']:.1%} ({'bit-exact' if r['bit_exact'] else 'MISMATCH'})")
        for x in r["layers"]:
            print(f"      layer {x['layer']}: {x['in_channels']:3d} in, k {x['k']}, stride {x['stride']}, "
                  f"pool {x['pool']}{', folded' if x['folded'] else ''}: {x['cycles']:7d} cycles, "
                  f"{x['utilization']:.1%}")
    print("  simulation speed: " + ", ".join(f"{k} {v:,.0f} cycles/s" for k, v in speed.items()))
    print(f"codec RTL (Verilator, output always ready): {cb['frames_identical']}/{cb['frames']} frames "
          f"byte-identical")
    print(f"  {cb['codec_elements_per_cycle']:.4f} elements/cycle over {cb['real_frames']} real frames "
          f"(bits 1-8, both modes, back to back; goal 1.0)")
    lat = cb["latency_cycles"]
    print(f"  last element in -> last frame byte out: {lat['mean']:.1f} cycles mean, {lat['max']} max")
    print("  bit packer absorbs " + ", ".join(f"{v:.1f}" for v in cb["packer_bits_per_cycle"].values())
          + f" bits/cycle offered {', '.join(map(str, cb['packer_bits_per_cycle']))}-bit strings; the "
          f"framer sends {cb['output_bits_per_cycle']} bits/cycle")
    print(f"  full rate up to {cb['max_coded_bits_per_element_at_full_rate']:.2f} coded bits/element; above "
          f"the byte output limits: " + ", ".join(
              f"{k} {v['coded_bits_per_element']:.1f} b/e -> {v['elements_per_cycle']:.3f} el/cycle"
              for k, v in cb["worst_cases"].items()))
    return {"codec_elements_per_cycle": cb["codec_elements_per_cycle"], "codec_rtl": cb,
            "utilization": main["utilization"], "layers": main["layers"],
            "cycles_per_frame": main["cycles_per_frame"], "shapes": runs, "networks": networks,
            "sim_cycles_per_second": speed}


def _layer_figures(r):
    """Per layer: RTL cycles (the engine's counters) against the MACs of the pixels it computes."""
    out = []
    for m, cyc in zip(r["model_layers"], r["layer_cycles"]):
        ideal = m["macs"] / (r["rows"] * r["cols"])
        out.append({"layer": m["layer"], "macs": m["macs"], "cycles": cyc, "ideal_cycles": ideal,
                    "utilization": ideal / cyc, "model_cycles": m["cycles"],
                    **{k: m[k] for k in ("in_channels", "k", "stride", "pool", "folded", "taps", "gap")}})
    return out


def _bench_networks(args, cfg):
    """The example networks (golden/data/networks) with random weights on the configured array:
    RTL cycles and utilization per layer, bit-exact against golden."""
    from golden.netspec import get_netspec
    from golden.network import DATA_DIR
    from sim import edge

    out = {}
    for path in sorted((DATA_DIR / "networks").glob("*.json")):
        c = dataclasses.replace(cfg, network=str(path), random_weights=1,
                                split=len(get_netspec(str(path)).edge), weights=None)
        _say(f"bench: simulating {path.stem} (random weights) on the {c.rows}x{c.cols} edge part in Verilator")
        try:
            r = edge.simulate(c, frames=1, sim="verilator", build_dir=args.build_dir, idle=0, stall=0)
        except ConfigError as exc:
            out[path.stem] = {"error": str(exc)}
            continue
        out[path.stem] = {"cycles_per_frame": r["cycles_per_frame"], "utilization": r["utilization"],
                          "bit_exact": r["bit_exact"] == r["frames"], "layers": _layer_figures(r)}
    return out


def cmd_fps(args, cfg):
    """Frames per second of split, host-only and edge-only inference over 2 Mbps and 3 Mbaud."""
    import numpy as np

    from golden import datasets, throughput
    from golden.edge_device import device_frames

    _check_counts(frames=(args.frames, 1, cfg.test_frames), rtl_frames=(args.rtl_frames, 0, 64),
                  host_repeats=(args.host_repeats, 1, 10_000))
    _ensure_model(cfg)
    clock, source = _fps_clock(args, cfg)
    images = datasets.embedded(cfg, "test").images[:args.frames]
    frames, _ = device_frames(cfg, images)
    coded = float(np.mean([len(f) for f in frames]))
    raw = int(images[0].size)
    report = {"config": cfg.to_dict(), "clock_mhz": clock, "clock_source": source, "frames": len(frames),
              "coded_bytes_per_frame": coded, "raw_bytes_per_frame": raw}
    if args.rtl_frames:
        _say(f"fps: simulating the edge device back to back on {args.rtl_frames} test frames (Verilator)")
        r = _sim_device(cfg, args.rtl_frames, "verilator", args.build_dir, 0.0, 0.0, 1)
        if not r["frames_identical"] == r["frames_decoded"] == r["frames"]:
            raise EdgesplitError("the simulated device's frames differ from golden; fix that before "
                                 "measuring its rate (see 'edgesplit sim')")
        split_cycles = r["frame_period_cycles"] or r["latency_cycles"][0]
        edge_cycles = sum(r["per_frame"][-1]["layer_cycles"][:cfg.split])  # the network's own layers
        report["cycles_source"] = "RTL (Verilator): frame period back to back, layer counters"
    else:
        from golden import layer_engine

        split_cycles = layer_engine.schedule_for(cfg)["cycles"]
        edge_cycles = None
        report["cycles_source"] = "schedule model (no RTL run)"
    eo = throughput.edge_only(cfg, edge_cycles)
    splits = cfg.spec.splits if args.all_splits else (cfg.split,)
    tails, host_full = _host_seconds(cfg, images, args.host_repeats, splits)
    host_tail = tails[cfg.split]
    report.update(split_cycles_per_frame=split_cycles, edge_only=eo, host_tail_seconds=host_tail,
                  host_full_seconds=host_full)
    report["links"] = throughput.compare(clock_mhz=clock, split_cycles=split_cycles,
                                         edge_only_cycles=eo["cycles"], coded_bytes=coded, raw_bytes=raw,
                                         host_tail_s=host_tail, host_full_s=host_full)
    report["ko_et_al"] = throughput.KO_ET_AL
    if args.all_splits:
        report["splits"] = _fps_splits(cfg, images, clock, tails, host_full)
    c, h, w = cfg.spec.shape_after(cfg.split)
    print(f"fps: {cfg.network}, split {cfg.split} ({c}x{h}x{w}), {cfg.bits}-bit {cfg.quantizer}, "
          f"{cfg.rows}x{cfg.cols} array at {clock:g} MHz ({source})")
    print(f"  device: {split_cycles:,.0f} cycles per frame split ({report['cycles_source']}); whole network "
          f"{eo['cycles']:,.0f} cycles (edge layers {eo['edge_layer_cycles']:,}, host blocks "
          f"{eo['host_block_cycles']:,} and classifier {eo['classifier_cycles']:,} by the schedule model)")
    if cfg.bottleneck is not None:
        from golden import layer_engine

        sched = layer_engine.schedule_for(cfg)["layers"]
        report["bottleneck_cycles"] = sum(x["cycles"] for x in sched[cfg.split:])
        print(f"  the bottleneck's adapter and encoder add {report['bottleneck_cycles']:,} of those cycles "
              f"(schedule model)")
    if not eo["fits_memories"]:
        print(f"  edge-only does not fit this configuration's memories: {eo['does_not_fit']}; its rate "
              f"assumes memories large enough")
    print(f"  link bytes per frame: coded {coded:.1f} (mean of {len(frames)} test frames), raw {raw}; "
          f"host (this machine, 1 frame at a time): tail {host_tail * 1e3:.2f} ms, whole network "
          f"{host_full * 1e3:.2f} ms")
    for name, row in report["links"].items():
        parts = [f"{way} {row[way]['fps']:,.0f} fps ({row[way]['bound']}-bound)"
                 for way in ("split", "host_only", "edge_only")]
        print(f"  {name}: " + ", ".join(parts))
        print(f"      split / host-only {row['split_vs_host_only']:.2f}x (Ko et al. 16.5x), split / "
              f"edge-only {row['split_vs_edge_only']:.2f}x (Ko et al. 2.5x)")
    if args.all_splits:
        print(f"  every split point (device cycles from the schedule model, {clock:g} MHz):")
        for name in throughput.LINKS:
            row = ", ".join(f"split {k}: {v[name]['split']['fps']:,.0f} fps "
                            f"({v[name]['split_vs_host_only']:.1f}x / {v[name]['split_vs_edge_only']:.2f}x)"
                            for k, v in report["splits"].items())
            print(f"    {name}: {row}  (x host-only / x edge-only)")
    _write_json(args.json, report)
    return 0


def _fps_splits(cfg, images, clock, tails, host_full):
    """The three ways at every split point of the network, device cycles from the schedule model;
    ``tails``: the host layers' seconds after each split, ``host_full``: the whole network's."""
    import numpy as np

    from golden import layer_engine, throughput
    from golden.edge_device import device_frames

    out = {}
    edge_only_cycles = throughput.edge_only(cfg)["cycles"]  # the whole network: no split in it
    for split in cfg.spec.splits:
        c = cfg.replace(split=split)
        frames, _ = device_frames(c, images)
        cycles = layer_engine.schedule_for(c)["cycles"]
        out[split] = throughput.compare(clock_mhz=clock, split_cycles=cycles,
                                        edge_only_cycles=edge_only_cycles,
                                        coded_bytes=float(np.mean([len(f) for f in frames])),
                                        raw_bytes=int(images[0].size), host_tail_s=tails[split],
                                        host_full_s=host_full)
    return out


def _bandwidths(text):
    try:
        bws = [float(v) for v in text.split(",")]
    except ValueError:
        bws = []
    if not bws or not all(0 < b < 1e12 for b in bws):
        raise ConfigError(f"--bandwidth must be bit rates separated by commas, e.g. 250e3,2e6,10e6, not {text!r}")
    return bws


def _explore_points(args, cfg, ev):
    """Every codec point of the asked splits and bit-widths (and the shipped bottleneck's) with the
    device's cycles for it (``cycles_source`` says measured or model) and the host's seconds."""
    from golden import bottleneck_int, datasets, evaluate, layer_engine

    splits = args.splits or list(cfg.spec.splits)
    bits = args.bits_list or list(range(1, 9))
    images = datasets.embedded(cfg, "test").images[:1]
    tails, host_full = _host_seconds(cfg, images, args.host_repeats, splits)
    cycles, source = {}, "schedule model (checked against the RTL's layer counters in tests)"
    for s in splits:
        c = cfg.replace(split=s)
        if args.rtl:
            r = _sim_device(c, 1, "verilator", args.build_dir, 0.0, 0.0, 1)
            cycles[s], source = sum(r["per_frame"][0]["layer_cycles"]), "RTL (Verilator): layer counters"
        else:
            cycles[s] = layer_engine.schedule_for(c)["cycles"]
    keys = ("method", "split", "bits", "quantizer", "accuracy", "bits_per_frame")
    points = []
    for s in splits:
        for mode in ("uniform", "ecsq"):
            for b in bits:
                pt = ev.codec_point(s, b, mode, roundtrip=0)
                points.append(dict({k: pt[k] for k in keys}, device_cycles=cycles[s], host_s=tails[s]))
    if cfg.bottleneck is None and bottleneck_int.model_path(cfg).exists():
        ae_tail = {}  # the decoder and host layers take the same time at every bit-width: timed once a split
        for pt in evaluate.bottleneck_points(cfg, ev, splits, bits):
            c = dataclasses.replace(cfg, split=pt["split"], bits=pt["bits"], bottleneck="shared")
            if pt["split"] not in ae_tail:
                ae_tail[pt["split"]] = _host_seconds(c, images, args.host_repeats, [pt["split"]])[0][pt["split"]]
            points.append(dict({k: pt.get(k) for k in keys}, code_channels=pt["code_channels"],
                               device_cycles=layer_engine.schedule_for(c)["cycles"], host_s=ae_tail[pt["split"]]))
    return points, source, host_full


def cmd_explore(args, cfg):
    """The best split and codec point at each bandwidth, from measured costs."""
    from golden import datasets, explore, throughput
    from golden.evaluate import Evaluator

    bws = _bandwidths(args.bandwidth)
    _check_counts(host_repeats=(args.host_repeats, 1, 10_000))
    if not 0 <= args.max_loss < 1:
        raise ConfigError(f"--max-loss must be a top-1 fraction in 0..1, not {args.max_loss}")
    _ensure_model(cfg)
    clock, clock_source = _explore_clock(args, cfg)
    ev = Evaluator(cfg, progress=_say)
    float_top1 = ev.float_accuracy()
    points, cycles_source, host_full = _explore_points(args, cfg, ev)
    costs = {"clock_mhz": clock, "host_full_s": host_full,
             "raw_bytes": int(datasets.embedded(cfg, "test").images[0].size),
             "edge_only_cycles": throughput.edge_only(cfg)["cycles"]}
    eo = throughput.edge_only(cfg)
    report = {"config": cfg.to_dict(), "float_top1": float_top1, "max_loss": args.max_loss, "clock_mhz": clock,
              "clock_source": clock_source, "cycles_source": cycles_source,
              "host_source": "timed on this machine's CPU, one frame at a time (median)",
              "edge_only_source": "schedule model of every layer on the device's array" + (
                  "" if eo["fits_memories"] else f"; it does not fit: {eo['does_not_fit']} (memories assumed large "
                                                 f"enough)"),
              "bandwidths": explore.explore(points, bws, float_top1, args.max_loss, **costs)}
    _print_explore(report)
    if args.plot:
        grid = [10 ** (4 + i / 10) for i in range(51)]  # 10 kbit/s .. 1 Gbit/s
        ok = [p for p in points if p["accuracy"] >= float_top1 - args.max_loss]
        curves, host, edge, changes = explore.crossovers(ok, grid, **costs)
        explore.plot(curves, host, edge, changes, grid, args.plot, f"{cfg.network} on {cfg.board}, within "
                     f"{args.max_loss:.0%} of float")
        report["crossovers"] = [{"bandwidth_bps": b, "from_split": a, "to_split": c} for b, a, c in changes]
        print(f"plot: {args.plot}")
    _write_json(args.json, report)
    return 0


def _print_explore(r):
    print(f"explore: device clock {r['clock_mhz']:g} MHz ({r['clock_source']}); device cycles: {r['cycles_source']}; "
          f"host: {r['host_source']}; edge-only: {r['edge_only_source']}")
    for e in r["bandwidths"]:
        print(f"  {e['bandwidth_bps']:,.0f} bit/s:")
        for name, key in (("lowest latency", "best_latency"), ("highest throughput", "best_throughput")):
            b = e[key]
            if b is None:
                print(f"    no point within {r['max_loss']:.0%} of float top-1")
                break
            print(f"    {name:18s}: {b['method']} split {b['split']}, {b['bits']} bits: top-1 {b['accuracy']:.4f}, "
                  f"{b['bits_per_frame']:.0f} bits, {b['latency_s'] * 1e3:.2f} ms, {b['fps']:,.0f} frames/s "
                  f"({b['bound']}-bound)")
        ho, eo = e["host_only"], e["edge_only"]
        print(f"    host-only {ho['latency_s'] * 1e3:.2f} ms, {ho['fps']:,.0f} frames/s ({ho['bound']}-bound); edge-only "
              f"{eo['latency_s'] * 1e3:.2f} ms, {eo['fps']:,.0f} frames/s ({eo['bound']}-bound)")
        if e["best_latency"] is not None:
            print(f"    best over host-only: latency {e['latency_vs_host_only']:.2f}x, throughput "
                  f"{e['fps_vs_host_only']:.2f}x (Ko et al. 16.5x); over edge-only: latency "
                  f"{e['latency_vs_edge_only']:.2f}x, throughput {e['fps_vs_edge_only']:.2f}x (Ko et al. 2.5x)")


def _int_list(text, name):
    """``"2,4,8"`` or ``"2-6"`` (or both, comma-separated) as a list of integers."""
    out = []
    try:
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            out.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    except ValueError:
        out = []
    if not out:
        raise ConfigError(f"--{name} must be integers and ranges separated by commas (e.g. 2,4,8 or 2-6), not {text!r}")
    return out


def cmd_sweep(args, cfg):
    """Array shapes and boards built as Dask tasks, joined with accuracy and rate: a Pareto front."""
    from golden import layer_engine
    from golden.evaluate import Evaluator
    from fpga import sweep

    if args.block not in ("soc", "systolic"):
        raise ConfigError(f"--block must be soc or systolic, not {args.block!r}")
    boards = args.board_list.split(",")
    shapes = [(b, r, c) for b in boards for r in _int_list(args.rows_list, "rows")
              for c in _int_list(args.cols_list, "cols")]
    splits, bits = _int_list(args.split_list, "split"), _int_list(args.bits_list, "bits")
    for b, r, c in shapes:  # every point checked before any work
        for s in splits:
            cfg.replace(board=b, rows=r, cols=c, split=s)
    bw = _bandwidths(args.bandwidth)[0]
    _ensure_model(cfg)
    cycles, points, refused = {}, [], {}
    for b, r, c in shapes:  # a shape the engine cannot run is a result (with its reason), not a build
        try:
            point = sweep.soc_point(cfg.replace(board=b, rows=r, cols=c), splits, args.block)
            for s in splits:
                cycles[(b, r, c, s)] = layer_engine.schedule_for(cfg.replace(
                    board=b, rows=r, cols=c, split=s, act_mem_bytes=point["act_mem_bytes"],
                    weight_mem_bytes=point["weight_mem_bytes"]))["cycles"]
            points.append(point)
        except ConfigError as exc:
            refused[(b, r, c)] = {"failed": str(exc)}
    ev = Evaluator(cfg, progress=_say)
    codec_points = []
    for s in splits:
        for n in bits:
            pt = ev.codec_point(s, n, "uniform", roundtrip=0)
            codec_points.append({k: pt[k] for k in ("split", "bits", "accuracy", "bits_per_frame")})
    start = time.time()
    with _dask_client(args) as client:
        _say(f"sweep: {len(points)} hardware points on {client.scheduler.address if args.scheduler else 'a LocalCluster'}")
        results, cached = sweep.run(points, args.cache, client)
    hardware = [(points[i], results[i]) for i in range(len(points))] + [
        ({"board": b, "rows": r, "cols": c, "block": args.block}, why) for (b, r, c), why in refused.items()]
    rows = sweep.join(hardware, codec_points, cycles, bw)
    report = {"points": hardware, "rows": rows, "from_cache": cached, "built": len(points) - cached,
              "refused": len(refused),
              "wall_seconds": time.time() - start, "bandwidth_bps": bw, "block": args.block,
              "cycles_source": "schedule model (checked against the RTL within 2% a layer in tests)"}
    _print_sweep(report)
    return _plot_and_write(args, lambda path: sweep.plot(rows, path), report)


def _dask_client(args):
    from distributed import Client, LocalCluster

    _check_counts(workers=(args.workers, 1, 64))
    if args.scheduler:
        try:
            return Client(args.scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {args.scheduler}: {exc}") from None
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def _print_sweep(r):
    print(f"sweep: {len(r['points'])} hardware points ({r['block']}), {r['built']} built, {r['from_cache']} from the "
          f"cache, {r['wall_seconds']:.0f} s; device cycles: {r['cycles_source']}; link {r['bandwidth_bps']:,.0f} bit/s")
    for p, res in r["points"]:
        if "failed" in res:
            print(f"  {p['board']} {p['rows']}x{p['cols']}: FAILED: {res['failed']}")
    print(f"  {'board':11s} {'array':>6s} {'split':>5s} {'bits':>4s} {'top-1':>7s} {'bits/frame':>10s} {'fps':>8s} "
          f"{'cells':>6s} {'Fmax':>6s}  Pareto")
    for x in sorted(r["rows"], key=lambda x: (not x["pareto"], -x["fps"])):
        print(f"  {x['board']:11s} {x['rows']:>3d}x{x['cols']:<2d} {x['split']:5d} {x['bits']:4d} {x['accuracy']:7.4f} "
              f"{x['bits_per_frame']:10.0f} {x['fps']:8.0f} {x['cells'] or 0:6d} {x['fmax_mhz'] or 0:6.1f}  "
              f"{'*' if x['pareto'] else ''}")


def _explore_clock(args, cfg):
    """``--fmax``, ``--build-json``, else the post-route Fmax of ``cfg``'s SoC from the sweep's
    cache, built once and cached when it is not there (``--no-build``: the board's core clock)."""
    from fpga import sweep

    if args.fmax is not None or args.build_json or args.no_build:
        return _fps_clock(args, cfg)
    res, cached = sweep.cached_or_built(sweep.soc_point(cfg, cfg.spec.splits), args.cache, lambda: _say(
        f"explore: no build of the {cfg.board} SoC ({cfg.rows}x{cfg.cols}) in {args.cache}: building it once for "
        f"its Fmax (minutes; --no-build or --fmax skip this)"))
    if "failed" in res:
        raise ConfigError(f"the {cfg.board} SoC ({cfg.rows}x{cfg.cols}) has no Fmax: {res['failed']}; pass --fmax "
                          f"or --no-build for the board's core clock")
    return min(res["fmax_mhz"], res["clock_mhz"]), (
        f"post-route Fmax of the {cfg.board} SoC ({cfg.rows}x{cfg.cols}), capped at its clock, "
        f"{'from the build cache' if cached else 'built now and cached'} in {args.cache}")


def _fps_clock(args, cfg):
    if args.fmax is not None:
        if not args.fmax > 0:
            raise ConfigError(f"--fmax must be a positive clock in MHz, not {args.fmax}")
        return args.fmax, "given with --fmax"
    if args.build_json:
        try:
            rep = json.loads(Path(args.build_json).read_text())
            mhz = rep["fmax_mhz"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read fmax_mhz from {args.build_json} ({exc}); pass the JSON "
                              f"that 'edgesplit build --json' wrote") from None
        if not mhz:
            raise ConfigError(f"{args.build_json} has no Fmax (the build did not fit)")
        return min(mhz, rep.get("clock_mhz") or mhz), f"post-route Fmax of {rep.get('board')}, capped at its clock"
    return cfg.core_mhz, f"the {cfg.board}'s core clock, which its build closes timing at: docs/RESULTS.md"


def _host_seconds(cfg, images, repeats, splits):
    """Median seconds per frame on this machine's CPU, one frame at a time: ``{split: seconds}`` of
    the host layers after each split, and the whole float network's seconds."""
    import numpy as np
    import torch

    from golden import edge, network, ptq

    model = network.load_bundle(cfg).model(cfg.spec).eval()
    im = ptq.int_model(cfg)
    x_full = network.to_input(images[:1])

    def median(f):
        times = []
        with torch.no_grad():
            f()
            for _ in range(repeats):
                t = time.perf_counter()
                f()
                times.append(time.perf_counter() - t)
        return float(np.median(times))

    tails = {}
    for split in splits:
        feats = edge.run(im, images[:1], split).astype(np.float32) * np.float32(im.scale(split))
        x_tail = torch.from_numpy(feats)
        tails[split] = median(lambda: model.host_forward(x_tail, split))  # noqa: B023 (called at once)
    if cfg.bottleneck is not None:  # the host decodes the code, then its fine-tuned layers
        from golden import bottleneck_int

        levels = bottleneck_int.quantize_code(edge.run(im, images[:1], cfg.device_blocks), cfg.bits)
        tails[cfg.split] = median(lambda: bottleneck_int.host_logits(cfg, levels, cfg.bits))
    return tails, median(lambda: model(x_full))


def cmd_fuzz(args, cfg):
    from golden import robustness

    _ensure_model(cfg)
    if args.link:
        return _fuzz_link(args, cfg)
    if args.port:
        raise ConfigError("--port is for --link (the decoder's fuzz needs no device)")
    result = robustness.fuzz(cfg, count=args.count, seed=args.seed)
    print(f"fuzzed {result['frames']} corrupted frames (seed {args.seed}) in "
          f"{result['seconds']:.1f} s; slowest decode {result['max_decode_ms']:.2f} ms")
    for kind, r in result["kinds"].items():
        print(f"  {kind:22s} {r['count']:6d} frames, {r['rejected']:6d} rejected, "
              f"{r['accepted']:4d} accepted")
    print(f"  must-reject frames accepted: {result['wrongly_accepted']}; crashes: {result['crashes']}")
    _write_json(args.json, result)
    ok = result["crashes"] == 0 and result["wrongly_accepted"] == 0
    if not ok:
        for c in result["crash_examples"]:
            _say(f"crash: {c}")
    return 0 if ok else 1


def _fuzz_link(args, cfg):
    """``fuzz --link``: packet sequences against the device at --port, else a reference device
    (serve-model) started here on a free port."""
    from fpga import fuzz
    from fpga.serve import Server
    from golden.link import DeviceModel

    _check_counts(count=(args.count, 1, 10_000_000))
    if not (args.quiet > 0 and args.frame_timeout > 0):
        raise ConfigError("--quiet and --frame-timeout must be positive seconds")
    kinds = {"all": fuzz.KINDS, "link": fuzz.LINK_KINDS}.get(args.kinds) or tuple(args.kinds.split(","))
    if not set(kinds) <= set(fuzz.KINDS):
        raise ConfigError(f"--kinds must be all, link or some of {', '.join(fuzz.KINDS)} (comma-separated), "
                          f"not {args.kinds!r}")
    server = None if args.port else Server(DeviceModel(cfg)).start()
    url = args.port or f"socket://127.0.0.1:{server.port}"
    try:
        r = fuzz.run(url, fuzz.Valid(cfg), args.count, seed=args.seed, quiet=args.quiet,
                     frame_timeout=args.frame_timeout, kinds=kinds)
    finally:
        if server is not None:
            server.close()
    r.update(device=args.port or "serve-model (the reference device, started here)", seed=args.seed,
             kinds=list(kinds))
    print(f"fuzz --link: {r['sequences']} sequences (seed {args.seed}) against {r['device']} in {r['seconds']:.0f} s")
    print("  items: " + ", ".join(f"{k} {v}" for k, v in sorted(r["items"].items())))
    print("  NAKs: " + ", ".join(f"{k} {v}" for k, v in sorted(r["naks"].items())))
    print(f"  frames sent during the sequences: {r['frames']}; valid sessions after them: {r['sessions_identical']} "
          f"of {r['sessions']} byte-identical with golden")
    bad = len(r["problems"]) + r["hangs"] + (r["dead"] is not None)
    print(f"  device died: {r['dead'] or 'no'}; hangs: {r['hangs']}; problems: {len(r['problems'])}")
    for p in r["problems"][:20]:
        _say(f"  {p}")
    _write_json(args.json, r)
    return 0 if not bad else 1


BLOCKS = ("device", "edge", "codec", "systolic", "requant", "maxpool")


def cmd_verilog(args, cfg):
    from rtl.maxpool import MaxPool
    from rtl.requant import Requant
    from rtl.systolic import SystolicArray
    from sim.runner import write_verilog

    def edge_part():
        from rtl.factory import engine_for

        _ensure_model(cfg)
        return engine_for(cfg)[0]

    def device():
        from rtl.factory import device_for

        _ensure_model(cfg)
        return device_for(cfg)[0]

    from rtl.codec import Codec

    make = {"edge": edge_part, "device": device, "codec": Codec,
            "systolic": lambda: SystolicArray(rows=cfg.rows, cols=cfg.cols, acc_width=cfg.acc_width),
            "requant": lambda: Requant(acc_width=cfg.acc_width),
            "maxpool": lambda: MaxPool(lanes=cfg.cols, window=4)}[args.block]
    try:
        # "edge" is a Verilog keyword: the whole edge part's module is edge_part
        module = {"edge": "edge_part", "device": "edge_device"}.get(args.block, args.block)
        path = write_verilog(make(), module, args.output)
    except OSError as exc:
        raise EdgesplitError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    lines = path.read_text().count("\n")
    print(f"{args.block} ({cfg.rows}x{cfg.cols} array, split {cfg.split}, {cfg.acc_width}-bit accumulators) -> "
          f"{path}: {lines} lines of Verilog")
    _write_json(args.json, {"block": args.block, "verilog": str(path), "rows": cfg.rows, "cols": cfg.cols,
                            "lines": lines})
    return 0


SYNTH_BLOCKS = ("codec", "device", "edge", "quantizer", "rle", "huffman", "bitpack", "framer", "systolic")


def cmd_synth(args, cfg):
    from fpga.synth import synthesize

    def block():
        from rtl import bitpack, codec, frame, huffman, quantizer, rle
        from rtl.systolic import SystolicArray

        if args.block in ("device", "edge"):
            _ensure_model(cfg)
            from rtl.factory import device_for
            from rtl.factory import engine_for

            return (device_for if args.block == "device" else engine_for)(cfg)[0]
        return {"codec": codec.Codec, "quantizer": quantizer.Quantizer, "rle": rle.ZeroRunCoder,
                "huffman": huffman.HuffmanCoder, "bitpack": bitpack.BitPacker, "framer": frame.Framer,
                "systolic": lambda: SystolicArray(rows=cfg.rows, cols=cfg.cols, acc_width=cfg.acc_width),
                }[args.block]()

    from golden.config import TARGET_MHZ

    freq = args.freq or TARGET_MHZ[{"ice40": "icebreaker", "ecp5": "ulx3s-85f"}[args.arch]]
    r = synthesize(block(), args.block, args.arch, freq_mhz=freq, build_dir=args.build_dir, seed=args.seed)
    print(f"{args.block} on {r['part']} (harnessed: {r['harness']['chain_bits']}-bit input chain, "
          f"{r['harness']['output_bits']} outputs XOR-reduced), seed {args.seed}")
    if not r["fits"]:
        print(f"  does not fit the {r['part']}; see {args.build_dir}")
    else:
        for k, v in r["utilization"].items():
            print(f"  {k:16s} {v['used']:6d} of {v['available']:6d} ({v['used'] / v['available']:.0%})")
        verdict = "met" if r["fmax_mhz"] >= freq else "NOT met"
        print(f"  Fmax {r['fmax_mhz']:.1f} MHz against a {freq} MHz target ({verdict}); synthesis "
              f"{r['synth_seconds']:.0f} s, place and route {r['pnr_seconds']:.0f} s")
    _write_json(args.json, r)
    return 0 if r["fits"] else 1


def cmd_export(args, cfg):
    """A session's request payloads, test frames and expected frames, and the table file, as files."""
    from golden import export

    _ensure_model(cfg)
    _check_counts(frames=(args.frames, 1, cfg.test_frames))
    s = export.export(cfg, args.out, args.frames)
    print(f"exported a {s['network']} session (split {s['split']}, {s['bits']} bits {s['quantizer']}) to {args.out}: "
          f"{len(s['requests'])} request payloads, {len(s['frames'])} camera frames with their expected frames, "
          f"tables.json, session.json (docs/PROTOCOL.md section 5)")
    return 0


def cmd_serve_model(args, cfg):
    from fpga.serve import Server
    from golden.link import DeviceModel

    _ensure_model(cfg)
    server = Server(DeviceModel(cfg), args.port)
    print(f"reference edge device (golden model, split {cfg.split}) on socket://127.0.0.1:{server.port}; "
          f"Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def cmd_build(args, cfg):
    from fpga.build import build

    _ensure_model(cfg)
    cfg = cfg.replace(board=args.board) if args.board else cfg
    _say(f"building the edge SoC for {cfg.board} (split {cfg.split}, {cfg.rows}x{cfg.cols} array); "
         f"synthesis and place-and-route take minutes")
    r = build(cfg, cfg.board, build_dir=args.build_dir, seed=args.seed)
    if not r["fits"]:
        print(f"{cfg.board}: {r['error']}")
        _write_json(args.json, r)
        return 1
    print(f"{cfg.board}: bitstream {r['bitstream']}")
    for k, v in r["utilization"].items():
        print(f"  {k:16s} {v['used']:6d} of {v['available']:6d} ({v['used'] / v['available']:.0%})")
    met = r["meets_clock"]
    print(f"  core clock {r['clock_mhz']:.3f} MHz from the PLL ({r['board_clock_mhz']:g} MHz in, "
          f"{', '.join(f'{k} {v}' for k, v in r['pll'].items())}); UART {r['baud']:,.0f} baud "
          f"(divisor {r['uart_divisor']})")
    print(f"  Fmax {r['fmax_mhz']:.1f} MHz; the core clock is {r['clock_mhz']:.3f} MHz "
          f"({'met' if met else 'NOT met: the bitstream will not run reliably'}); target {r['target_mhz']} MHz "
          f"({'met' if r['fmax_mhz'] >= r['target_mhz'] else 'not met'})")
    _write_json(args.json, r)
    return 0 if met else 1


def cmd_program(args, cfg):
    from fpga.build import BOARDS, bitstream_path
    from fpga.program import program

    board = args.board or cfg.board
    if board not in BOARDS:
        raise ConfigError(f"board must be one of {list(BOARDS)}, not {board!r}")
    bitstream = args.bitstream or bitstream_path(args.build_dir, board)
    r = program(board, bitstream, flash=args.flash)
    print(f"{board}: programmed {r['bitstream']}{' into flash' if args.flash else ''}")
    _write_json(args.json, r)
    return 0


def cmd_serve_sim(args, cfg):
    from sim import soc

    _ensure_model(cfg)
    _say(f"building the edge SoC (split {cfg.split}) for {args.sim}")
    soc.serve(cfg, args.port, sim=args.sim, build_dir=args.build_dir,
              ready=lambda p: print(f"simulated edge SoC ({args.sim}, UART at {soc.DIVISOR} cycles/bit) on "
                                    f"socket://127.0.0.1:{p}; serves connection after connection, its state kept, until "
                                    f"Ctrl-C", flush=True))
    return 0


def cmd_hil(args, cfg):
    from fpga import hil

    _check_counts(frames=(args.frames, 1, cfg.test_frames), timeout=(args.timeout, 0.1, 3600.0))
    _ensure_model(cfg)
    r = hil.run(cfg, args.port, frames=args.frames, baud=args.baud, timeout=args.timeout)
    d = r["device"]
    print(f"edge device on {args.port}: split {d['split']}, {d['rows']}x{d['cols']} array, features "
          f"{'x'.join(map(str, d['feature_shape']))}; loaded {r['link']['memory_bytes']} bytes of weights, "
          f"parameters and layer program, then the codec settings and tables")
    for e in r["per_frame"]:
        print(f"  frame {e['index']:3d}: {e['bytes']} bytes, "
              f"{'byte-identical' if e['identical'] else 'DIFFERS from golden'}, "
              f"{'decodes to the golden levels' if e['decodes_to_golden'] else 'does NOT decode to golden'}")
    print(f"  {r['frames_identical']}/{r['frames']} frames byte-identical with the golden model; top-1 "
          f"{r['accuracy']:.4f} (golden {r['golden_accuracy']:.4f}) on these frames")
    print(f"  link: {r['link']['tx_bytes']} bytes sent, {r['link']['rx_bytes']} received, "
          f"{r['link']['retries']} retries; {r['fps']:.1f} frames/s seen by the host; device frames "
          f"{r['device_counters']['frames']}, layer cycles {r['device_counters']['layer_cycles']}")
    _write_json(args.json, r)
    return 0 if r["frames_identical"] == r["frames"] == r["frames_decoded"] else 1


def cmd_schedule(args, cfg):
    from golden import layer_engine

    _ensure_model(cfg)
    prog = layer_engine.program_for(cfg)
    s = layer_engine.schedule_for(cfg, prog)
    engine = "the iCE40UP5K's dot engine" if cfg.serial else "the layer engine"
    print(f"schedule model of {engine} (golden twin; not an RTL measurement): "
          f"{cfg.rows}x{cfg.cols} array, split {cfg.split}, {s['requant_lanes']} requantizers")
    print(f"  {'layer':>5s} {'MACs':>9s} {'taps':>4s} {'n-tiles':>7s} {'cycles':>8s} {'ideal':>8s} {'util':>6s}")
    for x in s["layers"]:
        print(f"  {x['layer']:5d} {x['macs']:9d} {x['taps']:4d} {x['n_tiles']:7d} {x['cycles']:8d} "
              f"{x['ideal_cycles']:8.0f} {x['utilization']:6.1%}{'  (folded input)' if x['folded'] else ''}")
    print(f"  total {s['cycles']} cycles per frame, utilization {s['utilization']:.1%}; weights "
          f"{prog.weight_bytes()} B, activations {prog.activation_words() * cfg.rows} B")
    s["weight_bytes"] = prog.weight_bytes()
    s["activation_bytes"] = prog.activation_words() * cfg.rows
    _write_json(args.json, s)
    return 0


# -- argument parsing ------------------------------------------------------------------------------
def _common(p):
    p.add_argument("--config", metavar="FILE", help="JSON configuration file")
    p.add_argument("--network", metavar="NAME|FILE.json",
                   help="built-in network (digits64) or a network file (docs/NETWORK.md)")
    p.add_argument("--random-weights", type=int, metavar="SEED",
                   help="seeded random int8 weights calibrated on random frames (no training)")
    p.add_argument("--split", type=int, help="split point (edge blocks run on the device)")
    p.add_argument("--bits", type=int, help="bits per quantized feature element (1-8)")
    p.add_argument("--clip", type=int, help="uniform quantizer clip value (1-255)")
    p.add_argument("--quantizer", choices=QUANTIZERS, help="feature quantizer mode")
    p.add_argument("--weights", metavar="FILE", help="model bundle (.npz) instead of the shipped one")
    p.add_argument("--data", metavar="SOURCE", help="data set: digits64, digits-rgb, mnist:DIR, cifar10:DIR or "
                   "folder:DIR (default: the network's)")
    p.add_argument("--bottleneck", choices=["shared", "per-split"], help="code the shipped learned encoder's output "
                   "(run on the device after the split) instead of the split tensor")
    p.add_argument("--code-channels", type=int, metavar="K", help="with --bottleneck: code channels a frame "
                   "carries (default: the shipped model's)")
    p.add_argument("--rows", type=int, help="systolic array rows (K-tile)")
    p.add_argument("--cols", type=int, help="systolic array columns (N-tile)")
    p.add_argument("--board", help="target board")
    p.add_argument("--json", metavar="FILE", help="write machine-readable results here")


def _import_parser(sub):
    """``edgesplit import``: its own arguments, no configuration."""
    p = sub.add_parser("import", help="turn a trained PyTorch nn.Sequential (torch.save) into a network file "
                       "and a model bundle", description="turn a trained PyTorch nn.Sequential (torch.save) into "
                       "DIR/network.json and DIR/bundle.npz (docs/NETWORK.md); --network DIR/network.json --weights "
                       "DIR/bundle.npz then runs it on every command")
    p.set_defaults(func=cmd_import, config_args=False)
    p.add_argument("model", metavar="MODEL.pt")
    p.add_argument("--split", type=int, required=True, help="the edge device runs the first K Conv2d blocks")
    p.add_argument("--data", default="digits64", metavar="SOURCE", help="data set to calibrate, build tables and "
                   "check top-1 on: digits64, digits-rgb, mnist:DIR, cifar10:DIR or folder:DIR")
    p.add_argument("-o", "--out", required=True, metavar="DIR")
    p.add_argument("--in-shape", metavar="C,H,W", help="input shape (default: inferred from the Linear)")
    p.add_argument("--name", help="network name (default: the model file's name)")
    p.add_argument("--json", metavar="FILE", help="write machine-readable results here")


def _explore_parsers(sub, add):
    """``edgesplit explore`` and ``edgesplit sweep`` (whose --rows and the like are lists)."""
    p = add("explore", cmd_explore, "the best split and codec point at each link bandwidth, by latency and by "
            "throughput, from measured costs, against host-only and edge-only (Neurosurgeon, AGLOP)")
    p.add_argument("--bandwidth", default="250e3,2e6,10e6", metavar="BPS,...", help="link bit rates")
    p.add_argument("--max-loss", type=float, default=0.01, help="top-1 loss from float allowed (fraction)")
    p.add_argument("--splits", type=int, nargs="+", metavar="S", help="only these split points")
    p.add_argument("--bits-list", type=int, nargs="+", metavar="B", help="only these bit-widths")
    p.add_argument("--rtl", action="store_true", help="device cycles from the RTL (Verilator), not the schedule model")
    p.add_argument("--fmax", type=float, help="device clock in MHz (default: the build's Fmax, see --cache)")
    p.add_argument("--build-json", metavar="FILE", help="take the clock from 'edgesplit build --json'")
    p.add_argument("--cache", default="build/sweep", metavar="DIR",
                   help="else the Fmax from the sweep's build cache, built once and cached if not there")
    p.add_argument("--no-build", action="store_true", help="with no Fmax given or cached, the board's core clock")
    p.add_argument("--host-repeats", type=int, default=30, help="timed host runs (median)")
    p.add_argument("--plot", metavar="PNG", help="latency against bandwidth, a curve per split")
    p.add_argument("--build-dir", default="build/sim", help="simulation build folder")
    what = ("array shapes and boards built as Dask tasks (a LocalCluster or --scheduler), cached, joined with "
            "accuracy and bits per frame: the Pareto front of accuracy, bits, fps and logic")
    p = sub.add_parser("sweep", help=what, description=what)  # its --rows etc. are lists: no _common
    p.set_defaults(func=cmd_sweep)
    p.add_argument("--config", metavar="FILE", help="JSON configuration file")
    p.add_argument("--network", metavar="NAME|FILE.json")
    p.add_argument("--weights", metavar="FILE")
    p.add_argument("--data", metavar="SOURCE")
    p.add_argument("--json", metavar="FILE", help="write machine-readable results here")
    p.add_argument("--rows", dest="rows_list", default="4,8", metavar="R,...")
    p.add_argument("--cols", dest="cols_list", default="4,8", metavar="C,...")
    p.add_argument("--bits", dest="bits_list", default="2-6", metavar="B-B")
    p.add_argument("--split", dest="split_list", default="1-3", metavar="S-S")
    p.add_argument("--board", dest="board_list", default="ulx3s-85f", metavar="B,...")
    p.add_argument("--block", default="soc", help="soc (the whole SoC, its real Fmax) or systolic (the array alone)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://HOST:8786")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    p.add_argument("--cache", default="build/sweep", metavar="DIR", help="results cached here by point and RTL hash")
    p.add_argument("--bandwidth", default="2e6", metavar="BPS", help="link bit rate for frames per second")
    p.add_argument("--plot", metavar="PNG", help="bits per frame against fps, Pareto points ringed")


def build_parser():
    from edgesplit import __version__

    parser = argparse.ArgumentParser(
        prog="edgesplit", description="Accelerator generator for split DNN inference on small FPGAs.")
    parser.add_argument("--version", action="version", version=f"edgesplit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, func, help):
        p = sub.add_parser(name, help=help, description=help)
        _common(p)
        p.set_defaults(func=func)
        return p

    _import_parser(sub)
    p = add("demo", cmd_demo, "the main job on the embedded default: model, rate-accuracy at the "
            "configured point, frames through the codec")
    p.add_argument("--frames", type=int, default=16, help="test frames sent through frame bytes")
    p.add_argument("--rtl-frames", type=int, default=3,
                   help="test frames through the simulated edge device (0: skip the RTL)")
    p.add_argument("--build-dir", default="build/sim", help="simulation build folder")
    p = add("train", cmd_train, "train a network (--network, --data) on the CPU, calibrate, build codec tables; "
            "an interrupted run resumes")
    p.add_argument("--epochs", type=int, default=14)
    p.add_argument("--out", metavar="FILE.npz", help="where to write the bundle (default: shipped one)")
    p = add("bottleneck", cmd_bottleneck, "benchmark: a learned bottleneck shared across the splits against "
            "one autoencoder per split (float study); --save trains and ships the shared one")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--save", action="store_true", help="train the shared bottleneck only, quantize it and write "
                   "it with its tables beside the model bundle (what --bottleneck shared runs)")
    p.add_argument("--per-split", action="store_true", help="with --save: the baseline, one autoencoder per split "
                   "(what --bottleneck per-split runs and eval compares with)")
    p = add("eval", cmd_eval, "golden rate-accuracy over split points and bit-widths, with baselines")
    p.add_argument("--plot", metavar="PNG", default="rate_accuracy.png", help="rate-accuracy plot")
    p.add_argument("--splits", type=int, nargs="+", metavar="S", help="only these split points")
    p.add_argument("--bits-list", type=int, nargs="+", metavar="B", help="only these bit-widths")
    p.add_argument("--no-baselines", action="store_true", help="edgesplit points only")
    p = add("encode", cmd_encode, "write the frame of one test frame under the configuration")
    p.add_argument("--index", type=int, required=True, help="test frame index")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p = add("decode", cmd_decode, "decode a frame file and describe its tensor")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--tables", metavar="FILE", help="codec table file (default: the model's)")
    p = add("bench", cmd_bench, "codec throughput of the host decoder and encoder; cycles and array "
            "utilization from RTL simulation")
    p.add_argument("--frames", type=int, default=1000, help="frames for the codec throughput")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-rtl", action="store_true", help="skip the RTL simulation figures")
    p.add_argument("--no-icarus", action="store_true", help="skip the Icarus speed figure")
    p.add_argument("--build-dir", default="build/sim", help="simulation build folder")
    p = add("sim", cmd_sim, "cocotb simulation of the edge device (layer engine + codec) on test frames against the golden model")
    p.add_argument("--part", choices=("device", "edge", "codec", "netlist"), default="device",
                   help="device: layer engine + codec, camera frames to frame bytes (default); edge: the "
                        "layer engine alone; codec: the codec alone on its edge-case frames; netlist: the "
                        "board's synthesized SoC (ECP5) at its UART pins, a link session of --frames frames "
                        "against the reference device (slow: about 13 minutes on two cores for one frame)")
    p.add_argument("--frames", type=int, default=4, help="test frames (device, edge and netlist parts)")
    p.add_argument("--elements", type=int, default=100_000,
                   help="at least this many elements through the codec (codec part)")
    p.add_argument("--sim", choices=("verilator", "icarus"), default="verilator")
    p.add_argument("--idle", type=float, default=0.1, help="chance of an idle input cycle")
    p.add_argument("--stall", type=float, default=0.2, help="chance of a stalled output cycle")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--waves", action="store_true", help="dump waveforms")
    p.add_argument("--build-dir", default="build/sim", help="simulation build folder")
    p = add("fps", cmd_fps, "frames per second of split, host-only and edge-only inference at the device's "
                            "clock over a 2 Mbps link and a 3 Mbaud UART, against Ko et al.")
    p.add_argument("--frames", type=int, default=200, help="test frames for the coded frame size")
    p.add_argument("--rtl-frames", type=int, default=3,
                   help="test frames through the simulated device for its cycles (0: schedule model)")
    p.add_argument("--fmax", type=float, help="device clock in MHz (default: the board's core clock)")
    p.add_argument("--build-json", metavar="FILE", help="take the clock from 'edgesplit build --json'")
    p.add_argument("--host-repeats", type=int, default=50, help="timed host runs (median)")
    p.add_argument("--all-splits", action="store_true",
                   help="also every split point of the network (device cycles from the schedule model)")
    p.add_argument("--build-dir", default="build/sim", help="simulation build folder")
    _explore_parsers(sub, add)
    p = add("fuzz", cmd_fuzz, "robustness run: corrupted and truncated frames into the decoder, or with --link "
                              "random and mutated packet sequences against a device")
    p.add_argument("--count", type=int, default=10000, help="frames, or with --link packet sequences")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--link", action="store_true", help="fuzz the link: a device on --port, else a reference device "
                                                       "started here")
    p.add_argument("--port", metavar="URL", help="with --link: a serial port or socket://HOST:PORT (serve-sim)")
    p.add_argument("--kinds", default="all", help="with --link: all, link (the link layer's: damaged packets, "
                                                  "garbage, coherent loads and frames) or a comma list")
    p.add_argument("--quiet", type=float, default=0.005, help="with --link: seconds of silence that end a reply")
    p.add_argument("--frame-timeout", type=float, default=10.0, help="with --link: seconds without a byte while a "
                                                                     "reply is due that count as a hang")
    p = add("export", cmd_export, "what a host written from docs/PROTOCOL.md alone needs: a session's request "
                                  "payloads, camera frames with the frames the device must send, the table file")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="folder to write")
    p.add_argument("--frames", type=int, default=2, help="test camera frames")
    p = add("serve-model", cmd_serve_model, "the reference edge device (golden model of the SoC) on a TCP "
                                            "socket on 127.0.0.1, speaking the UART byte stream")
    p.add_argument("--port", type=int, default=0, help="TCP port (default: any free one, printed)")
    p = add("build", cmd_build, "build the edge SoC's bitstream for a board with the open toolchain: "
                                "utilization, Fmax, whether it fits")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    p.add_argument("--build-dir", default="build/fpga", help="build folder")
    p = add("program", cmd_program, "load the built bitstream into the board (openFPGALoader)")
    p.add_argument("--bitstream", help="bitstream file (default: the one 'edgesplit build' wrote)")
    p.add_argument("--flash", action="store_true", help="write the configuration flash instead of SRAM")
    p.add_argument("--build-dir", default="build/fpga", help="where 'edgesplit build' wrote the bitstream")
    p = add("serve-sim", cmd_serve_sim, "the edge SoC's Verilog simulated (Verilator) behind a TCP socket on "
                                        "127.0.0.1 that carries exactly the UART byte stream")
    p.add_argument("--port", type=int, default=7333, help="TCP port")
    p.add_argument("--sim", choices=("verilator", "icarus"), default="verilator")
    p.add_argument("--build-dir", default="build/sim", help="simulation build folder")
    p = add("hil", cmd_hil, "hardware in the loop: load a device over the link, send test frames, check "
                            "every reply against the golden model, decode, classify")
    p.add_argument("--port", required=True, help="serial device (e.g. /dev/ttyUSB1) or socket://127.0.0.1:P")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--baud", type=int, help="UART baud (default: the configuration's)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a reply")
    p = add("synth", cmd_synth, "synthesize and place-and-route one block (harnessed) with the open "
                                "toolchain: LUTs, flip-flops, DSPs, RAMs and Fmax")
    p.add_argument("--block", choices=SYNTH_BLOCKS, default="codec")
    p.add_argument("--arch", choices=("ice40", "ecp5"), default="ice40",
                   help="ice40: iCE40UP5K-SG48 (iCEBreaker); ecp5: LFE5U-85F (ULX3S)")
    p.add_argument("--freq", type=float, help="target clock in MHz (default 36 on ice40, 100 on ecp5)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    p.add_argument("--build-dir", default="build/synth", help="build folder")
    p = add("verilog", cmd_verilog, "write the generated Verilog of the edge device (or one block)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.v")
    p.add_argument("--block", choices=BLOCKS, default="device",
                   help="device: layer engine + codec (default); edge: the layer engine with its "
                        "memories; codec: the feature codec; or one compute block")
    add("schedule", cmd_schedule, "cycles and array utilization per layer from the layer engine's "
        "schedule model")
    add("config", cmd_config, "print the resolved configuration as JSON")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args) if getattr(args, "config_args", True) else None
        return args.func(args, cfg)
    except EdgesplitError as exc:
        print(f"edgesplit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("edgesplit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
