package dev.onceflow.rabbitmq;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import dev.onceflow.rabbitmq.internal.AmqpMessages;
import dev.onceflow.rabbitmq.internal.ConfirmedPublisher;
import dev.onceflow.rabbitmq.internal.Connections;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Publishes messages in the onceflow convention, with publisher confirms.
 *
 * <p>Each message carries its id in the AMQP {@code message-id} property <em>and</em> the {@code
 * onceflow-id} header, its correlation id in {@code correlation-id} and the header, its timestamp
 * in the {@code timestamp} property (seconds) and the {@code onceflow-timestamp} header
 * (milliseconds), and every other envelope field as convention headers ({@link
 * HeaderConvention#toHeaders(Envelope)}); delivery mode persistent, mandatory routing. A message
 * without an id is refused: the id is what consumers deduplicate on, and publishing the same
 * envelope again (a retry) keeps it.
 *
 * <p>The {@code Mono} of {@link #publish} completes only after the broker confirmed (acked) the
 * message; it errors with {@link RabbitPublishException} on a nack, on an unroutable return, or
 * when no confirm came within {@link Builder#confirmTimeout(Duration)}. Publishing is
 * at-least-once: after an error the message may still have arrived, so retry with the same id. Each
 * subscription publishes again. Thread-safe; blocking calls run on the builder's scheduler.
 */
public final class RabbitPublisher implements AutoCloseable {

  /** Default wait for a publisher confirm: 30 s. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);

  private final ConfirmedPublisher publisher;
  private final String exchange;
  private final @Nullable CachingConnectionFactory owned;

  private RabbitPublisher(Builder b) {
    ConnectionFactory cf = b.connectionFactory;
    CachingConnectionFactory own = null;
    if (cf == null) {
      own = Connections.fromUri(Objects.requireNonNull(b.uri), "onceflow-publisher");
      cf = own;
    }
    this.owned = own;
    this.exchange = b.exchange;
    this.publisher = new ConfirmedPublisher(cf, b.confirmTimeout, b.scheduler);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A publisher to the default exchange of the broker at {@code uri}. */
  public static RabbitPublisher create(String uri) {
    return builder().uri(uri).build();
  }

  /** Publishes to the builder's exchange (default: the default exchange) with a routing key. */
  public Mono<Void> publish(String routingKey, Envelope envelope) {
    return publish(exchange, routingKey, envelope);
  }

  /** Publishes {@code envelope} to {@code exchange} with {@code routingKey}. */
  public Mono<Void> publish(String exchange, String routingKey, Envelope envelope) {
    Objects.requireNonNull(exchange, "exchange");
    Objects.requireNonNull(routingKey, "routingKey");
    Objects.requireNonNull(envelope, "envelope");
    if (envelope.messageId() == null) {
      return Mono.error(
          new IllegalArgumentException(
              "the envelope has no message id: set Envelope.builder().messageId(...), the key"
                  + " consumers deduplicate on"));
    }
    return Mono.defer(
        () ->
            publisher.send(
                exchange,
                routingKey,
                AmqpMessages.toMessage(envelope, HeaderConvention.toHeaders(envelope))));
  }

  /** Publishes a payload with a message id to the builder's exchange. */
  public Mono<Void> publish(String routingKey, String messageId, byte[] payload) {
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(payload, "payload");
    return publish(
        routingKey,
        Envelope.builder()
            .messageId(messageId)
            .payload(payload)
            .origin(new Origin(BrokerKind.RABBITMQ, routingKey, -1, -1, null, null, false, 0))
            .build());
  }

  /** Closes the connection this publisher made from a URI; a given factory is left open. */
  @Override
  public void close() {
    CachingConnectionFactory o = owned;
    if (o != null) {
      Connections.destroyQuietly(o);
    }
  }

  /** Builds a {@link RabbitPublisher}. Not thread-safe. */
  public static final class Builder {
    private @Nullable URI uri;
    private @Nullable ConnectionFactory connectionFactory;
    private String exchange = "";
    private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
    private Scheduler scheduler = Schedulers.boundedElastic();

    private Builder() {}

    /** The broker URI; the publisher makes (and {@link #close() closes}) its own connection. */
    public Builder uri(String uri) {
      this.uri = parseUri(uri);
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

    /** The exchange of {@link #publish(String, Envelope)}. Default: the default exchange. */
    public Builder exchange(String exchange) {
      this.exchange = Objects.requireNonNull(exchange, "exchange");
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

    public RabbitPublisher build() {
      if ((uri == null) == (connectionFactory == null)) {
        throw new IllegalArgumentException(
            "exactly one of `uri` and `connectionFactory` must be set, but "
                + (uri == null ? "neither was" : "both were"));
      }
      if (connectionFactory != null && !Connections.confirmsEnabled(connectionFactory)) {
        throw new IllegalArgumentException(
            "RabbitPublisher needs publisher confirms: call"
                + " setPublisherConfirmType(ConfirmType.CORRELATED) and setPublisherReturns(true)"
                + " on the connection factory");
      }
      return new RabbitPublisher(this);
    }

    static URI parseUri(String uri) {
      Objects.requireNonNull(uri, "uri");
      URI parsed;
      try {
        parsed = URI.create(uri);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("`uri` is not a valid URI: " + e.getMessage(), e);
      }
      String scheme = parsed.getScheme();
      if (!"amqp".equalsIgnoreCase(scheme) && !"amqps".equalsIgnoreCase(scheme)) {
        throw new IllegalArgumentException(
            "`uri` must start with amqp:// or amqps://, but its scheme was " + scheme);
      }
      return parsed;
    }
  }
}
