"""Golden twin of :mod:`rtl.uart`: 8N1 frames as line levels, one entry per clock cycle."""


def serialize(data, divisor, gap=0):
    """Line levels for ``data``: per byte a start bit (0), 8 data bits LSB first and a stop bit (1),
    each ``divisor`` cycles, then ``gap`` idle cycles (1)."""
    out = []
    for b in bytes(data):
        for bit in [0] + [(b >> i) & 1 for i in range(8)] + [1]:
            out += [bit] * divisor
        out += [1] * gap
    return out


def deserialize(levels, divisor):
    """Bytes in line ``levels`` (a receiver sampling each bit in its middle; bytes without a stop bit
    are dropped, as the hardware drops them, and the next start bit is looked for once the line is high
again)."""
    out = bytearray()
    i = 0
    while i < len(levels):
        if levels[i] == 0:
            mid = i + divisor // 2
            if mid + 9 * divisor >= len(levels):
                break
            bits = [levels[mid + k * divisor] for k in range(1, 9)]
            if levels[mid + 9 * divisor] == 1:
                out.append(sum(b << k for k, b in enumerate(bits)))
            i = mid + 9 * divisor
            while i < len(levels) and levels[i] == 0:  # a framing error: wait for the idle level
                i += 1
        else:
            i += 1
    return bytes(out)
