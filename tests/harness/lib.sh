# Shell helpers shared by the harness scripts that start real servers; source it.

# Prints a free TCP port on 127.0.0.1 (the kernel picks it; the tiny race is acceptable in tests).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
