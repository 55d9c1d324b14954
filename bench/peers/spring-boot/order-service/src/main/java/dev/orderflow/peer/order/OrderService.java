package dev.orderflow.peer.order;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.orderflow.peer.events.CloudEvents;
import dev.orderflow.peer.events.Topics;

/**
 * Stores orders and publishes their events. The order is committed first and its event sent
 * right after the commit: no outbox (Spring Modulith is not used; see the README).
 */
@Service
public class OrderService {

    static final String SOURCE = "peer-order-service";

    private final OrderRepository orders;
    private final KafkaTemplate<String, String> kafka;
    private final ObjectMapper json;
    private final Topics topics;

    OrderService(OrderRepository orders, KafkaTemplate<String, String> kafka, ObjectMapper json, Topics topics) {
        this.orders = orders;
        this.kafka = kafka;
        this.json = json;
        this.topics = topics;
    }

    @Transactional
    public PurchaseOrder place(PlaceOrderRequest request, String correlationId) {
        List<PurchaseOrder.Item> items = request.items().stream()
                .map(i -> new PurchaseOrder.Item(i.sku(), i.quantity(), i.unitPrice())).toList();
        return orders.save(new PurchaseOrder(UUID.randomUUID().toString(), request.customerId(),
                request.customerEmail(), request.currency(), items, request.paymentToken(), correlationId));
    }

    public void publishCreated(PurchaseOrder order, String traceparent) {
        Map<String, Object> payload = Map.of("schemaVersion", 1, "orderId", order.getId(),
                "customerId", order.getCustomerId(), "customerEmail", order.getCustomerEmail(),
                "totalAmount", order.getTotalAmount().toPlainString(), "currency", order.getCurrency(),
                "paymentToken", order.getPaymentToken(), "items", order.getItems());
        send(order, "OrderCreated", payload, traceparent);
    }

    @Transactional
    public Optional<PurchaseOrder> complete(String orderId, PurchaseOrder.Status status, String reason) {
        return orders.findById(orderId).filter(o -> o.complete(status, reason));
    }

    public void publishOutcome(PurchaseOrder order, String traceparent) {
        boolean confirmed = order.getStatus() == PurchaseOrder.Status.CONFIRMED;
        Map<String, Object> payload = new java.util.HashMap<>(Map.of("schemaVersion", 1, "orderId", order.getId(),
                "customerEmail", order.getCustomerEmail(), "totalAmount", order.getTotalAmount().toPlainString(),
                "currency", order.getCurrency(), "status", order.getStatus().name()));
        if (!confirmed) {
            payload.put("failureReason", order.getFailureReason());
        }
        send(order, confirmed ? "OrderConfirmed" : "OrderFailed", payload, traceparent);
    }

    public Optional<PurchaseOrder> find(String orderId) {
        return orders.findById(orderId);
    }

    private void send(PurchaseOrder order, String type, Map<String, Object> payload, String traceparent) {
        try {
            kafka.send(CloudEvents.record(topics.orderEvents(), order.getId(), type, SOURCE,
                    json.writeValueAsString(payload), order.getCorrelationId(), traceparent));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
