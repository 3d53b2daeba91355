"""A device behind a TCP socket on 127.0.0.1 that speaks the UART byte stream (docs/PROTOCOL.md).

``device`` is anything with ``receive(bytes) -> bytes`` and ``idle() -> bytes``: the reference
:class:`golden.link.DeviceModel` (``edgesplit serve-model``). The host reaches it with pyserial's
``socket://127.0.0.1:PORT``. A gap of :data:`IDLE` seconds on the socket is the idle line of the
protocol's mid-packet timeout. It serves one connection after another until stopped, as a powered
board does, the device's state kept between them; when a connection closes, the line goes idle
(:meth:`device.idle`) and what the device answers then is lost, as on a board with no host
listening, so a packet cut off by the close ends in the receiver's timeout and resync.
"""

import socket
import threading

from golden.link import LinkError

IDLE = 0.001


class Server:
    """Serves ``device`` to one connection at a time until :meth:`close`."""

    def __init__(self, device, port=0):
        self.device = device
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("127.0.0.1", port))
        except OSError as exc:
            self.sock.close()
            raise LinkError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; choose another --port") from None
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()

    def serve_forever(self):
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                break
            with conn:
                self._session(conn)
            self.device.idle()  # the line dropped: a cut packet times out, its NAK goes nowhere

    def _session(self, conn):
        conn.settimeout(IDLE)
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
                if not data:
                    return
                out = self.device.receive(data)
            except (TimeoutError, socket.timeout):
                out = self.device.idle()
            except OSError:
                return
            if out:
                try:
                    conn.sendall(out)
                except OSError:
                    return

    def start(self):
        """Serve in a background thread; returns ``self``."""
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def close(self):
        self._stop.set()
        self.sock.close()
