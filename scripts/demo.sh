#!/usr/bin/env bash
# Places three demo orders against the running stack (make up) and shows what happened:
#   tok_visa            -> CONFIRMED, confirmation email to the customer
#   tok_chargeDeclined  -> FAILED (card_declined), failure email to the customer
#   tok_processingError -> gateway errors, retries, record in payment-service.dlq,
#                          FAILED (payment-gateway-unavailable), alert email to ops
# Exits non-zero when an order does not end as expected.
#
# Environment: the stack's (ports, ORDERFLOW_RUN_DIR, ORDERFLOW_SMTP_URL…) and
# ORDERFLOW_DEMO_WAIT_S (150): how long to wait for the orders to reach a final status.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v jq >/dev/null || die "jq not found: run 'make deps'"
WAIT_S="${ORDERFLOW_DEMO_WAIT_S:-150}"
ORDER_URL="$(service_url order-service)"
NOTIFY_URL="$(service_url notification-service)"
ALERT_URL="$(service_url alerting-service)"
GATEWAY_URL="$(service_url payment-gateway)"
CONSOLE_URL="$(service_url console)"
# The token scripts/stack.sh gives alerting-service for its admin (DLQ) endpoints.
ADMIN_TOKEN="${ORDERFLOW_ADMIN_TOKEN-dev-admin-token}"
RUN_ID="demo-$(date +%H%M%S)"

[ "$(http_code "$ORDER_URL/actuator/health")" = 200 ] ||
  die "order-service is not UP at $ORDER_URL (start the stack with 'make up')"

NAMES=(ann bob carol)
TOKENS=(tok_visa tok_chargeDeclined tok_processingError)
EXPECT=(CONFIRMED FAILED FAILED)
EXPECT_REASON=("" card_declined payment-gateway-unavailable)
IDS=() STATUS=() REASON=()

place() {
  local name="$1" token="$2" body resp code
  body="$(jq -cn --arg c "$RUN_ID-$name" --arg e "$name@example.com" --arg t "$token" \
    '{customerId:$c, customerEmail:$e, currency:"EUR",
      items:[{sku:"BOOK-1",quantity:2,unitPrice:"12.50"},{sku:"PEN-7",quantity:1,unitPrice:"3.99"}],
      paymentToken:$t}')"
  resp="$(curl -sS -m 10 -w '\n%{http_code}' -X POST "$ORDER_URL/place-order" \
    -H 'Content-Type: application/json' -H "X-Correlation-ID: $RUN_ID-$name" -d "$body")" ||
    die "POST $ORDER_URL/place-order failed"
  code="${resp##*$'\n'}"
  resp="${resp%$'\n'*}"
  [ "$code" = 202 ] || die "POST /place-order for $name ($token) answered $code: $resp"
  jq -r .orderId <<<"$resp"
}

info "placing 3 demo orders at $ORDER_URL/place-order (2 x BOOK-1 @ 12.50 + 1 x PEN-7 @ 3.99 = 28.99 EUR)"
for i in 0 1 2; do
  IDS[i]="$(place "${NAMES[i]}" "${TOKENS[i]}")"
  printf '  %-6s %-20s -> order %s (PENDING)\n' "${NAMES[i]}" "${TOKENS[i]}" "${IDS[i]}"
done

info "waiting for the final statuses (the gateway-error order retries before it gives up; up to ${WAIT_S}s)"
deadline=$((SECONDS + WAIT_S))
while :; do
  pending=0
  for i in 0 1 2; do
    [ -n "${STATUS[i]:-}" ] && [ "${STATUS[i]}" != PENDING ] && continue
    order="$(curl -sS -m 5 "$ORDER_URL/api/v1/orders/${IDS[i]}" 2>/dev/null || true)"
    STATUS[i]="$(jq -r '.status // "?"' <<<"$order" 2>/dev/null || echo '?')"
    REASON[i]="$(jq -r '.failureReason // ""' <<<"$order" 2>/dev/null || true)"
    if [ "${STATUS[i]}" = CONFIRMED ] || [ "${STATUS[i]}" = FAILED ]; then
      printf '  %-6s %s %s\n' "${NAMES[i]}" "${STATUS[i]}" "${REASON[i]:+(${REASON[i]})}"
    else
      pending=$((pending + 1))
    fi
  done
  [ $pending -eq 0 ] && break
  [ $SECONDS -ge $deadline ] && { err "$pending order(s) still not final after ${WAIT_S}s"; break; }
  sleep 0.5
done

# Notifications and alerts follow the final status through Kafka: give them a moment.
wait_for_json() { # URL JQ-FILTER -> prints the first non-empty result within 30 s
  local url="$1" filter="$2" out deadline=$((SECONDS + 30))
  while :; do
    out="$(curl -sS -m 5 "$url" 2>/dev/null | jq -c "$filter" 2>/dev/null || true)"
    if [ -n "$out" ] && [ "$out" != "[]" ] && [ "$out" != null ]; then echo "$out"; return 0; fi
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
}

