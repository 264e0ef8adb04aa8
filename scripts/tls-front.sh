#!/usr/bin/env bash
# A TLS front for DynamoDB Local (scripts/tls_front.py), for cold starts measured over TLS.
#   scripts/tls-front.sh start http://127.0.0.1:PORT  -> prints https://127.0.0.1:PORT2; the
#       certificate (self-signed, for IP 127.0.0.1) is .local/tls/cert.pem: point SSL_CERT_FILE at it
#   scripts/tls-front.sh stop
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.local/tls"
# shellcheck source=lib/server.sh
source "$root/scripts/lib/server.sh"

case "${1:-}" in
  start)
    upstream="${2:?usage: $0 start http://127.0.0.1:PORT}"
    mkdir -p "$dir"
    if [ ! -f "$dir/cert.pem" ]; then
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
    fi
    port="$(free_port)"
    start_server tls-front "$port" https \
      python3 "$root/scripts/tls_front.py" "$dir/cert.pem" "$dir/key.pem" "${upstream##*:}" "$port"
    ;;
  stop)
    stop_server tls-front
    ;;
  *)
    echo "usage: $0 start http://127.0.0.1:PORT | stop" >&2
    exit 2
    ;;
esac
