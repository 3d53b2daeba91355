"""Configuration to hardware: the layer engine, the edge device and the SoC of a
:class:`golden.config.Config`, as its board has them. sim/ and fpga/ take their hardware from here."""

from golden import layer_engine
from golden import link as L

__all__ = ["engine_image_for", "engine_for", "engine_of", "device_for", "soc_for"]


def engine_image_for(cfg):
    """The checked :class:`golden.layer_engine.EngineImage` of ``cfg``: its program in its memories;
    :class:`golden.errors.ConfigError` naming the layer and the limit of what the engine cannot run."""
    return layer_engine.image_for(cfg)


def engine_for(cfg):
    """The layer engine of ``cfg`` and its image, as the board's device has it: the ECP5's
    :class:`rtl.layer_engine.LayerEngine`, or where ``cfg.serial`` (the iCE40UP5K) the
    :class:`rtl.dot_engine.DotEngine`."""
    image = engine_image_for(cfg)
    return engine_of(image, cfg.acc_width, cfg.serial), image


def engine_of(image, acc_width, serial, buffer_bytes=0):
    """The engine that runs ``image``: :class:`rtl.dot_engine.DotEngine` where ``serial`` (holding
    the link's packet buffer of ``buffer_bytes`` in its activation RAM, if any), else
    :class:`rtl.layer_engine.LayerEngine`."""
    from .dot_engine import DotEngine
    from .layer_engine import LayerEngine

    if serial:
        return DotEngine(image=image, acc_width=acc_width, buffer_bytes=buffer_bytes)
    return LayerEngine(image=image, acc_width=acc_width)


def device_for(cfg, payload_words=128):
    """The :class:`rtl.edge_device.EdgeDevice` of ``cfg`` (layer engine and codec) and its image."""
    from .edge_device import EdgeDevice

    image = engine_image_for(cfg)
    return EdgeDevice(image=image, acc_width=cfg.acc_width, payload_words=payload_words,
                      serial=cfg.serial), image


def soc_for(cfg, *, divisor, timeout):
    """The :class:`rtl.soc.EdgeSoC` of ``cfg``: ``divisor`` core cycles a UART bit, ``timeout``
    idle cycles that end a truncated packet."""
    from .soc import EdgeSoC

    return EdgeSoC(image=engine_image_for(cfg), layers=cfg.split, ident=L.identity(cfg), divisor=divisor,
                   timeout=timeout, acc_width=cfg.acc_width, serial=cfg.serial)
