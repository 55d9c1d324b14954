package dev.orderflow.peer.payment;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.support.ExponentialBackOffWithMaxRetries;
import org.springframework.web.client.RestClient;

import dev.orderflow.peer.events.Topics;

@SpringBootApplication
@EnableConfigurationProperties(Topics.class)
public class PaymentServiceApplication {

    public static void main(String[] args) {
        SpringApplication.run(PaymentServiceApplication.class, args);
    }

    @Bean
    NewTopic orderEvents(Topics topics) {
        return topics.topic(topics.orderEvents());
    }

    @Bean
    NewTopic paymentEvents(Topics topics) {
        return topics.topic(topics.paymentEvents());
    }

    /** The dead letter topic: DeadLetterPublishingRecoverer's default name, same partition count. */
    @Bean
    NewTopic orderEventsDlt(Topics topics) {
        return topics.topic(topics.orderEvents() + "-dlt");
    }

    @Bean
    RestClient gateway(RestClient.Builder builder, @Value("${peer.gateway-url}") String url) {
        return builder.baseUrl(url).build();
    }

    /**
     * A record whose charge keeps failing (gateway 5xx, timeouts) is retried with exponential
     * backoff on the listener thread, then published to the DLT and its order failed.
     * Spring Boot picks this bean up as the listener containers' error handler.
     */
    @Bean
    DefaultErrorHandler errorHandler(KafkaTemplate<String, String> kafka, PaymentPublisher publisher,
            @Value("${peer.retry.max-retries:4}") int maxRetries,
            @Value("${peer.retry.initial-interval-ms:200}") long initialInterval) {
        DeadLetterPublishingRecoverer dlt = new DeadLetterPublishingRecoverer(kafka);
        ExponentialBackOffWithMaxRetries backOff = new ExponentialBackOffWithMaxRetries(maxRetries);
        backOff.setInitialInterval(initialInterval);
        backOff.setMultiplier(2.0);
        DefaultErrorHandler handler = new DefaultErrorHandler((record, e) -> {
            dlt.accept(record, e);
            publisher.gatewayUnavailable(record);
        }, backOff);
        handler.addNotRetryableExceptions(MalformedEventException.class);
        return handler;
    }
}
