package dev.onceflow.examples.boot;

import dev.onceflow.kafka.KafkaPublisher;
import dev.onceflow.kafka.embedded.EmbeddedKafka;
import dev.onceflow.spring.boot.OnceflowProperties;
import dev.onceflow.spring.boot.PipelineHandler;
import java.util.Arrays;
import java.util.Map;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;

/**
 * The orders service: a Spring Boot WebFlux application whose only onceflow code is the handler
 * bean below; the pipeline, the store, the Idempotency-Key filter, health, the endpoint and the
 * metrics come from the starter and {@code application.properties}.
 *
 * <p>Without {@code onceflow.kafka.bootstrap-servers}, {@link #main} starts a Kafka broker inside
 * this JVM first (KRaft, loopback) and creates the {@code orders} topic. Without {@code
 * onceflow.store.redis.uri} the store is in memory.
 */
@SpringBootApplication
public class OrdersApplication {

  /** The topic of orders. */
  public static final String TOPIC = "orders";

  /** The handler of the {@code orders} pipeline: the bean's name is the pipeline's. */
  @Bean
  PipelineHandler<Order, Charge> orders(Billing billing) {
    return msg -> Mono.fromSupplier(() -> billing.charge(msg.key(), msg.payload(), msg.fence()));
  }

  /** Publishes the orders that arrive over HTTP onto the topic. */
  @Bean(destroyMethod = "close")
  KafkaPublisher ordersPublisher(OnceflowProperties properties) {
    return KafkaPublisher.create(properties.getKafka().getBootstrapServers());
  }

  public static void main(String[] args) {
    run(args);
  }

  /**
   * Starts the service (and an in-JVM Kafka broker when no {@code onceflow.kafka.bootstrap-servers}
   * is given as an argument, system property or environment variable).
   */
  public static ConfigurableApplicationContext run(String... args) {
    SpringApplication app = new SpringApplication(OrdersApplication.class);
    boolean external =
        Arrays.stream(args).anyMatch(a -> a.startsWith("--onceflow.kafka.bootstrap-servers="))
            || System.getProperty("onceflow.kafka.bootstrap-servers") != null
            || System.getenv("ONCEFLOW_KAFKA_BOOTSTRAPSERVERS") != null;
    if (!external) {
      EmbeddedKafka kafka = EmbeddedKafka.start().createTopic(TOPIC, 3);
      // printed, not logged: logging is set up by SpringApplication.run below
      System.out.println(
          "Kafka broker inside this JVM at "
              + kafka.bootstrapServers()
              + " (topic '"
              + TOPIC
              + "'); set onceflow.kafka.bootstrap-servers to use another");
      app.setDefaultProperties(
          Map.of("onceflow.kafka.bootstrap-servers", kafka.bootstrapServers()));
      // closed after the pipelines stopped and the other beans were destroyed
      app.addInitializers(
          ctx -> {
            var bf = (DefaultListableBeanFactory) ctx.getBeanFactory();
            bf.registerSingleton("embeddedKafka", kafka);
            bf.registerDisposableBean("embeddedKafka", kafka::close);
          });
    }
    return app.run(args);
  }
}
