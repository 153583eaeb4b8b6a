package dev.onceflow.kafka;

import dev.onceflow.kafka.embedded.EmbeddedKafka;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts one {@link EmbeddedKafka} for the whole test run, on first use, and stops it when the run
 * ends (JUnit closes the root store's {@link AutoCloseable} values, in reverse order of creation).
 * Test classes isolate themselves with their own topics and groups.
 */
public final class SharedKafka implements BeforeAllCallback {

  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(SharedKafka.class);

  private static volatile EmbeddedKafka broker;
  private static volatile KafkaProducer<byte[], byte[]> producer;

  @Override
  public void beforeAll(ExtensionContext context) {
    ExtensionContext.Store store = context.getRoot().getStore(NS);
    EmbeddedKafka b =
        store.getOrComputeIfAbsent("broker", k -> EmbeddedKafka.start(), EmbeddedKafka.class);
    broker = b;
    producer =
        store.getOrComputeIfAbsent("producer", k -> new RawProducer(b), RawProducer.class).producer;
  }

  /** The broker; only valid in a class extended with {@code @ExtendWith(SharedKafka.class)}. */
  static EmbeddedKafka broker() {
    EmbeddedKafka b = broker;
    if (b == null) {
      throw new IllegalStateException(
          "no broker: annotate the test class with @ExtendWith(SharedKafka.class)");
    }
    return b;
  }

  /**
   * The run's plain producer for test data: acks=all, one request at a time, not idempotent. In the
   * in-JVM broker, short-lived idempotent producers created one after another were seen to get
   * NOT_LEADER_OR_FOLLOWER on their first request to a fresh topic and then retry forever with
   * OUT_OF_ORDER_SEQUENCE_NUMBER; test data does not need producer idempotence.
   */
  static KafkaProducer<byte[], byte[]> producer() {
    KafkaProducer<byte[], byte[]> p = producer;
    if (p == null) {
      throw new IllegalStateException(
          "no producer: annotate the test class with @ExtendWith(SharedKafka.class)");
    }
    return p;
  }

  private static final class RawProducer implements AutoCloseable {
    final KafkaProducer<byte[], byte[]> producer;

    RawProducer(EmbeddedKafka kafka) {
      producer =
          new KafkaProducer<>(
              Map.of(
                  ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  kafka.bootstrapServers(),
                  ProducerConfig.ACKS_CONFIG,
                  "all",
                  ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                  false,
                  ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
                  1,
                  ProducerConfig.LINGER_MS_CONFIG,
                  5,
                  ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                  ByteArraySerializer.class,
                  ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                  ByteArraySerializer.class));
    }

    @Override
    public void close() {
      producer.close(Duration.ofSeconds(5));
    }
  }
}
