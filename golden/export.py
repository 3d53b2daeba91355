"""``edgesplit export``: everything a host written from docs/PROTOCOL.md and docs/FORMAT.md alone needs
beyond the documents, as files: the request payloads of a whole session (the engine's memories as
LOAD_MEM payloads, SETTINGS, CODE_TABLE, LEVEL_TABLE), test camera frames with the frames the
device must send for them, the table file, and ``session.json`` naming them in the order they are
sent (docs/PROTOCOL.md section 5 gives the layout).
"""

import json
from pathlib import Path

from . import link as L
from .errors import DataError

FORMAT_VERSION = 1


def export(cfg, out_dir, frames=2):
    """Write the session of ``cfg`` into ``out_dir``; returns the ``session.json`` dict."""
    from . import datasets, layer_engine as le
    from .codec import Codec
    from .edge_device import device_frames

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {out}: {exc.strerror or exc}") from None
    codec = Codec.for_config(cfg)
    image = le.image_for(cfg)
    images = datasets.embedded(cfg, "test").images[:frames]
    want, feats = device_frames(cfg, images, codec=codec)  # sequence numbers 0, 1, ...: sent in order
    ds = codec.device_settings(cfg, feats.shape[1:])
    requests = [("LOAD_MEM", p) for p in L.load_mem_payloads(image)] + [
        ("SETTINGS", L.settings_payload(ds.settings)), ("CODE_TABLE", L.code_table_payload(ds.code_words)),
        ("LEVEL_TABLE", bytes(ds.level_table))]
    types = {name: t for t, name in L.NAMES.items()}
    session = {"format": FORMAT_VERSION, "network": cfg.spec.name, "split": cfg.split, "bits": cfg.bits,
               "quantizer": cfg.quantizer, "ident": L.identity(cfg).hex(), "requests": [], "frames": [],
               "tables": "tables.json", "memories": memories(image),
               "acc_depth": image.acc_depth}
    _write = _writer(out)
    for i, (name, payload) in enumerate(requests):
        f = f"{i:03d}_{name.lower()}.bin"
        _write(f, payload)
        session["requests"].append({"type": name, "type_byte": types[name], "file": f})
    for i, (img, frame) in enumerate(zip(images, want)):
        _write(f"camera_{i}.bin", L.frame_bytes(img))
        _write(f"frame_{i}.es", frame)
        session["frames"].append({"camera": f"camera_{i}.bin", "expect": f"frame_{i}.es"})
    _write("tables.json", codec.tables.to_json().encode())
    _write("session.json", (json.dumps(session, indent=2) + "\n").encode())
    return session


def memories(image):
    """The engine's memories as LOAD_MEM addresses them: ``{name: {"memory", "rows", "row_bytes"}}``,
    ``rows`` the depth of a device built with ``image`` (IDENT does not report it)."""
    depths = {L.WEIGHTS: image.weight_rows, L.PARAMS: image.param_words, L.PROGRAM: image.max_layers}
    return {name: {"memory": mem, "rows": depths[mem], "row_bytes": L.row_bytes(mem, image.cols)}
            for mem, name in ((L.WEIGHTS, "weights"), (L.PARAMS, "params"), (L.PROGRAM, "program"))}


def _writer(out):
    def write(name, data):
        try:
            (out / name).write_bytes(data)
        except OSError as exc:
            raise DataError(f"cannot write {out / name}: {exc.strerror or exc}") from None

    return write
