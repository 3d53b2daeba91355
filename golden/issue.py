"""Golden twin of :class:`rtl.issue.Issue`: the vectors the array gets for the address generator's
beats (:func:`golden.addrgen.stream`).

Every beat becomes one vector: the activation word at its address, or zeros where the beat is
padding (``zero``), with the weight bank of its pass. A pass starts at each beat of position 0, and
passes alternate banks from bank 0 (the weight loader fills them in that order,
:func:`golden.weight_loader.passes`). The beat's position, first- and last-tap flags and n-tile
ride along for the accumulator. The stage's timing rules (a pass's first beat only once its weights
are in, last-tap beats ``gap`` cycles apart or more) change when a vector comes, not what it is.
"""

import numpy as np


def issue(beats, words):
    """``[(bank, vector, (pos, first_tap, last_tap, tile)), ...]`` for ``beats`` (dicts or rows with
    the fields of :data:`golden.addrgen.FIELDS`) reading activation ``words`` ``(N, rows)``."""
    words = np.asarray(words)
    out, passes = [], 0
    for b in beats:
        if b["pos"] == 0:
            passes += 1
        vector = np.zeros(words.shape[1], words.dtype) if b["zero"] else words[b["addr"]]
        out.append(((passes - 1) % 2, tuple(int(v) for v in vector),
                    (b["pos"], b["first_tap"], b["last_tap"], b["tile"])))
    return out
