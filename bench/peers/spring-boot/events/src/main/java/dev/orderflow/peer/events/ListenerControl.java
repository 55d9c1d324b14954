package dev.orderflow.peer.events;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.kafka.KafkaAutoConfiguration;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Pauses and resumes every {@code @KafkaListener} of the app without stopping the JVM: the
 * consumers stay in their groups and keep their partitions, they only stop taking records
 * (Spring Kafka's container pause). The bench's catch-up figure needs a pipeline whose
 * consumers are down while orders pile up, and a JVM restarted for it would lose its JIT
 * warm-up. An auto-configuration of this shared module, so every app of the peer has it.
 *
 * <pre>
 * POST /admin/listeners/pause   -> 200 once every container reports paused (409 after 30 s)
 * POST /admin/listeners/resume  -> 200
 * GET  /admin/listeners         -> {listener id: "running" | "pause requested" | "paused" | "resume requested"}
 * </pre>
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class)
@RestController
public class ListenerControl {

    private static final Duration PAUSE_WAIT = Duration.ofSeconds(30);

    private final KafkaListenerEndpointRegistry registry;

    ListenerControl(KafkaListenerEndpointRegistry registry) {
        this.registry = registry;
    }

    @GetMapping("/admin/listeners")
    public Map<String, String> states() {
        Map<String, String> out = new LinkedHashMap<>();
        for (MessageListenerContainer c : registry.getListenerContainers()) {
            String state = c.isPauseRequested() ? (c.isContainerPaused() ? "paused" : "pause requested")
                    : (c.isContainerPaused() ? "resume requested" : "running");
            out.put(c.getListenerId(), state);
        }
        return out;
    }

    @PostMapping("/admin/listeners/pause")
    public ResponseEntity<Map<String, String>> pause() throws InterruptedException {
        registry.getListenerContainers().forEach(MessageListenerContainer::pause);
        // A container pauses at its next poll, after the records in hand.
        Instant until = Instant.now().plus(PAUSE_WAIT);
        while (!registry.getListenerContainers().stream().allMatch(MessageListenerContainer::isContainerPaused)) {
            if (Instant.now().isAfter(until)) {
                return ResponseEntity.status(409).body(states());
            }
            Thread.sleep(20);
        }
        return ResponseEntity.ok(states());
    }

    @PostMapping("/admin/listeners/resume")
    public Map<String, String> resume() {
        registry.getListenerContainers().forEach(MessageListenerContainer::resume);
        return states();
    }
}
