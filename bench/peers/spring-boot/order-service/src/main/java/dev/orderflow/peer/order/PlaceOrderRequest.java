package dev.orderflow.peer.order;

import java.math.BigDecimal;
import java.util.List;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Digits;
import jakarta.validation.constraints.Email;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

/** The body of POST /place-order (SPEC §2). Money is a decimal string, read as a BigDecimal. */
public record PlaceOrderRequest(
        @NotBlank @Size(max = 128) String customerId,
        @NotBlank @Email @Size(max = 254) String customerEmail,
        @NotNull @Pattern(regexp = "EUR|USD|GBP|CHF|JPY|CAD|AUD|SEK|NOK|DKK|PLN") String currency,
        @NotEmpty @Size(max = 100) List<@Valid Item> items,
        @NotNull @Pattern(regexp = "tok_[A-Za-z0-9_]{1,64}") String paymentToken) {

    public record Item(
            @NotBlank @Size(max = 64) String sku,
            @Positive int quantity,
            @NotNull @DecimalMin("0.00") @Digits(integer = 12, fraction = 2) BigDecimal unitPrice) {
    }
}
