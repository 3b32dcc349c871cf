"""A TCP proxy on 127.0.0.1 that can go silent, as a middlebox that drops a
connection's state without closing it: `stall()` makes every connection open
at that moment stop forwarding in both directions, while new connections are
forwarded as before.

    with StallingProxy(api_port) as proxy:
        ... connect to proxy.port ...
        proxy.stall()
"""
import select
import socket
import threading


class StallingProxy:
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs = []          # [client, upstream, stalled] of every connection
        self.accepted = 0
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def stall(self):
        """Every connection open now stops forwarding, and stays open."""
        with self.lock:
            for pair in self.pairs:
                pair[2] = True

    def connections(self):
        with self.lock:
            return self.accepted

    def close(self):
        self.closing = True
        self.listener.close()
        with self.lock:
            for client, upstream, _ in self.pairs:
                client.close()
                upstream.close()

    def _accept(self):
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            pair = [client, upstream, False]
            with self.lock:
                self.pairs.append(pair)
                self.accepted += 1
            threading.Thread(target=self._forward, args=(pair,), daemon=True).start()

    def _forward(self, pair):
        client, upstream, _ = pair
        peers = {client: upstream, upstream: client}
        while not self.closing:
            with self.lock:
                stalled = pair[2]
            if stalled:
                return  # both sockets stay open and unread until close()
            try:
                ready, _, _ = select.select(list(peers), [], [], 0.05)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        client.close()
                        upstream.close()
                        return
                    peers[sock].sendall(data)
            except OSError:
                return
