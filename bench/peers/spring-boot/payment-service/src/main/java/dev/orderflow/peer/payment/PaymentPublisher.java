package dev.orderflow.peer.payment;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.orderflow.peer.events.CloudEvents;
import dev.orderflow.peer.events.Topics;

/** PaymentSuccess / PaymentFailed on payment-events, keyed by order id. */
@Component
public class PaymentPublisher {

    static final String SOURCE = "peer-payment-service";

    private final KafkaTemplate<String, String> kafka;
    private final ObjectMapper json;
    private final Topics topics;

    PaymentPublisher(KafkaTemplate<String, String> kafka, ObjectMapper json, Topics topics) {
        this.kafka = kafka;
        this.json = json;
        this.topics = topics;
    }

    public void succeeded(ConsumerRecord<String, String> cause, JsonNode order, String chargeId) {
        publish(cause, "PaymentSuccess", Map.of("chargeId", chargeId, "amount", order.path("totalAmount").asText(),
                "currency", order.path("currency").asText()));
    }

    public void failed(ConsumerRecord<String, String> cause, String reason, String code) {
        publish(cause, "PaymentFailed", Map.of("reason", reason, "code", code));
    }

    /** After the last retry: the record went to the DLT and the order fails (SPEC §5). */
    public void gatewayUnavailable(ConsumerRecord<?, ?> cause) {
        @SuppressWarnings("unchecked")
        ConsumerRecord<String, String> record = (ConsumerRecord<String, String>) cause;
        failed(record, "payment-gateway-unavailable", "gateway_unavailable");
    }

    private void publish(ConsumerRecord<String, String> cause, String type, Map<String, Object> fields) {
        Map<String, Object> payload = new HashMap<>(fields);
        payload.put("schemaVersion", 1);
        payload.put("orderId", cause.key());
        try {
            kafka.send(CloudEvents.record(topics.paymentEvents(), cause.key(), type, SOURCE,
                    json.writeValueAsString(payload), CloudEvents.header(cause, CloudEvents.CORRELATION_ID),
                    CloudEvents.header(cause, CloudEvents.TRACEPARENT)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
