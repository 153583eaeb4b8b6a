package dev.onceflow.rabbitmq;

import dev.onceflow.core.Check;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/**
 * The immutable options of a {@link RabbitSource}. Build with {@link #builder()}; every setter
 * validates its argument at once and {@link Builder#build()} checks that the options fit together.
 *
 * <p>The connection is either a URI ({@code amqp://user:pass@host:port/vhost}), from which each
 * subscription of the source makes its own connection factory (with correlated publisher confirms
 * and returns enabled) and closes it on cancel; or a ready spring-amqp {@link ConnectionFactory}
 * that the caller owns and closes.
 */
public final class RabbitSourceOptions extends RabbitQueueOptions {

  /** Default {@code basic.qos} prefetch per consumer: 250, spring-amqp's default prefetch count. */
  public static final int DEFAULT_PREFETCH = 250;

  /** Default number of consumers (channels) on the queue: 1, spring-amqp's default. */
  public static final int DEFAULT_CONSUMERS = 1;

  /**
   * Default interval between attempts to restart a failed consumer: 5 s, spring-amqp's default
   * recovery interval.
   */
  public static final Duration DEFAULT_RECOVERY_INTERVAL = Duration.ofSeconds(5);

  /** The largest prefetch AMQP 0-9-1 can express ({@code basic.qos} prefetch-count is a short). */
  public static final int MAX_PREFETCH = 65_535;

  private final String queue;
  private final int prefetch;
  private final int consumers;
  private final RedeliveryDelay redeliveryDelay;
  private final Duration recoveryInterval;
  private final @Nullable String idHeader;

  private RabbitSourceOptions(Builder b) {
    super(b);
    this.queue = Objects.requireNonNull(b.queue);
    this.prefetch = b.prefetch;
    this.consumers = b.consumers;
    this.redeliveryDelay = b.redeliveryDelay;
    this.recoveryInterval = b.recoveryInterval;
    this.idHeader = b.idHeader;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.from(this);
    b.queue = queue;
    b.prefetch = prefetch;
    b.consumers = consumers;
    b.redeliveryDelay = redeliveryDelay;
    b.recoveryInterval = recoveryInterval;
    b.idHeader = idHeader;
    return b;
  }

  public String queue() {
    return queue;
  }

  /** The {@code basic.qos} prefetch of each consumer. */
  public int prefetch() {
    return prefetch;
  }

  /** How many consumers (each on its own channel) the source runs on the queue. */
  public int consumers() {
    return consumers;
  }

  /** The most deliveries unacked at once: {@code prefetch * consumers}. */
  public int maxUnacked() {
    return prefetch * consumers;
  }

  public RedeliveryDelay redeliveryDelay() {
    return redeliveryDelay;
  }

  public Duration recoveryInterval() {
    return recoveryInterval;
  }

  /**
   * The AMQP header that carries the message id before {@code onceflow-id}, or null; see {@link
   * RabbitSource} for the whole order.
   */
  public @Nullable String idHeader() {
    return idHeader;
  }

  @Override
  public String toString() {
    // Never prints the URI: it may carry credentials.
    return "RabbitSourceOptions{queue="
        + queue
        + ", prefetch="
        + prefetch
        + ", consumers="
        + consumers
        + ", declareQueue="
        + declareQueue()
        + ", redeliveryDelay="
        + redeliveryDelay
        + (idHeader == null ? "" : ", idHeader=" + idHeader)
        + "}";
  }

  /** Builds {@link RabbitSourceOptions}. Not thread-safe. */
  public static final class Builder extends RabbitQueueOptions.Builder<Builder> {
    private @Nullable String queue;
    private int prefetch = DEFAULT_PREFETCH;
    private int consumers = DEFAULT_CONSUMERS;
    private RedeliveryDelay redeliveryDelay = RedeliveryDelay.hold();
    private Duration recoveryInterval = DEFAULT_RECOVERY_INTERVAL;
    private @Nullable String idHeader;

    private Builder() {}

    /** The queue to consume. Required. */
    public Builder queue(String queue) {
      Objects.requireNonNull(queue, "queue");
      if (queue.isBlank() || queue.length() > 255) {
        throw new IllegalArgumentException(
            "`queue` must be 1 to 255 characters and not blank, but was '" + queue + "'");
      }
      this.queue = queue;
      return this;
    }

    /** The {@code basic.qos} prefetch of each consumer. Default {@link #DEFAULT_PREFETCH}. */
    public Builder prefetch(int prefetch) {
      this.prefetch = Check.between(prefetch, 1, MAX_PREFETCH, "prefetch");
      return this;
    }

    /** How many consumers run on the queue. Default {@link #DEFAULT_CONSUMERS}. */
    public Builder consumers(int consumers) {
      this.consumers = Check.between(consumers, 1, 1000, "consumers");
      return this;
    }

    /** How a positive nack delay is honoured. Default {@link RedeliveryDelay#hold()}. */
    public Builder redeliveryDelay(RedeliveryDelay redeliveryDelay) {
      this.redeliveryDelay = Objects.requireNonNull(redeliveryDelay, "redeliveryDelay");
      return this;
    }

    /** The wait between consumer restarts. Default {@link #DEFAULT_RECOVERY_INTERVAL}. */
    public Builder recoveryInterval(Duration recoveryInterval) {
      this.recoveryInterval = Check.positive(recoveryInterval, "recoveryInterval");
      return this;
    }

    /**
     * The AMQP header that carries the message id of producers that are not onceflow, such as
     * {@code X-Message-Id}: it is read before {@code onceflow-id}, the CloudEvents {@code
     * cloudEvents:id} and the {@code message-id} property, which are recognised without it.
     * Default: none.
     */
    public Builder idHeader(String idHeader) {
      this.idHeader = Check.notBlank(idHeader, "idHeader");
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException when required options are missing or do not fit together
     */
    public RabbitSourceOptions build() {
      Check.required(queue, "queue", "queue(\"orders\")");
      checkConnection(
          redeliveryDelay.kind() == RedeliveryDelay.Kind.RETRY_QUEUE
              ? "RedeliveryDelay.retryQueue() (or use RedeliveryDelay.hold())"
              : null);
      String retryQueue = redeliveryDelay.retryQueueFor(queue);
      if (queue.equals(retryQueue)) {
        throw new IllegalArgumentException(
            "the retry queue must differ from `queue`, but both were '" + queue + "'");
      }
      return new RabbitSourceOptions(this);
    }
  }
}
