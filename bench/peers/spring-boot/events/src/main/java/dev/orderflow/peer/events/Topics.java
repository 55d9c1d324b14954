package dev.orderflow.peer.events;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.kafka.config.TopicBuilder;

/**
 * Topic names (SPEC §4), each behind an optional prefix ({@code peer.topics.prefix}) so that the
 * peer can share a broker with orderflow without either consuming the other's records.
 */
@ConfigurationProperties("peer.topics")
public record Topics(String prefix, int partitions) {

    public Topics {
        prefix = prefix == null ? "" : prefix;
        partitions = partitions <= 0 ? 6 : partitions;
    }

    public String orderEvents() {
        return prefix + "order-events";
    }

    public String paymentEvents() {
        return prefix + "payment-events";
    }

    public NewTopic topic(String name) {
        return TopicBuilder.name(name).partitions(partitions).replicas(1).build();
    }
}
