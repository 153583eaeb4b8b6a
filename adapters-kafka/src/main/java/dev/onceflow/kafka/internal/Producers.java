package dev.onceflow.kafka.internal;

import dev.onceflow.core.Check;
import dev.onceflow.kafka.KafkaOperationException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderOptions;
import reactor.kafka.sender.SenderRecord;

/** Producer settings and single sends shared by the dead-letter sink and the publisher. */
public final class Producers {

  /** Properties set by onceflow that users may not override. */
  public static final Set<String> MANAGED =
      Set.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
          ProducerConfig.CLIENT_ID_CONFIG,
          ProducerConfig.ACKS_CONFIG,
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
          ProducerConfig.TRANSACTIONAL_ID_CONFIG);

  private Producers() {}

  /**
   * Validates a user-supplied producer property.
   *
   * @throws IllegalArgumentException when onceflow manages the property
   */
  public static void checkProperty(String name, Object value) {
    Check.notBlank(name, "name");
    Objects.requireNonNull(value, "value");
    if (MANAGED.contains(name)) {
      throw new IllegalArgumentException(
          "`"
              + name
              + "` is managed by onceflow: producers are idempotent with acks=all, send bytes, and "
              + "are not transactional; use the builder's own setter for servers and client id");
    }
  }

  /**
   * A non-transactional, idempotent ({@code enable.idempotence=true}, {@code acks=all}) sender of
   * byte keys and values.
   */
  public static KafkaSender<byte[], byte[]> idempotentSender(
      String bootstrapServers, @Nullable String clientId, Map<String, Object> extra) {
    Map<String, Object> props = new LinkedHashMap<>(extra);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    if (clientId != null) {
      props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    }
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    SenderOptions<byte[], byte[]> options =
        SenderOptions.<byte[], byte[]>create(props).stopOnError(false);
    return KafkaSender.create(options);
  }

  /**
   * Sends one record; completes with its metadata once the broker acknowledged it (acks=all), or
   * errors with a {@link KafkaOperationException} whose cause is the send's exception. Each
   * subscription sends the record again.
   *
   * @param messageId the record's onceflow message id, for the error; null when it has none
   */
  public static Mono<RecordMetadata> send(
      KafkaSender<byte[], byte[]> sender,
      ProducerRecord<byte[], byte[]> record,
      @Nullable String messageId) {
    return sender
        .send(Mono.just(SenderRecord.create(record, (Void) null)))
        .next()
        .flatMap(
            result -> {
              Exception e = result.exception();
              if (e != null) {
                return Mono.error(e);
              }
              RecordMetadata m = result.recordMetadata();
              return m == null
                  ? Mono.error(
                      new IllegalStateException(
                          "send to '" + record.topic() + "' returned neither metadata nor error"))
                  : Mono.just(m);
            })
        .switchIfEmpty(
            Mono.error(
                () ->
                    new IllegalStateException(
                        "send to '" + record.topic() + "' completed without a result")))
        .onErrorMap(
            e -> !(e instanceof KafkaOperationException),
            e ->
                new KafkaOperationException(
                    KafkaOperationException.SEND,
                    record.topic(),
                    messageId,
                    "the broker did not acknowledge the record: " + e,
                    e));
  }
}
