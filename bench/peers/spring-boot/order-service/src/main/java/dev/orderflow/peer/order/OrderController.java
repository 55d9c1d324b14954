package dev.orderflow.peer.order;

import java.math.BigDecimal;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import jakarta.validation.Valid;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

@RestController
public class OrderController {

    record Placed(String orderId, String status, String totalAmount, String currency, String correlationId) {
    }

    record OrderView(String orderId, String status, String failureReason, String customerId, String customerEmail,
            String totalAmount, String currency, List<PurchaseOrder.Item> items,
            List<PurchaseOrder.StatusChange> history, String correlationId, Instant createdAt, Instant updatedAt) {
    }

    private final OrderService service;

    OrderController(OrderService service) {
        this.service = service;
    }

    @PostMapping({"/place-order", "/api/v1/orders"})
    ResponseEntity<Placed> place(@Valid @RequestBody PlaceOrderRequest request,
            @RequestHeader(name = "X-Correlation-ID", required = false) String correlationId,
            @RequestHeader(name = "traceparent", required = false) String traceparent) {
        String cid = correlationId != null ? correlationId : UUID.randomUUID().toString();
        PurchaseOrder order = service.place(request, cid);
        service.publishCreated(order, traceparent);
        return ResponseEntity.accepted().location(URI.create("/api/v1/orders/" + order.getId()))
                .header("X-Correlation-ID", cid)
                .body(new Placed(order.getId(), order.getStatus().name(), money(order.getTotalAmount()),
                        order.getCurrency(), cid));
    }

    @GetMapping("/api/v1/orders/{orderId}")
    ResponseEntity<OrderView> get(@PathVariable String orderId) {
        return ResponseEntity.of(service.find(orderId).map(o -> new OrderView(o.getId(), o.getStatus().name(),
                o.getFailureReason(), o.getCustomerId(), o.getCustomerEmail(), money(o.getTotalAmount()),
                o.getCurrency(), o.getItems(), o.getHistory(), o.getCorrelationId(), o.getCreatedAt(),
                o.getUpdatedAt())));
    }

    /** Invalid values are 422 (SPEC §2), with the offending fields. */
    @ExceptionHandler(MethodArgumentNotValidException.class)
    ProblemDetail invalid(MethodArgumentNotValidException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.UNPROCESSABLE_ENTITY, "invalid order");
        problem.setProperty("errors", e.getFieldErrors().stream()
                .map(f -> java.util.Map.of("field", f.getField(), "message", String.valueOf(f.getDefaultMessage())))
                .toList());
        return problem;
    }

    private static String money(BigDecimal amount) {
        return amount.setScale(2).toPlainString();
    }
}