failed=0
echo
info "results"
for i in 0 1 2; do
  verdict="as expected"
  if [ "${STATUS[i]}" != "${EXPECT[i]}" ] ||
     { [ -n "${EXPECT_REASON[i]}" ] && [[ "${REASON[i]}" != *"${EXPECT_REASON[i]}"* ]]; }; then
    verdict="UNEXPECTED: wanted ${EXPECT[i]}${EXPECT_REASON[i]:+ (${EXPECT_REASON[i]})}"
    failed=1
  fi
  printf '\n  %s (%s) order %s\n' "${NAMES[i]}" "${TOKENS[i]}" "${IDS[i]}"
  printf '    status:    %s%s  [%s]\n' "${STATUS[i]}" "${REASON[i]:+, reason: ${REASON[i]}}" "$verdict"
  printf '    history:   %s\n' "$(curl -sS -m 5 "$ORDER_URL/api/v1/orders/${IDS[i]}" |
    jq -r '[(.statusHistory // .history // [])[] | (.status // .)] | join(" -> ")' 2>/dev/null || true)"
  if notes="$(wait_for_json "$NOTIFY_URL/api/v1/notifications?orderId=${IDS[i]}" '.')"; then
    jq -r '.[] | "    email:     to \(.to): \"\(.subject)\" (\(.outcome))"' <<<"$notes"
  else
    printf '    email:     none listed yet by notification-service\n'
  fi
  printf '    charges:   %s\n' "$(curl -sS -m 5 "$GATEWAY_URL/v1/charges?orderId=${IDS[i]}" |
    jq -r '(if type == "object" then (.data // .charges // []) else . end) | map(.status) |
           if length == 0 then "none" else join(", ") end' 2>/dev/null || echo '?')"
done

echo
if alerts="$(wait_for_json "$ALERT_URL/api/v1/alerts" "map(select(.orderId == \"${IDS[2]}\"))")"; then
  info "DLQ alert raised by alerting-service for order ${IDS[2]}"
  jq -r '.[] | "    \(.time)  topic \(.topic)  reason \(.reason)  count \(.count)"' <<<"$alerts"
else
  err "no alert for order ${IDS[2]} in GET $ALERT_URL/api/v1/alerts"
  failed=1
fi

echo
info "where the emails went"
if [ -n "${ORDERFLOW_SMTP_URL:-}" ]; then
  echo "    customer emails and alerts were sent over SMTP to $ORDERFLOW_SMTP_URL"
else
  for svc in notification-service alerting-service; do
    dir="$(mail_dir "$svc")"
    total="$(find "$dir" -maxdepth 1 -type f 2>/dev/null | wc -l)"
    ours="$(grep -lsF -e "${IDS[0]}" -e "${IDS[1]}" -e "${IDS[2]}" "$dir"/* 2>/dev/null | wc -l || true)"
    printf '    %-17s %s  (%s message(s), %s about these orders)\n' \
      "$( [ "$svc" = alerting-service ] && echo "ops alerts:" || echo "customer emails:")" \
      "${dir#"$ORDERFLOW_ROOT/"}/" "$total" "$ours"
  done
  echo "    (set ORDERFLOW_SMTP_URL=smtp://host:port to send them through an SMTP server instead)"
fi

echo
info "look around"
cat <<EOF
    console         ${CONSOLE_URL/127.0.0.1/localhost}/ (orders, their events, the DLQ, charts; demo mode signs you in)
    orders          $ORDER_URL/api/v1/orders/${IDS[0]}
                    $ORDER_URL/api/v1/orders?limit=10
    notifications   $NOTIFY_URL/api/v1/notifications?orderId=${IDS[0]}
    alerts          $ALERT_URL/api/v1/alerts
    DLQ             $ALERT_URL/api/v1/dlq
    DLQ (admin)     curl -H 'Authorization: Bearer $ADMIN_TOKEN' '$ALERT_URL/api/v1/dlq/payment-service.dlq/messages?limit=10'
                    curl -H 'Authorization: Bearer $ADMIN_TOKEN' -H 'Content-Type: application/json' \\
                      -d '{"all":true,"dryRun":true}' $ALERT_URL/api/v1/dlq/payment-service.dlq/replay
                    curl -H 'Authorization: Bearer $ADMIN_TOKEN' $ALERT_URL/api/v1/dlq/replays
    gateway ledger  $GATEWAY_URL/v1/charges?orderId=${IDS[0]}
    health          $ORDER_URL/actuator/health (each service: /actuator/health)
    metrics         $ORDER_URL/metrics (each service: /metrics, /actuator/prometheus)
    Prometheus      http://127.0.0.1:${ORDERFLOW_PROMETHEUS_PORT:-9090}/targets (when make up/run started it)
    Alertmanager    http://127.0.0.1:${ORDERFLOW_ALERTMANAGER_PORT:-9098}/#/alerts (Prometheus alerts: mail + incident webhook)
    traces          http://127.0.0.1:${ORDERFLOW_ZIPKIN_PORT:-9411}/zipkin/traces/<traceId> (the traceId is in the order's log lines)
    Kafka           kcat -b $ORDERFLOW_KAFKA_BOOTSTRAP -C -t order-events -o beginning -e -J
    logs            ${RUN_DIR#"$ORDERFLOW_ROOT/"}/logs/<service>.log
EOF
exit $failed
