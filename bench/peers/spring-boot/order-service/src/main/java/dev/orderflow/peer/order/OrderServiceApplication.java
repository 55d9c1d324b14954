package dev.orderflow.peer.order;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

import dev.orderflow.peer.events.Topics;

@SpringBootApplication
@EnableConfigurationProperties(Topics.class)
public class OrderServiceApplication {

    public static void main(String[] args) {
        SpringApplication.run(OrderServiceApplication.class, args);
    }

    @Bean
    NewTopic orderEvents(Topics topics) {
        return topics.topic(topics.orderEvents());
    }

    @Bean
    NewTopic paymentEvents(Topics topics) {
        return topics.topic(topics.paymentEvents());
    }
}
