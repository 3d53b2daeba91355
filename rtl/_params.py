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
