#!/usr/bin/env bash
# A TLS front for DynamoDB Local (scripts/tls_front.py), for cold starts measured over TLS.
#   scripts/tls-front.sh start http://127.0.0.1:PORT  -> prints https://127.0.0.1:PORT2; the
#       certificate (self-signed, for IP 127.0.0.1) is .local/tls/cert.pem: point SSL_CERT_FILE at it
#   scripts/tls-front.sh stop
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.local/tls"
pid_file="$root/.local/tls-front.pid"

case "${1:-}" in
  start)
    upstream="${2:?usage: $0 start http://127.0.0.1:PORT}"
    upstream_port="${upstream##*:}"
    mkdir -p "$dir"
    if [ ! -f "$dir/cert.pem" ]; then
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
    fi
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    python3 "$root/scripts/tls_front.py" "$dir/cert.pem" "$dir/key.pem" "$upstream_port" "$port" \
      >"$root/.local/tls-front.log" 2>&1 &
    echo $! >"$pid_file"
    for _ in $(seq 1 50); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "https://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "the TLS front did not start; see .local/tls-front.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$pid_file" ]; then
      kill "$(cat "$pid_file")" 2>/dev/null || true
      rm -f "$pid_file"
    fi
    ;;
  *)
    echo "usage: $0 start http://127.0.0.1:PORT | stop" >&2
    exit 2
    ;;
esac
