package dev.onceflow.kafka;

import dev.onceflow.core.Check;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.MessageSource;
import dev.onceflow.kafka.internal.KafkaDeliveryFlux;
import dev.onceflow.kafka.internal.SourceCounters;
import java.util.Collection;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.kafka.receiver.ReceiverOptions;

/**
 * A {@link MessageSource} over a Kafka consumer group (reactor-kafka's {@code KafkaReceiver}), with
 * offsets committed only for finished records.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Cold.</b> Each subscription to {@link #receive()} is one consumer of the group;
 *       cancelling it closes the consumer (committing what is finished) and leaves the group.
 *   <li><b>Ack after record, in order.</b> {@link Delivery#ack()} marks the record finished. A
 *       partition's offset is committed only up to the first record that is not finished: records
 *       finish out of order under concurrency, but the committed offset never passes an unfinished
 *       one. Commits are sent every {@linkplain KafkaSourceOptions#commitInterval() commit
 *       interval} (or batch), on revocation and on close; the ack completes once the record is
 *       marked, not when the commit is sent. A crash before the commit redelivers finished records,
 *       which deduplication absorbs.
 *   <li><b>Nack.</b> {@link Delivery#nack(java.time.Duration)} keeps the record unfinished (the
 *       commit cannot pass it) and this source delivers it again after the delay, from memory,
 *       flagged {@linkplain dev.onceflow.core.Origin#redelivered() redelivered}. If the consumer
 *       closes or loses the partition first, the record is not committed and the group delivers it
 *       again from the broker. Kafka does not count deliveries: the attempt is always 0.
 *   <li><b>Backpressure.</b> Records received and not finished never exceed {@linkplain
 *       KafkaSourceOptions#maxInFlight() maxInFlight}, and records not yet behind their partition's
 *       commit position never exceed {@linkplain KafkaSourceOptions#maxUncommitted()
 *       maxUncommitted} (finished ones are kept as offsets only). Nothing is requested from the
 *       consumer beyond downstream demand, and reactor-kafka pauses the partitions while nothing is
 *       requested (the consumer keeps polling, so it stays in the group). Memory is bounded by
 *       {@code maxInFlight} records plus about two polls ({@code max.poll.records}) that
 *       reactor-kafka holds.
 *   <li><b>Rebalance.</b> On revocation nothing unfinished is committed: the finished prefix is
 *       committed, settlements of the revoked partitions' records that arrive afterwards commit
 *       nothing, and records polled before the revocation are not delivered. The partition's next
 *       owner delivers them again; deduplication keeps effects single.
 *   <li><b>Threads.</b> Deliveries are emitted on reactor-kafka's receiver thread or on the thread
 *       that settled a delivery or ran a redelivery timer; never on the consumer's poll thread.
 *       {@code ack} and {@code nack} are non-blocking, idempotent and thread-safe.
 *   <li><b>Errors.</b> A consumer error that reactor-kafka does not retry (authorization, a commit
 *       failing for good) ends the stream with {@code onError}; records not committed are
 *       redelivered to the next consumer.
 * </ul>
 *
 * <h2>Envelope</h2>
 *
 * Header values are read as UTF-8; the {@link dev.onceflow.core.HeaderConvention} headers set the
 * envelope's fields. Without an {@code onceflow-key} header the record key (UTF-8) is the entity
 * key; without an {@code onceflow-timestamp} header the record's CreateTime is the timestamp. A
 * message id is the {@linkplain KafkaSourceOptions#idHeader() configured id header}, else {@code
 * onceflow-id}, else the CloudEvents {@code ce_id}; a record with none of them has no message id
 * and the pipeline's missing-id rule applies. The origin is topic, partition and offset.
 *
 * <p>Kafka 3.x and 4.x brokers are supported (tested against 4.3.1). reactor-kafka is no longer
 * maintained upstream; its types appear only in {@link #create(ReceiverOptions, int)}.
 */
public final class KafkaSource implements MessageSource {

  private final String name;
  private final ReceiverOptions<byte[], byte[]> receiverOptions;
  private final int maxInFlight;
  private final int maxUncommitted;
  private final Scheduler redeliveryScheduler;
  private final @Nullable String idHeader;
  private final SourceCounters counters = new SourceCounters();

  private KafkaSource(
      String name,
      ReceiverOptions<byte[], byte[]> receiverOptions,
      int maxInFlight,
      int maxUncommitted,
      Scheduler redeliveryScheduler,
      @Nullable String idHeader) {
    this.name = name;
    this.idHeader = idHeader;
    this.receiverOptions = receiverOptions;
    this.maxInFlight = maxInFlight;
    this.maxUncommitted = maxUncommitted;
    this.redeliveryScheduler = redeliveryScheduler;
  }

