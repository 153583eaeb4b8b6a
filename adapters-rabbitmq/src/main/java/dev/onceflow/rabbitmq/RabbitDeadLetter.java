package dev.onceflow.rabbitmq;

import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.rabbitmq.internal.AmqpMessages;
import dev.onceflow.rabbitmq.internal.ConfirmedPublisher;
import dev.onceflow.rabbitmq.internal.Connections;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A {@link DeadLetterSink} for RabbitMQ, in one of two modes.
 *
 * <p><b>Publishing (the default, {@link #builder()}, {@link #toQueue(String, String)}).</b> The
 * dead letter is published, with publisher confirms and the mandatory flag, to an exchange and
 * routing key (by default the default exchange and a dead-letter queue's name). The message carries
 * the original payload, the {@code message-id}, {@code correlation-id} and {@code timestamp}
 * properties of the original, and as headers {@link DeadLetter#headers()}: the original headers,
 * the convention headers and the {@code onceflow-dlq-*} metadata. The returned {@code Mono}
 * completes only after the broker acked the publish; it errors with {@link RabbitPublishException}
 * when the broker nacks it, returns it as unroutable (no queue bound), or does not confirm within
 * {@link Builder#confirmTimeout(Duration)}. The pipeline then acks the original, or on error
 * releases the lease and nacks it: a dead letter is never why a message is lost, but one may be
 * published twice.
 *
 * <p><b>Through the queue's dead-letter exchange ({@link #viaQueueDeadLetterExchange}).</b> For
 * queues declared with {@code x-dead-letter-exchange}: publishing only marks the delivery, and the
 * pipeline's ack after it recorded the outcome becomes {@code basic.reject(requeue=false)}, which
 * makes the broker route the original message (unchanged: no {@code onceflow-dlq-*} headers;
 * RabbitMQ adds its {@code x-death} header) to the queue's dead-letter exchange. If the outcome
 * cannot be recorded, the pipeline nacks and the message is requeued rather than dead-lettered.
 * Weaker than publishing: RabbitMQ's dead-lettering of classic queues is at-most-once (a message
 * whose dead-letter exchange routes nowhere is dropped), and the dead letter lacks the failure
 * metadata. Use it where the topology is already built around the queue's DLX.
 *
 * <p>Thread-safe. {@link #close()} closes the connection the sink made from a URI.
 */
public final class RabbitDeadLetter implements DeadLetterSink, AutoCloseable {

  /** Default wait for a publisher confirm: 30 s, like the default lease. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);

  private final @Nullable ConfirmedPublisher publisher;
  private final @Nullable RabbitSource viaSource;
  private final String exchange;
  private final String routingKey;
  private final @Nullable String declareQueue;
  private final @Nullable RabbitAdmin admin;
  private final @Nullable CachingConnectionFactory owned;
  private final Scheduler scheduler;
  private volatile boolean declared;

  private RabbitDeadLetter(Builder b) {
    ConnectionFactory cf = b.connectionFactory;
    CachingConnectionFactory own = null;
    if (cf == null) {
      own = Connections.fromUri(Objects.requireNonNull(b.uri), "onceflow-dead-letter");
      cf = own;
    }
    this.owned = own;
    this.scheduler = b.scheduler;
    this.publisher = new ConfirmedPublisher(cf, b.confirmTimeout, b.scheduler);
    this.viaSource = null;
    this.exchange = b.exchange;
    this.routingKey = Objects.requireNonNull(b.routingKey);
    this.declareQueue = b.declareQueue ? b.routingKey : null;
    this.admin = b.declareQueue ? new RabbitAdmin(cf) : null;
  }

  private RabbitDeadLetter(RabbitSource source) {
    this.publisher = null;
    this.viaSource = source;
    this.exchange = "";
    this.routingKey = "";
    this.declareQueue = null;
    this.admin = null;
    this.owned = null;
    this.scheduler = Schedulers.immediate();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Publishes dead letters to {@code queue} (through the default exchange) of the broker at {@code
   * uri}, declaring the queue (durable) on first use.
   */
  public static RabbitDeadLetter toQueue(String uri, String queue) {
    return builder().uri(uri).queue(queue).declareQueue(true).build();
  }

  /**
   * Dead-letters through the dead-letter exchange of {@code source}'s queue ({@code
   * x-dead-letter-exchange}): see the class comment. Only deliveries of {@code source} can be
   * dead-lettered this way; for any other, {@link #publish} errors (and the pipeline nacks).
   */
  public static RabbitDeadLetter viaQueueDeadLetterExchange(RabbitSource source) {
    return new RabbitDeadLetter(Objects.requireNonNull(source, "source"));
  }

  @Override
  public Mono<Void> publish(DeadLetter deadLetter) {
    Objects.requireNonNull(deadLetter, "deadLetter");
    RabbitSource source = viaSource;
    if (source != null) {
      return Mono.defer(
          () ->
              source.deadLetterOnAck(deadLetter.envelope().origin())
                  ? Mono.<Void>empty()
                  : Mono.error(
                      new RabbitSettleException(
                          "cannot dead-letter "
                              + deadLetter.envelope()
                              + " through the queue's dead-letter exchange: it is not an"
                              + " unsettled delivery of "
                              + source.name()
                              + " (settled already, or its channel closed)",
                          deadLetter.envelope().origin().destination(),
                          -1,
                          null)));
    }
    ConfirmedPublisher p = Objects.requireNonNull(publisher);
    return declareOnce()
        .then(
            Mono.defer(
                () ->
                    p.send(
                        exchange,
                        routingKey,
                        AmqpMessages.toMessage(deadLetter.envelope(), deadLetter.headers()))));
  }

  private Mono<Void> declareOnce() {
    RabbitAdmin a = admin;
    String q = declareQueue;
    if (a == null || q == null || declared) {
      return Mono.empty();
    }
    return Mono.<Void>fromRunnable(
            () -> {
              a.declareQueue(new Queue(q, true, false, false));
              declared = true;
            })
        .subscribeOn(scheduler);
  }

  /** Where dead letters go, log-safe. */
  @Override
  public String toString() {
    return viaSource != null
        ? "RabbitDeadLetter{via dead-letter exchange of " + viaSource.name() + "}"
        : "RabbitDeadLetter{exchange='" + exchange + "', routingKey='" + routingKey + "'}";
  }

  /** Closes the connection this sink made from a URI; a given connection factory is left open. */
  @Override
  public void close() {
    CachingConnectionFactory o = owned;
    if (o != null) {
      Connections.destroyQuietly(o);
    }
  }

  /** Builds a publishing {@link RabbitDeadLetter}. Not thread-safe. */
  public static final class Builder {
    private @Nullable URI uri;
    private @Nullable ConnectionFactory connectionFactory;
    private String exchange = "";
    private @Nullable String routingKey;
    private boolean declareQueue;
    private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
    private Scheduler scheduler = Schedulers.boundedElastic();

    private Builder() {}

    /** The broker URI; the sink makes (and {@link #close() closes}) its own connection. */
    public Builder uri(String uri) {
      this.uri = RabbitPublisher.Builder.parseUri(uri);
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

    /** Publish to this dead-letter queue through the default exchange. */
    public Builder queue(String queue) {
      Objects.requireNonNull(queue, "queue");
      if (queue.isBlank()) {
        throw new IllegalArgumentException("`queue` must not be blank, but was '" + queue + "'");
      }
      this.exchange = "";
      this.routingKey = queue;
      return this;
    }

    /** Publish to this exchange with this routing key. */
    public Builder exchange(String exchange, String routingKey) {
      this.exchange = Objects.requireNonNull(exchange, "exchange");
      this.routingKey = Objects.requireNonNull(routingKey, "routingKey");
      return this;
    }

    /** Declare the {@link #queue(String)} (durable) on first publish. Default false. */
    public Builder declareQueue(boolean declareQueue) {
      this.declareQueue = declareQueue;
      return this;
    }

    /** How long a publish waits for its confirm. Default {@link #DEFAULT_CONFIRM_TIMEOUT}. */
    public Builder confirmTimeout(Duration confirmTimeout) {
      this.confirmTimeout =
          RabbitSourceOptions.Builder.requirePositive(confirmTimeout, "confirmTimeout");
      return this;
    }

    /** Where blocking amqp-client calls run. Default {@code Schedulers.boundedElastic()}. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * @throws IllegalArgumentException when the connection or destination is missing, or the
     *     connection factory has no publisher confirms
     */
    public RabbitDeadLetter build() {
      if ((uri == null) == (connectionFactory == null)) {
        throw new IllegalArgumentException(
            "exactly one of `uri` and `connectionFactory` must be set, but "
                + (uri == null ? "neither was" : "both were"));
      }
      if (routingKey == null) {
        throw new IllegalArgumentException(
            "a destination is required: queue(\"orders.dlq\") or exchange(\"dlx\", \"orders\")");
      }
      if (declareQueue && !exchange.isEmpty()) {
        throw new IllegalArgumentException(
            "declareQueue(true) declares the queue(...) destination; with exchange(\""
                + exchange
                + "\", ...) declare and bind the queue yourself");
      }
      if (connectionFactory != null && !Connections.confirmsEnabled(connectionFactory)) {
        throw new IllegalArgumentException(
            "RabbitDeadLetter needs publisher confirms: call"
                + " setPublisherConfirmType(ConfirmType.CORRELATED) and setPublisherReturns(true)"
                + " on the connection factory");
      }
      return new RabbitDeadLetter(this);
    }
  }
}
