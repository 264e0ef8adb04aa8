#!/usr/bin/env bash
# schemathesis (PyPI) against a running local gateway with openapi.yaml: every operation, as a
# buyer, an agent, a shop admin and the platform (tokens from the gateway's /local/login), checked
# for no 5xx and for answers that conform to the spec (status codes, content types, headers, body
# schemas), with negative data that must be refused. Bounded: a few examples per operation.
# Each role is checked against its own view of the spec (scripts/stack/openapi_view.py): the
# buyer's answers against the buyer's closed schemas only, staff's (and the platform's) against
# the staff's.
#   bash scripts/schemathesis.sh URL
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
url="${1:?usage: scripts/schemathesis.sh URL}"
export PATH="$HOME/.local/bin:$PATH"

token() {
  curl -sf -X POST "$url/local/login" -H 'content-type: application/json' -d "{\"sub\":\"$1\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# The spec's example conversation (`c-schemathesis`) stands for one the buyer opened: the server
# mints conversation ids, so one is opened here and its id put in the examples, so that each
# role's 2xx answers on it are checked against that role's schema.
conv="$(curl -sf -X POST "$url/conversations" -H "Authorization: Bearer $(token buyer-zhang)" \
  -H 'content-type: application/json' -d '{"shop_id":"xiaolu-home","text":"我买的四件套怎么还没发货啊"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["conversation_id"])')"
echo "[schemathesis] the example conversation: $conv"
views="$(mktemp -d)"
trap 'rm -rf "$views"' EXIT
for role in buyer staff; do
  python3 "$root/scripts/stack/openapi_view.py" "$role" < "$root/openapi.yaml" |
    sed "s/c-schemathesis/$conv/g" > "$views/openapi-$role.yaml"
done

status=0
for who in buyer-zhang:buyer agent-xiaomei:staff admin-lin:staff platform-ops:staff; do
  role="${who#*:}" who="${who%%:*}"
  echo "[schemathesis] as $who ($role view)"
  schemathesis run "$views/openapi-$role.yaml" --url "$url" \
    -H "Authorization: Bearer $(token "$who")" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-15}" --seed 20261124 --workers 1 \
    --request-timeout 30 --suppress-health-check all --no-color || status=1
done
exit $status
