package dev.orderflow.peer.notification;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.stereotype.Component;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.orderflow.peer.events.CloudEvents;

/** One email to the customer per final order outcome (OrderConfirmed / OrderFailed). */
@Component
public class OrderOutcomeListener {

    private final JavaMailSender mail;
    private final ObjectMapper json;
    private final String from;

    OrderOutcomeListener(JavaMailSender mail, ObjectMapper json, @Value("${peer.mail.from}") String from) {
        this.mail = mail;
        this.json = json;
        this.from = from;
    }

    @KafkaListener(topics = "${peer.topics.prefix:}order-events")
    void on(ConsumerRecord<String, String> record) throws JsonProcessingException {
        String type = CloudEvents.header(record, CloudEvents.TYPE);
        boolean confirmed = "OrderConfirmed".equals(type);
        if (!confirmed && !"OrderFailed".equals(type)) {
            return; // OrderCreated is payment-service's
        }
        JsonNode order = json.readTree(record.value());
        String orderId = order.path("orderId").asText(record.key());
        SimpleMailMessage message = new SimpleMailMessage();
        message.setFrom(from);
        message.setTo(order.path("customerEmail").asText());
        if (confirmed) {
            message.setSubject("Your order " + orderId + " is confirmed");
            message.setText("Thank you! Order " + orderId + " (" + order.path("totalAmount").asText() + " "
                    + order.path("currency").asText() + ") is confirmed and paid.");
        } else {
            message.setSubject("Your order " + orderId + " could not be completed");
            message.setText("Order " + orderId + " failed: " + order.path("failureReason").asText("unknown")
                    + ". You have not been charged.");
        }
        mail.send(message);
    }
}
