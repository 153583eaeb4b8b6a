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
 * What the options of every RabbitMQ component share: the connection (a URI or a caller's
 * connection factory), the wait for publisher confirms, and the scheduler of blocking amqp-client
 * calls.
 */
abstract class RabbitOptions {

  /** Default wait for a publisher confirm: 30 s, like the default lease. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);

  private final @Nullable URI uri;
  private final @Nullable ConnectionFactory connectionFactory;
  private final Duration confirmTimeout;
  private final Scheduler scheduler;

  RabbitOptions(Builder<?> b) {
    this.uri = b.uri;
    this.connectionFactory = b.connectionFactory;
    this.confirmTimeout = b.confirmTimeout;
    this.scheduler = b.scheduler;
  }

  /** The broker URI, or null when a connection factory was given. */
  public @Nullable URI uri() {
    return uri;
  }

  /** The caller's connection factory, or null when a URI was given. */
  public @Nullable ConnectionFactory connectionFactory() {
    return connectionFactory;
  }

  /** How long a publish waits for its confirm. */
  public Duration confirmTimeout() {
    return confirmTimeout;
  }

  /** Where the blocking amqp-client calls run. */
  public Scheduler scheduler() {
    return scheduler;
  }

  /** The setters every RabbitMQ options builder shares. Each validates at once. */
  abstract static class Builder<B extends Builder<B>> {
    private @Nullable URI uri;
    private @Nullable ConnectionFactory connectionFactory;
    private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
    private Scheduler scheduler = Schedulers.boundedElastic();

    Builder() {}

    @SuppressWarnings("unchecked")
    final B self() {
      return (B) this;
    }

    /**
     * The broker URI, {@code amqp://user:pass@host:port/vhost} or {@code amqps://...}: the
     * component makes its own connection (with correlated publisher confirms and returns) and
     * closes it. Exactly one of this and {@link #connectionFactory(ConnectionFactory)} is required.
     */
    public B uri(String uri) {
      this.uri = Connections.parseUri(uri, "uri");
      return self();
    }

    /**
     * A ready connection factory, owned (and closed) by the caller. Publishing components (and the
     * source's retry-queue redelivery) need it to have {@code
     * setPublisherConfirmType(ConfirmType.CORRELATED)} and {@code setPublisherReturns(true)}.
     */
    public B connectionFactory(ConnectionFactory connectionFactory) {
      this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
      return self();
    }

    /** How long a publish waits for its confirm. Default {@link #DEFAULT_CONFIRM_TIMEOUT}. */
    public B confirmTimeout(Duration confirmTimeout) {
      this.confirmTimeout = Check.positive(confirmTimeout, "confirmTimeout");
      return self();
    }

    /**
     * Where blocking amqp-client calls run. Default {@code Schedulers.boundedElastic()}; never a
     * non-blocking scheduler such as {@code parallel()}.
     */
    public B scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return self();
    }

    /** Starts from the shared values of {@code o}. */
    void from(RabbitOptions o) {
      this.uri = o.uri;
      this.connectionFactory = o.connectionFactory;
      this.confirmTimeout = o.confirmTimeout;
      this.scheduler = o.scheduler;
    }

    /**
     * Checks that exactly one of URI and connection factory is set, and, when {@code component}
     * publishes, that a given factory has confirms.
     *
     * @param component the publishing component's name, or null when it does not publish
     */
    final void checkConnection(@Nullable String component) {
      Check.exactlyOne("uri", uri != null, "connectionFactory", connectionFactory != null);
      if (component != null && connectionFactory != null) {
        Connections.requireConfirms(connectionFactory, component);
      }
    }
  }
}
