#!/usr/bin/env bash
# Writes a throwaway test CA and a server certificate for localhost and
# 127.0.0.1 into DIR: ca.pem, cert.pem (the leaf), key.pem. The leaf has
# basicConstraints=critical,CA:FALSE, which rustls (Deno's TLS) requires of
# an end-entity certificate.
# Usage: bash testdata/make_certs.sh DIR
set -euo pipefail
dir=${1:?usage: make_certs.sh DIR}
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout ca.key -out ca.pem -days 2 -subj "/CN=netkit test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout key.pem -out leaf.csr -subj "/CN=localhost" 2>/dev/null
cat > leaf.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -out cert.pem -days 2 -extfile leaf.ext 2>/dev/null
rm -f leaf.csr leaf.ext ca.srl
