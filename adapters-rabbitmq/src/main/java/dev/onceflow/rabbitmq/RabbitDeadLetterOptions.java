package dev.onceflow.rabbitmq;

import dev.onceflow.core.Check;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where and how a publishing {@link RabbitDeadLetter} sends dead letters: the connection, the
 * destination (a queue through the default exchange, or an exchange and routing key), whether the
 * queue is declared, and the confirm timeout. Immutable and thread-safe; build one with {@link
 * #builder()}, change one with {@link #mutate()}.
 *
 * <p>The connection is a URI (the sink makes and closes its own) or a caller's spring-amqp {@code
 * ConnectionFactory} with correlated publisher confirms and returns, as for {@link
 * RabbitPublisherOptions}.
 */
public final class RabbitDeadLetterOptions extends RabbitQueueOptions {

  private final String exchange;
  private final String routingKey;

  private RabbitDeadLetterOptions(Builder b) {
    super(b);
    this.exchange = b.exchange;
    this.routingKey = Objects.requireNonNull(b.routingKey);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.from(this);
    b.exchange = exchange;
    b.routingKey = routingKey;
    return b;
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

  @Override
  public String toString() {
    // Never prints the URI: it may carry credentials.
    return "RabbitDeadLetterOptions{exchange='"
        + exchange
        + "', routingKey='"
        + routingKey
        + "', declareQueue="
        + declareQueue()
        + "}";
  }

  /** Builds {@link RabbitDeadLetterOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder extends RabbitQueueOptions.Builder<Builder> {
    private String exchange = "";
    private @Nullable String routingKey;

    private Builder() {}

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
     * Builds the options.
     *
     * @throws IllegalArgumentException when the connection or destination is missing, the queue is
     *     to be declared but the destination is an exchange, or the connection factory has no
     *     publisher confirms
     */
    public RabbitDeadLetterOptions build() {
      checkConnection("RabbitDeadLetter");
      Check.required(routingKey, "queue", "queue(\"orders.dlq\") or exchange(\"dlx\", \"orders\")");
      if (declaring() && !exchange.isEmpty()) {
        throw new IllegalArgumentException(
            "`declareQueue` declares the queue(...) destination; with exchange(\""
                + exchange
                + "\", ...) declare and bind the queue yourself");
      }
      return new RabbitDeadLetterOptions(this);
    }
  }
}
