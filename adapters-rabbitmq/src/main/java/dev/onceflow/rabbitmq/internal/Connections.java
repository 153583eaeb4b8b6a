package dev.onceflow.rabbitmq.internal;

import java.net.URI;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/** Connection factories the adapter makes (and therefore owns and closes) itself. */
public final class Connections {

  /** Channels kept open per connection; above spring's 25 so concurrent publishes reuse them. */
  private static final int CHANNEL_CACHE_SIZE = 64;

  private Connections() {}

  /**
   * A caching connection factory for {@code uri} with correlated publisher confirms and returns
   * enabled, and amqp-client's own recovery off (spring-amqp recovers consumers itself).
   */
  public static CachingConnectionFactory fromUri(URI uri, String connectionName) {
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
    return cf;
  }

  /** Whether a connection factory can give the confirms and returns a confirmed publish needs. */
  public static boolean confirmsEnabled(ConnectionFactory cf) {
    return cf.isPublisherConfirms() && cf.isPublisherReturns();
  }

  /** Closes a factory the adapter made; never throws. */
  public static void destroyQuietly(CachingConnectionFactory cf) {
    try {
      cf.destroy();
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(Connections.class)
          .warn("closing RabbitMQ connection factory failed", e);
    }
  }
}
