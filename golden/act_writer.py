"""Golden twin of :class:`rtl.act_writer.ActWriter`: a layer's pooled, requantized output beats as
writes into the activation memory.

Beats come n-tile by n-tile, pooled pixel by pooled pixel in raster order; beat lane ``l`` of n-tile
``nt`` is output channel ``n = nt * cols + l`` (lanes at ``cout`` and beyond are padding). Channel
``n`` of pooled pixel ``q`` is byte ``n % rows`` of word ``out_base + q * G + n // rows`` (``G =
ceil(cout / rows)``). A beat is written a word at a time, its words in increasing order, each with a
byte mask of the channels it holds.
"""


def writes(beats, cout, rows, cols, pooled, out_base=0):
    """``[(address, mask, bytes), ...]`` in write order for ``beats`` (``cols`` values each, n-tile
    major); ``mask`` bit ``b`` enables byte ``b``, whose value is ``bytes[b]`` (0 where masked off)."""
    groups = -(-cout // rows)
    out = []
    for i, beat in enumerate(beats):
        nt, q = divmod(i, pooled)
        n0, top = nt * cols, min(nt * cols + cols, cout)
        for word in range(n0 // rows, (top - 1) // rows + 1):
            data, mask = [0] * rows, 0
            for b in range(rows):
                n = word * rows + b
                if n0 <= n < top:
                    data[b], mask = int(beat[n - n0]), mask | 1 << b
            out.append((out_base + q * groups + word, mask, tuple(data)))
    return out


def apply(writes_, memory):
    """``memory`` (a list of ``rows``-byte lists) after ``writes_``."""
    for addr, mask, data in writes_:
        memory[addr] = [d if mask >> b & 1 else old for b, (d, old) in enumerate(zip(data, memory[addr]))]
    return memory
