"""Test servers, each a small program with a control endpoint: fake_apiserver.py
(a Kubernetes API server) and usage_server.py (an Echo Server Usage API).
support/servers.py starts and drives them."""
