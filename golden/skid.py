"""Golden twin of :class:`rtl.skid.SkidBuffer`: a skid buffer changes timing only, so its model is
the identity on the sequence of beats (``tests/test_rtl_codec.py`` checks it under backpressure)."""


def skid(beats):
    """The beats a skid buffer delivers for ``beats``: the same, in the same order."""
    return list(beats)
