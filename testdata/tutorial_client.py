# The socket tutorial's client: connect, send, receive, close.
# Usage: python3 tutorial_client.py [PORT]   (PORT defaults to 8888)
import socket
import sys

HOST = 'localhost'
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8888

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect((HOST, PORT))
client.send(b'Hello, World!')
data = client.recv(1024)
client.close()
print(data.decode('utf-8'))
