package dev.orderflow.peer.notification;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

import dev.orderflow.peer.events.Topics;

@SpringBootApplication
@EnableConfigurationProperties(Topics.class)
public class NotificationServiceApplication {

    public static void main(String[] args) {
        SpringApplication.run(NotificationServiceApplication.class, args);
    }

    @Bean
    NewTopic orderEvents(Topics topics) {
        return topics.topic(topics.orderEvents());
    }
}
