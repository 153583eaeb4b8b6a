package dev.onceflow.rabbitmq.internal;

import dev.onceflow.core.Check;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/** Connection factories the adapter makes (and therefore owns and closes) itself. */
public final class Connections {

  private static final Logger log = LoggerFactory.getLogger(Connections.class);

  /** Channels kept open per connection; above spring's 25 so concurrent publishes reuse them. */
  private static final int CHANNEL_CACHE_SIZE = 64;

  /** How long {@link Owned#close()} waits for channel closes still running. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  private Connections() {}

  /**
   * A connection factory the adapter made, with the threads it runs on. Outside a Spring
   * application context, {@code CachingConnectionFactory.destroy()} leaves its pool of deferred
   * channel closes ({@code spring-rabbit-deferred-pool-*}, non-daemon, 60 s keep-alive) running,
   * which holds a JVM after {@code main} ends. Here the factory runs on a daemon pool of its own,
   * which {@link #close()} shuts down.
   */
  public static final class Owned implements AutoCloseable {
    private final CachingConnectionFactory factory;
    private final ExecutorService executor;

    private Owned(CachingConnectionFactory factory, ExecutorService executor) {
      this.factory = factory;
      this.executor = executor;
    }

    public CachingConnectionFactory factory() {
      return factory;
    }

    /** Closes the connections, then stops the factory's threads; never throws. Blocking. */
    @Override
    public void close() {
      try {
        factory.destroy();
      } catch (RuntimeException e) {
        log.warn("closing RabbitMQ connection factory failed", e);
      }
      executor.shutdown();
      try {
        if (!executor.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          log.debug("RabbitMQ channel closes still running after {}; abandoned", CLOSE_WAIT);
          executor.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        executor.shutdownNow();
      }
    }
  }

  /**
   * A caching connection factory for {@code uri} with correlated publisher confirms and returns
   * enabled, amqp-client's own recovery off (spring-amqp recovers consumers itself), and its work
   * (consumer dispatch, deferred channel closes) on daemon threads named after the component.
   */
  public static Owned fromUri(URI uri, String connectionName) {
    CachingConnectionFactory cf = new CachingConnectionFactory(uri);
    cf.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    cf.setPublisherReturns(true);
    cf.setChannelCacheSize(CHANNEL_CACHE_SIZE);
    if (cf.getPublisherConnectionFactory() instanceof CachingConnectionFactory publishing) {
      // Publishes run on the publisher connection: without this its cache stays at spring's 25,
      // and channels above it are opened and closed (waiting for their confirms) per publish.
      publishing.setChannelCacheSize(CHANNEL_CACHE_SIZE);
    }
    cf.setConnectionNameStrategy(f -> connectionName);
    // Cached like spring's own pool. Tasks that arrive after close() (a deferred channel close
    // completing, amqp-client's shutdown callbacks) run on the submitting thread, not rejected.
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            60,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            daemon("onceflow-" + connectionName),
            (task, pool) -> task.run());
    // Also sets the publisher connection factory's executor.
    cf.setExecutor(executor);
    return new Owned(cf, executor);
  }

  /**
   * The broker URI from its text: {@code amqp://} or {@code amqps://}, else an {@code
   * IllegalArgumentException} naming the option.
   */
  public static URI parseUri(String uri, String option) {
    Check.notBlank(uri, option);
    URI parsed;
    try {
      parsed = URI.create(uri);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "`" + option + "` is not a valid URI: " + e.getMessage(), e);
    }
    String scheme = parsed.getScheme();
    if (!"amqp".equalsIgnoreCase(scheme) && !"amqps".equalsIgnoreCase(scheme)) {
      throw new IllegalArgumentException(
          "`" + option + "` must start with amqp:// or amqps://, but its scheme was " + scheme);
    }
    return parsed;
  }

  /** Whether a connection factory can give the confirms and returns a confirmed publish needs. */
  public static boolean confirmsEnabled(ConnectionFactory cf) {
    return cf.isPublisherConfirms() && cf.isPublisherReturns();
  }

  /**
   * Checks that a caller's connection factory has correlated confirms and returns.
   *
   * @throws IllegalArgumentException naming the component when it has not
   */
  public static void requireConfirms(ConnectionFactory cf, String component) {
    if (!confirmsEnabled(cf)) {
      throw new IllegalArgumentException(
          component
              + " needs publisher confirms: call"
              + " setPublisherConfirmType(ConfirmType.CORRELATED) and setPublisherReturns(true)"
              + " on the connection factory");
    }
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
