package dev.onceflow.rabbitmq;

import java.util.Objects;

/**
 * How a {@link RabbitPublisher} publishes: the connection, the exchange and the confirm timeout.
 * Immutable and thread-safe; build one with {@link #builder()}, change one with {@link #mutate()}.
 *
 * <p>The connection is either a URI ({@code amqp://user:pass@host:port/vhost}), from which the
 * publisher makes its own connection (with correlated publisher confirms and returns) and closes it
 * on {@link RabbitPublisher#close()}; or a ready spring-amqp {@code ConnectionFactory} that the
 * caller owns and closes, which must have correlated publisher confirms and returns enabled.
 */
public final class RabbitPublisherOptions extends RabbitOptions {

  /** Default exchange: {@code ""}, RabbitMQ's default exchange, which routes by queue name. */
  public static final String DEFAULT_EXCHANGE = "";

  private final String exchange;

  private RabbitPublisherOptions(Builder b) {
    super(b);
    this.exchange = b.exchange;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.from(this);
    b.exchange = exchange;
    return b;
  }

  /** The exchange that {@link RabbitPublisher#publish(String, dev.onceflow.core.Envelope)} uses. */
  public String exchange() {
    return exchange;
  }

  @Override
  public String toString() {
    // Never prints the URI: it may carry credentials.
    return "RabbitPublisherOptions{exchange='"
        + exchange
        + "', confirmTimeout="
        + confirmTimeout()
        + "}";
  }

  /** Builds {@link RabbitPublisherOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder extends RabbitOptions.Builder<Builder> {
    private String exchange = DEFAULT_EXCHANGE;

    private Builder() {}

    /** The exchange of {@code publish(routingKey, message)}. Default {@link #DEFAULT_EXCHANGE}. */
    public Builder exchange(String exchange) {
      this.exchange = Objects.requireNonNull(exchange, "exchange");
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException when not exactly one of URI and connection factory is set,
     *     or the connection factory has no publisher confirms
     */
    public RabbitPublisherOptions build() {
      checkConnection("RabbitPublisher");
      return new RabbitPublisherOptions(this);
    }
  }
}
