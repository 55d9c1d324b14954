package dev.orderflow.peer.order;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonFormat;

import jakarta.persistence.CollectionTable;
import jakarta.persistence.Column;
import jakarta.persistence.ElementCollection;
import jakarta.persistence.Embeddable;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.FetchType;
import jakarta.persistence.Id;
import jakarta.persistence.OrderColumn;
import jakarta.persistence.Table;
import jakarta.persistence.Version;

@Entity
@Table(name = "orders")
public class PurchaseOrder {

    public enum Status { PENDING, CONFIRMED, FAILED }

    @Embeddable
    public record Item(String sku, int quantity,
            @Column(precision = 19, scale = 2) @JsonFormat(shape = JsonFormat.Shape.STRING) BigDecimal unitPrice) {
    }

    @Embeddable
    public record StatusChange(@Enumerated(EnumType.STRING) Status status, String reason, Instant at) {
    }

    @Id
    private String id;

    @Version
    private Long version; // null until persisted: tells Spring Data the entity is new

    private String customerId;
    private String customerEmail;
    private String currency;
    @Column(precision = 19, scale = 2)
    private BigDecimal totalAmount;
    private String paymentToken;
    @Enumerated(EnumType.STRING)
    private Status status;
    private String failureReason;
    private String correlationId;
    private Instant createdAt;
    private Instant updatedAt;

    @ElementCollection(fetch = FetchType.EAGER)
    @CollectionTable(name = "order_items")
    @OrderColumn
    private List<Item> items = new ArrayList<>();

    @ElementCollection(fetch = FetchType.EAGER)
    @CollectionTable(name = "order_history")
    @OrderColumn
    private List<StatusChange> history = new ArrayList<>();

    protected PurchaseOrder() {
    }

    public PurchaseOrder(String id, String customerId, String customerEmail, String currency, List<Item> items,
            String paymentToken, String correlationId) {
        this.id = id;
        this.customerId = customerId;
        this.customerEmail = customerEmail;
        this.currency = currency;
        this.items.addAll(items);
        this.totalAmount = items.stream().map(i -> i.unitPrice().multiply(BigDecimal.valueOf(i.quantity())))
                .reduce(BigDecimal.ZERO, BigDecimal::add).setScale(2);
        this.paymentToken = paymentToken;
        this.correlationId = correlationId;
        this.createdAt = Instant.now();
        moveTo(Status.PENDING, null);
    }

    /** Sets the final status once; false when the order was already final (a redelivery). */
    public boolean complete(Status status, String reason) {
        if (this.status != Status.PENDING) {
            return false;
        }
        moveTo(status, reason);
        return true;
    }

    private void moveTo(Status status, String reason) {
        this.status = status;
        this.failureReason = reason;
        this.updatedAt = Instant.now();
        history.add(new StatusChange(status, reason, updatedAt));
    }

    public String getId() { return id; }
    public String getCustomerId() { return customerId; }
    public String getCustomerEmail() { return customerEmail; }
    public String getCurrency() { return currency; }
    public BigDecimal getTotalAmount() { return totalAmount; }
    public String getPaymentToken() { return paymentToken; }
    public Status getStatus() { return status; }
    public String getFailureReason() { return failureReason; }
    public String getCorrelationId() { return correlationId; }
    public Instant getCreatedAt() { return createdAt; }
    public Instant getUpdatedAt() { return updatedAt; }
    public List<Item> getItems() { return items; }
    public List<StatusChange> getHistory() { return history; }
}