  /** A source with these options. */
  public static KafkaSource create(KafkaSourceOptions options) {
    Objects.requireNonNull(options, "options");
    return new KafkaSource(
        nameOf(options.topics(), options.pattern()),
        options.toReceiverOptions(),
        options.maxInFlight(),
        options.maxUncommitted(),
        options.redeliveryScheduler(),
        options.idHeader());
  }

  /**
   * A source on {@code topic} for the consumer group {@code groupId} of the brokers at {@code
   * bootstrapServers}, with the default options.
   */
  public static KafkaSource create(String bootstrapServers, String topic, String groupId) {
    return create(
        KafkaSourceOptions.builder()
            .bootstrapServers(bootstrapServers)
            .topics(topic)
            .groupId(groupId)
            .build());
  }

  /**
   * A source over ready reactor-kafka options: they must name a group and a subscription (topics,
   * pattern or assignment). Auto-commit is turned off and reactor-kafka's revocation delay ({@code
   * maxDelayRebalance}) is set to zero (the source decides what a revocation commits); commit
   * interval, batch size and poll timeout are taken as they are.
   *
   * @throws IllegalArgumentException when the options enable auto-commit or reactor-kafka's
   *     out-of-order commits ({@code maxDeferredCommits}, which this source does itself), or lack a
   *     group or subscription
   */
  public static KafkaSource create(
      ReceiverOptions<byte[], byte[]> receiverOptions, int maxInFlight) {
    Objects.requireNonNull(receiverOptions, "receiverOptions");
    Check.between(maxInFlight, 1, KafkaSourceOptions.MAX_IN_FLIGHT, "maxInFlight");
    Object autoCommit =
        receiverOptions.consumerProperties().get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
    if (autoCommit != null && Boolean.parseBoolean(autoCommit.toString())) {
      throw new IllegalArgumentException(
          "`enable.auto.commit` must be false: the source commits offsets of finished records only");
    }
    if (receiverOptions.maxDeferredCommits() > 0) {
      throw new IllegalArgumentException(
          "`maxDeferredCommits` must be 0, but was "
              + receiverOptions.maxDeferredCommits()
              + ": the source orders out-of-order acknowledgements itself");
    }
    if (receiverOptions.groupId() == null || receiverOptions.groupId().isBlank()) {
      throw new IllegalArgumentException("`group.id` is required: offsets are committed per group");
    }
    Collection<String> topics = receiverOptions.subscriptionTopics();
    Pattern pattern = receiverOptions.subscriptionPattern();
    String name;
    if (topics != null && !topics.isEmpty()) {
      name = nameOf(topics, null);
    } else if (pattern != null) {
      name = nameOf(java.util.List.of(), pattern);
    } else if (receiverOptions.assignment() != null && !receiverOptions.assignment().isEmpty()) {
      name =
          "kafka:"
              + receiverOptions.assignment().stream()
                  .map(Object::toString)
                  .collect(Collectors.joining(","));
    } else {
      throw new IllegalArgumentException(
          "the receiver options need a subscription: topics, a pattern or an assignment");
    }
    ReceiverOptions<byte[], byte[]> o =
        receiverOptions
            .consumerProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false)
            .maxDelayRebalance(java.time.Duration.ZERO);
    return new KafkaSource(
        name,
        o,
        maxInFlight,
        Math.max(maxInFlight, KafkaSourceOptions.DEFAULT_MAX_UNCOMMITTED),
        Schedulers.parallel(),
        null);
  }

  private static String nameOf(Collection<String> topics, @Nullable Pattern pattern) {
    return pattern != null
        ? "kafka:/" + pattern.pattern() + "/"
        : "kafka:" + String.join(",", topics);
  }

  /** {@code kafka:} followed by the topics, {@code /pattern/} or the assigned partitions. */
  @Override
  public String name() {
    return name;
  }

  /**
   * Consumes while subscribed; see the class documentation. Each subscription is a new consumer of
   * the group.
   */
  @Override
  public Flux<Delivery> receive() {
    return new KafkaDeliveryFlux(
        receiverOptions, maxInFlight, maxUncommitted, redeliveryScheduler, counters, idHeader);
  }

  /** Counts over every subscription of this source, for tests and diagnostics. */
  SourceCounters counters() {
    return counters;
  }

  @Override
  public String toString() {
    return "KafkaSource{" + name + ", maxInFlight=" + maxInFlight + "}";
  }
}
