# The socket tutorial's server: accept one client, receive, reply, close.
# Usage: python3 tutorial_server.py [PORT]   (PORT defaults to 8888; 0 picks
# a free port). The port it listens on is the first line on stdout.
import socket
import sys

HOST = 'localhost'
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8888

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind((HOST, PORT))
server.listen(5)
print(server.getsockname()[1], flush=True)

conn, addr = server.accept()
data = conn.recv(1024)
conn.send(b'Hello, World!')
conn.close()
server.close()
