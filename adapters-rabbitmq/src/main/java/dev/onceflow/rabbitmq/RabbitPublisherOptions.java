package dev.onceflow.rabbitmq;

import dev.onceflow.core.Check;
import dev.onceflow.rabbitmq.internal.Connections;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * How a {@link RabbitPublisher} publishes: the connection, the exchange and the confirm timeout.
 * Immutable and thread-safe; build one with {@link #builder()}, change one with {@link #mutate()}.
 *
 * <p>The connection is either a URI ({@code amqp://user:pass@host:port/vhost}), from which the
 * publisher makes its own connection (with correlated publisher confirms and returns) and closes it
 * on {@link RabbitPublisher#close()}; or a ready spring-amqp {@link ConnectionFactory} that the
 * caller owns and closes, which must have correlated publisher confirms and returns enabled.
 */
public final class RabbitPublisherOptions {

  /** Default exchange: {@code ""}, RabbitMQ's default exchange, which routes by queue name. */
  public static final String DEFAULT_EXCHANGE = "";

  /** Default wait for a publisher confirm: 30 s, like the default lease. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);

  private final @Nullable URI uri;
  private final @Nullable ConnectionFactory connectionFactory;
  private final String exchange;
  private final Duration confirmTimeout;
  private final Scheduler scheduler;

  private RabbitPublisherOptions(Builder b) {
    this.uri = b.uri;
    this.connectionFactory = b.connectionFactory;
    this.exchange = b.exchange;
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

  /** The exchange that {@link RabbitPublisher#publish(String, dev.onceflow.core.Envelope)} uses. */
  public String exchange() {
    return exchange;
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
    return "RabbitPublisherOptions{exchange='"
        + exchange
        + "', confirmTimeout="
        + confirmTimeout
        + "}";
  }

  /** Builds {@link RabbitPublisherOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable URI uri;
    private @Nullable ConnectionFactory connectionFactory;
    private String exchange = DEFAULT_EXCHANGE;
    private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
    private Scheduler scheduler = Schedulers.boundedElastic();

    private Builder() {}

    /** The broker URI; the publisher makes (and closes) its own connection. */
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

    /** The exchange of {@code publish(routingKey, message)}. Default {@link #DEFAULT_EXCHANGE}. */
    public Builder exchange(String exchange) {
      this.exchange = Objects.requireNonNull(exchange, "exchange");
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
     * @throws IllegalArgumentException when not exactly one of URI and connection factory is set,
     *     or the connection factory has no publisher confirms
     */
    public RabbitPublisherOptions build() {
      Check.exactlyOne("uri", uri != null, "connectionFactory", connectionFactory != null);
      if (connectionFactory != null) {
        Connections.requireConfirms(connectionFactory, "RabbitPublisher");
      }
      return new RabbitPublisherOptions(this);
    }
  }
}
