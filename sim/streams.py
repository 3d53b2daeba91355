"""Stream drivers for Amaranth-simulator testbenches (``lib.stream`` valid/ready rules).

A producer raises ``valid`` without waiting for ``ready`` and holds its payload until the
handshake; a consumer may drop ``ready`` at any time. Both take a random generator and a probability
to insert idle (producer) or stall (consumer) cycles, so every block test runs with random gaps and
backpressure.
"""

from rtl.layer_engine import counts_of_words

__all__ = ["put", "get", "to_int_list", "layer_cycles", "run"]


async def put(ctx, stream, payloads, *, rng=None, idle=0.0):
    """Send every payload on ``stream``; ``idle`` is the chance of an idle cycle before each."""
    for payload in payloads:
        while rng is not None and idle and rng.random() < idle:
            ctx.set(stream.valid, 0)
            await ctx.tick()
        ctx.set(stream.payload, payload)
        ctx.set(stream.valid, 1)
        await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def get(ctx, stream, count, *, rng=None, stall=0.0, cycles=None):
    """Receive ``count`` payloads from ``stream``; ``stall`` is the chance of a cycle with ``ready``
    low before each. With a ``cycles`` list, appends the cycle of every handshake to it."""
    out = []
    cycle = 0
    while len(out) < count:
        if rng is not None and stall and rng.random() < stall:
            ctx.set(stream.ready, 0)
            await ctx.tick()
            cycle += 1
            continue
        ctx.set(stream.ready, 1)
        while True:
            _, _, payload, valid = await ctx.tick().sample(stream.payload, stream.valid)
            cycle += 1
            if valid:
                break
        out.append(payload)
        if cycles is not None:
            cycles.append(cycle)
    ctx.set(stream.ready, 0)
    return out


def to_int_list(value):
    """Plain ints from a sampled ``ArrayLayout`` payload."""
    return [int(v) for v in value]


async def layer_cycles(ctx, dut, layers):
    """The per-layer cycle counts of ``dut`` (an engine or edge device): its ``cycles`` array, or
    read from its block RAM through ``cycles_r`` and ``cycles_q`` (two words a layer, the high half
    first; :func:`rtl.layer_engine.count_ram_members`), a cycle a word."""
    if not hasattr(dut, "cycles_q"):
        return [ctx.get(dut.cycles[i]) for i in range(layers)]
    words = []
    for a in range(2 * layers):
        ctx.set(dut.cycles_r, a)
        await ctx.tick()
        words.append(ctx.get(dut.cycles_q))
    return counts_of_words(words)


def run(dut, *testbenches, period=1e-8):
    """Simulate ``dut`` with a clock of ``period`` seconds on its sync domain until every
    testbench has returned."""
    from amaranth.sim import Simulator

    sim = Simulator(dut)
    sim.add_clock(period)
    for bench in testbenches:
        sim.add_testbench(bench)
    sim.run()
