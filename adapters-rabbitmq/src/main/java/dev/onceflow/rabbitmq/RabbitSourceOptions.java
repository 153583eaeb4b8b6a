package dev.onceflow.rabbitmq;

import dev.onceflow.core.Check;
import dev.onceflow.rabbitmq.internal.Connections;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The immutable options of a {@link RabbitSource}. Build with {@link #builder()}; every setter
 * validates its argument at once and {@link Builder#build()} checks that the options fit together.
 *
 * <p>The connection is either a URI ({@code amqp://user:pass@host:port/vhost}), from which each
 * subscription of the source makes its own connection factory (with correlated publisher confirms
 * and returns enabled) and closes it on cancel; or a ready spring-amqp {@link ConnectionFactory}
 * that the caller owns and closes.
 */
public final class RabbitSourceOptions {

  /** Default {@code basic.qos} prefetch per consumer: 250, spring-amqp's default prefetch count. */
  public static final int DEFAULT_PREFETCH = 250;

  /** Default number of consumers (channels) on the queue: 1, spring-amqp's default. */
  public static final int DEFAULT_CONSUMERS = 1;

  /**
   * Default for declaring the queue: false. The topology is the operator's; a missing queue fails
   * the subscription with a message saying so.
   */
  public static final boolean DEFAULT_DECLARE_QUEUE = false;

  /** Default wait for a publisher confirm (retry-queue redelivery): 30 s, like the lease. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Default interval between attempts to restart a failed consumer: 5 s, spring-amqp's default
   * recovery interval.
   */
  public static final Duration DEFAULT_RECOVERY_INTERVAL = Duration.ofSeconds(5);

  /** The largest prefetch AMQP 0-9-1 can express ({@code basic.qos} prefetch-count is a short). */
  public static final int MAX_PREFETCH = 65_535;

  private final @Nullable URI uri;
  private final @Nullable ConnectionFactory connectionFactory;
  private final String queue;
  private final int prefetch;
  private final int consumers;
  private final boolean declareQueue;
  private final Map<String, Object> queueArguments;
  private final RedeliveryDelay redeliveryDelay;
  private final Duration confirmTimeout;
  private final Duration recoveryInterval;
  private final Scheduler scheduler;
  private final @Nullable String idHeader;

  private RabbitSourceOptions(Builder b) {
    this.uri = b.uri;
    this.connectionFactory = b.connectionFactory;
    this.queue = Objects.requireNonNull(b.queue);
    this.prefetch = b.prefetch;
    this.consumers = b.consumers;
    this.declareQueue = b.declareQueue;
    this.queueArguments = Collections.unmodifiableMap(new LinkedHashMap<>(b.queueArguments));
    this.redeliveryDelay = b.redeliveryDelay;
    this.confirmTimeout = b.confirmTimeout;
    this.recoveryInterval = b.recoveryInterval;
    this.scheduler = b.scheduler;
    this.idHeader = b.idHeader;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.uri = uri;
    b.connectionFactory = connectionFactory;
    b.queue = queue;
    b.prefetch = prefetch;
    b.consumers = consumers;
    b.declareQueue = declareQueue;
    b.queueArguments.putAll(queueArguments);
    b.redeliveryDelay = redeliveryDelay;
    b.confirmTimeout = confirmTimeout;
    b.recoveryInterval = recoveryInterval;
    b.scheduler = scheduler;
    b.idHeader = idHeader;
    return b;
  }

  /** The broker URI, or null when a connection factory was given. */
  public @Nullable URI uri() {
    return uri;
  }

  /** The caller's connection factory, or null when a URI was given. */
  public @Nullable ConnectionFactory connectionFactory() {
    return connectionFactory;
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

  public boolean declareQueue() {
    return declareQueue;
  }

  /** The arguments the queue is declared with (only used when {@link #declareQueue()}). */
  public Map<String, Object> queueArguments() {
    return queueArguments;
  }

  public RedeliveryDelay redeliveryDelay() {
    return redeliveryDelay;
  }

  public Duration confirmTimeout() {
    return confirmTimeout;
  }

  public Duration recoveryInterval() {
    return recoveryInterval;
  }

  /** Where the blocking amqp-client calls that settle deliveries (ack, reject, republish) run. */
  public Scheduler scheduler() {
    return scheduler;
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
        + declareQueue
        + ", redeliveryDelay="
        + redeliveryDelay
        + (idHeader == null ? "" : ", idHeader=" + idHeader)
        + "}";
  }

  /** Builds {@link RabbitSourceOptions}. Not thread-safe. */
  public static final class Builder {
    private @Nullable URI uri;
    private @Nullable ConnectionFactory connectionFactory;
    private @Nullable String queue;
    private int prefetch = DEFAULT_PREFETCH;
    private int consumers = DEFAULT_CONSUMERS;
    private boolean declareQueue = DEFAULT_DECLARE_QUEUE;
    private final Map<String, Object> queueArguments = new LinkedHashMap<>();
    private RedeliveryDelay redeliveryDelay = RedeliveryDelay.hold();
    private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
    private Duration recoveryInterval = DEFAULT_RECOVERY_INTERVAL;
    private Scheduler scheduler = Schedulers.boundedElastic();
    private @Nullable String idHeader;

    private Builder() {}

    /** The broker URI, {@code amqp://user:pass@host:port/vhost} or {@code amqps://...}. */
    public Builder uri(String uri) {
      this.uri = Connections.parseUri(uri, "uri");
      return this;
    }

    /**
     * A ready connection factory, owned by the caller. Retry-queue redelivery needs it to have
     * correlated publisher confirms and returns enabled.
     */
    public Builder connectionFactory(ConnectionFactory connectionFactory) {
      this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
      return this;
    }

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

    /**
     * Whether each subscription declares the queue (durable, not exclusive, not auto-delete, with
     * {@link #queueArgument(String, Object)}s). Default {@link #DEFAULT_DECLARE_QUEUE}: the queue
     * must exist.
     */
    public Builder declareQueue(boolean declareQueue) {
      this.declareQueue = declareQueue;
      return this;
    }

    /**
     * An argument the queue is declared with, such as {@code x-queue-type=quorum} or {@code
     * x-dead-letter-exchange}. Only used with {@link #declareQueue(boolean) declareQueue(true)}.
     */
    public Builder queueArgument(String name, Object value) {
      queueArguments.put(Check.notBlank(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** How a positive nack delay is honoured. Default {@link RedeliveryDelay#hold()}. */
    public Builder redeliveryDelay(RedeliveryDelay redeliveryDelay) {
      this.redeliveryDelay = Objects.requireNonNull(redeliveryDelay, "redeliveryDelay");
      return this;
    }

    /** How long a republish waits for its confirm. Default {@link #DEFAULT_CONFIRM_TIMEOUT}. */
    public Builder confirmTimeout(Duration confirmTimeout) {
      this.confirmTimeout = Check.positive(confirmTimeout, "confirmTimeout");
      return this;
    }

    /** The wait between consumer restarts. Default {@link #DEFAULT_RECOVERY_INTERVAL}. */
    public Builder recoveryInterval(Duration recoveryInterval) {
      this.recoveryInterval = Check.positive(recoveryInterval, "recoveryInterval");
      return this;
    }

    /**
     * Where blocking amqp-client calls run. Default {@code Schedulers.boundedElastic()}; never a
     * non-blocking scheduler such as {@code parallel()}.
     */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
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
      Check.exactlyOne("uri", uri != null, "connectionFactory", connectionFactory != null);
      if (redeliveryDelay.kind() == RedeliveryDelay.Kind.RETRY_QUEUE
          && connectionFactory != null
          && !(connectionFactory.isPublisherConfirms() && connectionFactory.isPublisherReturns())) {
        throw new IllegalArgumentException(
            "RedeliveryDelay.retryQueue() needs publisher confirms: call"
                + " setPublisherConfirmType(ConfirmType.CORRELATED) and setPublisherReturns(true)"
                + " on the connection factory, or use RedeliveryDelay.hold()");
      }
      String retryQueue = redeliveryDelay.retryQueueFor(queue);
      if (queue.equals(retryQueue)) {
        throw new IllegalArgumentException(
            "the retry queue must differ from `queue`, but both were '" + queue + "'");
      }
      return new RabbitSourceOptions(this);
    }
  }
}
