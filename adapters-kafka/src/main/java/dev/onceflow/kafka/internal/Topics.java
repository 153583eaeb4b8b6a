package dev.onceflow.kafka.internal;

import dev.onceflow.kafka.KafkaOperationException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Checks (and creates, when allowed) a topic with a short-lived admin client. */
public final class Topics {

  private static final Logger log = LoggerFactory.getLogger(Topics.class);

  /** How a missing topic is created: broker defaults where a value is null. */
  public record Creation(@Nullable Integer partitions, @Nullable Short replicationFactor) {}

  private Topics() {}

  /**
   * Completes when {@code topic} exists; when it does not and {@code create} is given, creates it
   * first. Errors with a {@link KafkaOperationException} naming the topic otherwise: missing and
   * not to be created, not creatable, or the brokers not answering within {@code timeout}. Each
   * subscription checks again; the admin client's blocking calls (create, close) run on {@code
   * boundedElastic}.
   *
   * @param clientProperties the client's own properties (security settings); those an admin client
   *     does not know are left out
   */
  public static Mono<Void> ensure(
      String bootstrapServers,
      Map<String, Object> clientProperties,
      String topic,
      @Nullable Creation create,
      Duration timeout) {
    Map<String, Object> props = new LinkedHashMap<>();
    clientProperties.forEach(
        (k, v) -> {
          if (AdminClientConfig.configNames().contains(k)) {
            props.put(k, v);
          }
        });
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
    return Mono.usingWhen(
        Mono.fromCallable(() -> Admin.create(props)).subscribeOn(Schedulers.boundedElastic()),
        admin ->
            future(admin.describeTopics(List.of(topic)).allTopicNames())
                .then()
                .onErrorResume(
                    e -> unwrap(e) instanceof UnknownTopicOrPartitionException,
                    e -> {
                      if (create == null) {
                        return Mono.error(
                            new KafkaOperationException(
                                KafkaOperationException.CHECK_TOPIC,
                                topic,
                                null,
                                "the topic does not exist: create it, or allow onceflow to create"
                                    + " it (createTopic(true))",
                                null));
                      }
                      return create(admin, topic, create);
                    })
                .onErrorMap(
                    e -> !(e instanceof KafkaOperationException),
                    e ->
                        new KafkaOperationException(
                            KafkaOperationException.CHECK_TOPIC,
                            topic,
                            null,
                            "could not describe it on the brokers at "
                                + bootstrapServers
                                + " within "
                                + timeout
                                + ": "
                                + unwrap(e),
                            unwrap(e))),
        admin ->
            Mono.fromRunnable(() -> admin.close(Duration.ofSeconds(5)))
                .subscribeOn(Schedulers.boundedElastic())
                .then());
  }

  private static Mono<Void> create(Admin admin, String topic, Creation c) {
    NewTopic t =
        new NewTopic(
            topic, Optional.ofNullable(c.partitions()), Optional.ofNullable(c.replicationFactor()));
    return future(admin.createTopics(List.of(t)).all())
        .then()
        .doOnSuccess(v -> log.info("created Kafka topic '{}'", topic))
        .onErrorResume(e -> unwrap(e) instanceof TopicExistsException, e -> Mono.empty())
        .onErrorMap(
            e ->
                new KafkaOperationException(
                    KafkaOperationException.CREATE_TOPIC,
                    topic,
                    null,
                    "the topic does not exist and creating it failed: " + unwrap(e),
                    unwrap(e)));
  }

  private static <T> Mono<T> future(KafkaFuture<T> f) {
    return Mono.fromCompletionStage(f.toCompletionStage());
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
