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
 * Where and how a publishing {@link RabbitDeadLetter} sends dead letters: the connection, the
 * destination (a queue through the default exchange, or an exchange and routing key), whether the
 * queue is declared, and the confirm timeout. Immutable and thread-safe; build one with {@link
 * #builder()}, change one with {@link #mutate()}.
 *
 * <p>The connection is a URI (the sink makes and closes its own) or a caller's {@link
 * ConnectionFactory} with correlated publisher confirms and returns, as for {@link
 * RabbitPublisherOptions}.
 */
public final class RabbitDeadLetterOptions {

  /**
   * Default for declaring the dead-letter queue: false. The topology is the operator's; a missing
   * queue fails {@link RabbitDeadLetter#ready()} with its name.
   */
  public static final boolean DEFAULT_DECLARE_QUEUE = false;

  /** Default wait for a publisher confirm: 30 s, like the default lease. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);

  private final @Nullable URI uri;
  private final @Nullable ConnectionFactory connectionFactory;
  private final String exchange;
  private final String routingKey;
  private final boolean declareQueue;
  private final Map<String, Object> queueArguments;
  private final Duration confirmTimeout;
  private final Scheduler scheduler;

  private RabbitDeadLetterOptions(Builder b) {
    this.uri = b.uri;
    this.connectionFactory = b.connectionFactory;
    this.exchange = b.exchange;
    this.routingKey = Objects.requireNonNull(b.routingKey);
    this.declareQueue = b.declareQueue;
    this.queueArguments = Collections.unmodifiableMap(new LinkedHashMap<>(b.queueArguments));
    this.confirmTimeout = b.confirmTimeout;
    this.scheduler = b.scheduler;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.uri = uri;
    b.connectionFactory = connectionFactory;
    b.exchange = exchange;
    b.routingKey = routingKey;
    b.declareQueue = declareQueue;
    b.queueArguments.putAll(queueArguments);
    b.confirmTimeout = confirmTimeout;
    b.scheduler = scheduler;
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

  /** The exchange dead letters are published to; {@code ""} when the destination is a queue. */
  public String exchange() {
    return exchange;
  }

  /** The routing key: the queue's name when the destination is a queue. */
  public String routingKey() {
    return routingKey;
  }

  /** The dead-letter queue, or null when the destination is an exchange. */
  public @Nullable String queue() {
    return exchange.isEmpty() ? routingKey : null;
  }

  /** Whether {@link RabbitDeadLetter#ready()} declares the queue. */
  public boolean declareQueue() {
    return declareQueue;
  }

  /** The arguments a declared queue gets. Unmodifiable. */
  public Map<String, Object> queueArguments() {
    return queueArguments;
  }

  /** How long a publish waits for its confirm. */
  public Duration confirmTimeout() {
    return confirmTimeout;
  }

  /** Where the blocking amqp-client calls run. */
  public Scheduler scheduler() {
    return scheduler;
  }

  @Override
  public String toString() {
    // Never prints the URI: it may carry credentials.
    return "RabbitDeadLetterOptions{exchange='"
        + exchange
        + "', routingKey='"
        + routingKey
        + "', declareQueue="
        + declareQueue
        + "}";
  }

  /** Builds {@link RabbitDeadLetterOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable URI uri;
    private @Nullable ConnectionFactory connectionFactory;
    private String exchange = "";
    private @Nullable String routingKey;
    private boolean declareQueue = DEFAULT_DECLARE_QUEUE;
    private final Map<String, Object> queueArguments = new LinkedHashMap<>();
    private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
    private Scheduler scheduler = Schedulers.boundedElastic();

    private Builder() {}

    /** The broker URI; the sink makes (and closes) its own connection. */
    public Builder uri(String uri) {
      this.uri = Connections.parseUri(uri, "uri");
      return this;
    }

    /**
     * A connection factory owned by the caller, with {@code
     * setPublisherConfirmType(ConfirmType.CORRELATED)} and {@code setPublisherReturns(true)}.
     */
    public Builder connectionFactory(ConnectionFactory connectionFactory) {
      this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
      return this;
    }

    /** Publish to this dead-letter queue through the default exchange (replaces an exchange). */
    public Builder queue(String queue) {
      this.routingKey = Check.notBlank(queue, "queue");
      this.exchange = "";
      return this;
    }

    /** Publish to this exchange with this routing key (replaces a queue). */
    public Builder exchange(String exchange, String routingKey) {
      this.exchange = Check.notBlank(exchange, "exchange");
      this.routingKey = Objects.requireNonNull(routingKey, "routingKey");
      return this;
    }

    /**
     * Whether {@link RabbitDeadLetter#ready()} declares the {@link #queue(String)} (durable, with
     * {@link #queueArgument(String, Object)}s) instead of checking that it exists. Default {@link
     * #DEFAULT_DECLARE_QUEUE}.
     */
    public Builder declareQueue(boolean declareQueue) {
      this.declareQueue = declareQueue;
      return this;
    }

    /**
     * An argument a declared queue gets, such as {@code x-queue-type=quorum}. Only used with {@link
     * #declareQueue(boolean) declareQueue(true)}.
     */
    public Builder queueArgument(String name, Object value) {
      queueArguments.put(Check.notBlank(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** How long a publish waits for its confirm. Default {@link #DEFAULT_CONFIRM_TIMEOUT}. */
    public Builder confirmTimeout(Duration confirmTimeout) {
      this.confirmTimeout = Check.positive(confirmTimeout, "confirmTimeout");
      return this;
    }

    /** Where blocking amqp-client calls run. Default {@code Schedulers.boundedElastic()}. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException when the connection or destination is missing, the queue is
     *     to be declared but the destination is an exchange, or the connection factory has no
     *     publisher confirms
     */
    public RabbitDeadLetterOptions build() {
      Check.exactlyOne("uri", uri != null, "connectionFactory", connectionFactory != null);
      Check.required(routingKey, "queue", "queue(\"orders.dlq\") or exchange(\"dlx\", \"orders\")");
      if (declareQueue && !exchange.isEmpty()) {
        throw new IllegalArgumentException(
            "`declareQueue` declares the queue(...) destination; with exchange(\""
                + exchange
                + "\", ...) declare and bind the queue yourself");
      }
      if (connectionFactory != null) {
        Connections.requireConfirms(connectionFactory, "RabbitDeadLetter");
      }
      return new RabbitDeadLetterOptions(this);
    }
  }
}
