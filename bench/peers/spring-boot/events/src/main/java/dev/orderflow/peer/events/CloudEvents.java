package dev.orderflow.peer.events;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The CloudEvents 1.0 Kafka binding in binary mode (SPEC §4): the value is the JSON payload, the
 * attributes are headers.
 */
public final class CloudEvents {

    public static final String TYPE = "ce_type";
    public static final String CORRELATION_ID = "ce_correlationid";
    public static final String TRACEPARENT = "traceparent";

    private static final SecureRandom RANDOM = new SecureRandom();

    private CloudEvents() {
    }

    /** A record keyed by order id, carrying ce_* headers, content-type and a W3C traceparent. */
    public static ProducerRecord<String, String> record(String topic, String orderId, String type, String source,
            String json, String correlationId, String traceparent) {
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, orderId, json);
        Headers h = record.headers();
        add(h, "ce_specversion", "1.0");
        add(h, "ce_id", UUID.randomUUID().toString());
        add(h, TYPE, type);
        add(h, "ce_source", source);
        add(h, "ce_time", Instant.now().toString());
        add(h, "content-type", "application/json");
        if (correlationId != null) {
            add(h, CORRELATION_ID, correlationId);
        }
        add(h, TRACEPARENT, childOf(traceparent));
        return record;
    }

    /** The value of a header, or null. */
    public static String header(ConsumerRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** A new span id in the trace of {@code parent} (a new trace when there is none). */
    static String childOf(String parent) {
        byte[] span = new byte[8];
        RANDOM.nextBytes(span);
        String traceId;
        if (parent != null && parent.length() == 55) {
            traceId = parent.substring(3, 35);
        } else {
            byte[] trace = new byte[16];
            RANDOM.nextBytes(trace);
            traceId = HexFormat.of().formatHex(trace);
        }
        return "00-" + traceId + "-" + HexFormat.of().formatHex(span) + "-01";
    }

    private static void add(Headers headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
