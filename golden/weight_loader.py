"""Golden twin of :class:`rtl.weight_loader.WeightLoader`: the weight rows of a layer, pass by pass.

The array takes a pass's ``rows x cols`` tile into one of its two weight banks while the other bank
computes. Passes follow the address generator's order (n-tiles, chunks, taps), banks alternate, and
the tile of tap ``t`` of n-tile ``nt`` is weight rows ``base + (nt * taps + t) * rows + r``
(docs/PROTOCOL.md, LOAD_MEM weights): every chunk reloads its n-tile's taps.
"""


def passes(base, rows, taps, chunks, tiles):
    """``[(bank, [row address, ...]), ...]``, one entry a pass, in load order."""
    out = []
    for nt in range(tiles):
        for _ in range(chunks):
            for t in range(taps):
                first = base + (nt * taps + t) * rows
                out.append((len(out) % 2, list(range(first, first + rows))))
    return out
