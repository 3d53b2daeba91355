"""Golden twin of :class:`rtl.engine_memory.EngineMemory`: the layer engine's weight, parameter and
program memories as their read ports see them, and LOAD_MEM's rows written into them a byte at a
time.

Each memory holds a row as its wire bytes (:func:`golden.link.encode_rows`). LOAD_MEM's bytes come
in order, a row's last one marked; byte ``j`` of a row (counted from the byte after the last
``last``) is written into byte ``j`` of the row at once, so a row cut short keeps its other bytes.
The read ports give:

- weights: row ``addr`` as ``cols`` int8; with ``tile_rows`` rows a word (the iCE40UP5K's engine
  reads a ``rows x cols`` tile a beat), word ``addr`` is rows ``addr * tile_rows ..`` side by side;
- parameters: requantizer step ``k`` of word ``w``: lanes ``k * n_rq .. k * n_rq + n_rq - 1`` of
  the word as ``(bias, mult, shift)`` (zeros past ``cols``; ``n_rq`` is
  :func:`golden.layer_engine.requantizers`);
- program: 16-bit word ``j`` of descriptor ``layer``: its wire bytes ``2 j`` (low) and ``2 j + 1``
  (zero past them).
"""

from .layer_engine import requantizers
from .link import PARAM_LANE, PARAMS, PROGRAM, WEIGHTS, encode_rows, row_bytes


def memories(cols, weight_rows, param_words, layers, weights=(), params=(), program=()):
    """``{WEIGHTS: rows, PARAMS: rows, PROGRAM: rows}``, each row a ``bytearray`` of its wire bytes:
    the given rows (as :class:`golden.layer_engine.EngineImage` has them), zeros past them."""
    out = {}
    for mem, depth, rows in ((WEIGHTS, weight_rows, weights), (PARAMS, param_words, params),
                             (PROGRAM, layers, program)):
        out[mem] = [bytearray(encode_rows(mem, [r], cols)) for r in rows]
        out[mem] += [bytearray(row_bytes(mem, cols)) for _ in range(depth - len(rows))]
    return out


def load(mems, beats):
    """``mems`` after LOAD_MEM's ``beats`` ``(mem, addr, byte, last)``, in order."""
    j = 0
    for mem, addr, byte, last in beats:
        mems[mem][addr][j] = byte
        j = 0 if last else j + 1
    return mems


def weight_row(mems, addr):
    return tuple(v - 256 if v > 127 else v for v in mems[WEIGHTS][addr])


def weight_word(mems, addr, tile_rows):
    """Word ``addr`` of a weight RAM of ``tile_rows`` rows a word (zeros past the rows)."""
    rows = mems[WEIGHTS]
    out = ()
    for i in range(addr * tile_rows, (addr + 1) * tile_rows):
        out += weight_row(mems, i) if i < len(rows) else (0,) * len(rows[0])
    return out


def param_step(mems, word, k, cols):
    """The ``n_rq`` lanes ``(bias, mult, shift byte)`` of step ``k`` of parameter word ``word``."""
    n_rq = requantizers(cols)
    row = mems[PARAMS][word]
    return [PARAM_LANE.unpack_from(row, PARAM_LANE.size * c) if c < cols else (0, 0, 0)
            for c in range(k * n_rq, (k + 1) * n_rq)]


def program_word(mems, layer, j):
    row = bytes(mems[PROGRAM][layer]) + bytes(2)
    return row[2 * j] | row[2 * j + 1] << 8 if 2 * j < len(row) - 2 else 0
