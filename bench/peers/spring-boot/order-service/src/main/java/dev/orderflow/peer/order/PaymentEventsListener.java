package dev.orderflow.peer.order;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.orderflow.peer.events.CloudEvents;

/** PaymentSuccess / PaymentFailed set the order's final status, then OrderConfirmed / OrderFailed go out. */
@Component
public class PaymentEventsListener {

    private final OrderService service;
    private final ObjectMapper json;

    PaymentEventsListener(OrderService service, ObjectMapper json) {
        this.service = service;
        this.json = json;
    }

    @KafkaListener(topics = "${peer.topics.prefix:}payment-events")
    void on(ConsumerRecord<String, String> record) throws JsonProcessingException {
        String type = CloudEvents.header(record, CloudEvents.TYPE);
        JsonNode event = json.readTree(record.value());
        PurchaseOrder.Status status;
        String reason = null;
        if ("PaymentSuccess".equals(type)) {
            status = PurchaseOrder.Status.CONFIRMED;
        } else if ("PaymentFailed".equals(type)) {
            status = PurchaseOrder.Status.FAILED;
            reason = event.path("reason").asText("payment-failed");
        } else {
            return;
        }
        service.complete(event.path("orderId").asText(record.key()), status, reason)
                .ifPresent(order -> service.publishOutcome(order, CloudEvents.header(record, CloudEvents.TRACEPARENT)));
    }
}
