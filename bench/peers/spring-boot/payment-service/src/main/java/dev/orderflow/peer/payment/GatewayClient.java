package dev.orderflow.peer.payment;

import java.util.Map;

import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestClient;

import com.fasterxml.jackson.databind.JsonNode;

/** POST /v1/charges on orderflow's payment-gateway (SPEC §6), idempotent by order id. */
@Component
public class GatewayClient {

    public record Charge(boolean succeeded, String chargeId, String declineCode) {
    }

    public static class GatewayUnavailableException extends RuntimeException {
        public GatewayUnavailableException(String message) {
            super(message);
        }
    }

    private final RestClient gateway;

    GatewayClient(RestClient gateway) {
        this.gateway = gateway;
    }

    public Charge charge(String orderId, String amount, String currency, String token) {
        return gateway.post().uri("/v1/charges")
                .header("Idempotency-Key", orderId)
                .contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("orderId", orderId, "amount", amount, "currency", currency, "source", token))
                .exchange((request, response) -> {
                    int status = response.getStatusCode().value();
                    if (status == 200) {
                        return new Charge(true, response.bodyTo(JsonNode.class).path("id").asText(), null);
                    }
                    if (status == 402) { // a decline: a final business outcome
                        JsonNode body = response.bodyTo(JsonNode.class);
                        return new Charge(false, null, body.path("error").path("code").asText("card_declined"));
                    }
                    throw new GatewayUnavailableException("gateway answered " + status);
                });
    }
}
