"""The project's own exceptions.

Every error a user can cause (bad configuration, bad file, corrupt frame, a board the design does not
fit, no device on a port) is one of these. The CLI prints the message on one line and exits non-zero;
it never shows a traceback for them.
"""


class EdgesplitError(Exception):
    """Base class of every error edgesplit raises on purpose."""

    exit_code = 1


class ConfigError(EdgesplitError, ValueError):
    """A configuration value is out of range or inconsistent."""

    exit_code = 2


class DataError(EdgesplitError):
    """A data set file or folder cannot be read as the format it claims."""

    exit_code = 2


class FrameError(EdgesplitError):
    """A frame is malformed: wrong magic or version, bad lengths, bad CRC, undecodable payload."""

    exit_code = 2


class TableError(EdgesplitError):
    """A codec table (Huffman code lengths, quantizer thresholds) is malformed or unknown."""

    exit_code = 2


class ModelError(EdgesplitError):
    """Model weights or the shipped bundle are missing or inconsistent with the configuration."""

    exit_code = 2


class BuildError(EdgesplitError):
    """A synthesis or place-and-route run failed, its tools are missing, or the design does not fit
    the part."""

    exit_code = 2
