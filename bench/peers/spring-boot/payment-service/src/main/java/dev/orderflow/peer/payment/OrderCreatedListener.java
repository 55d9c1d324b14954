package dev.orderflow.peer.payment;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.orderflow.peer.events.CloudEvents;

/** Charges each OrderCreated through the gateway and publishes the outcome. */
@Component
public class OrderCreatedListener {

    private final GatewayClient gateway;
    private final PaymentPublisher publisher;
    private final ObjectMapper json;

    OrderCreatedListener(GatewayClient gateway, PaymentPublisher publisher, ObjectMapper json) {
        this.gateway = gateway;
        this.publisher = publisher;
        this.json = json;
    }

    @KafkaListener(topics = "${peer.topics.prefix:}order-events")
    void on(ConsumerRecord<String, String> record) {
        if (!"OrderCreated".equals(CloudEvents.header(record, CloudEvents.TYPE))) {
            return; // OrderConfirmed / OrderFailed share the topic
        }
        JsonNode order;
        try {
            order = json.readTree(record.value());
        } catch (JsonProcessingException e) {
            throw new MalformedEventException("unreadable OrderCreated", e);
        }
        GatewayClient.Charge charge = gateway.charge(record.key(), order.path("totalAmount").asText(),
                order.path("currency").asText(), order.path("paymentToken").asText());
        if (charge.succeeded()) {
            publisher.succeeded(record, order, charge.chargeId());
        } else {
            publisher.failed(record, charge.declineCode(), charge.declineCode());
        }
    }
}
