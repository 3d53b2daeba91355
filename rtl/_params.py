"""Parameter checks shared by the RTL components."""


def require(component, ok, message, exc=ValueError):
    """Raise ``exc(message)`` unless ``ok``.

    A component whose constructor fails is never elaborated; it is marked so that Amaranth does
    not warn about it being unused (as Amaranth does for its own discarded fragments).
    """
    if not ok:
        component._MustUse__silence = True
        raise exc(message)


def is_int(v, lo, hi=None):
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi)


def step_nested(m, counters):
    """Advance nested counters by one in the current ``m`` context, innermost first.

    ``counters`` is ``[(signal, last), ...]``: each wraps to 0 after ``last`` and carries into the
    next; the outermost one only counts up.
    """
    sig, last = counters[0]
    if len(counters) == 1:
        m.d.sync += sig.eq(sig + 1)
        return
    with m.If(sig != last):
        m.d.sync += sig.eq(sig + 1)
    with m.Else():
        m.d.sync += sig.eq(0)
        step_nested(m, counters[1:])
