package dev.onceflow.redis.internal;

import dev.onceflow.redis.RedisStoreOptions;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The store's lettuce client and its two connections: one for batches, written without auto-flush
 * and flushed once per batch pass, and one for single calls. Keys are UTF-8 strings, values raw
 * bytes.
 */
public final class RedisConnections implements AutoCloseable {

  public static final RedisCodec<String, byte[]> CODEC =
      RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

  private final AbstractRedisClient client;
  private final StatefulConnection<String, byte[]> batchConnection;
  private final StatefulConnection<String, byte[]> singleConnection;
  private final RedisScriptingAsyncCommands<String, byte[]> batch;
  private final RedisScriptingAsyncCommands<String, byte[]> single;
  private final boolean cluster;

  private RedisConnections(
      AbstractRedisClient client,
      StatefulConnection<String, byte[]> batchConnection,
      RedisScriptingAsyncCommands<String, byte[]> batch,
      StatefulConnection<String, byte[]> singleConnection,
      RedisScriptingAsyncCommands<String, byte[]> single,
      boolean cluster) {
    this.client = client;
    this.batchConnection = batchConnection;
    this.batch = batch;
    this.singleConnection = singleConnection;
    this.single = single;
    this.cluster = cluster;
    batchConnection.setAutoFlushCommands(false);
  }

  /** Connects; blocks until both connections are up. */
  public static RedisConnections connect(RedisStoreOptions options) {
    List<RedisURI> uris = options.redisUris();
    SocketOptions socket =
        SocketOptions.builder().connectTimeout(options.connectTimeout()).keepAlive(true).build();
    TimeoutOptions timeouts = TimeoutOptions.enabled(options.commandTimeout());
    SslOptions ssl = sslOptions(options.trustedCertificates());
    if (options.topology() == RedisStoreOptions.Topology.CLUSTER) {
      RedisClusterClient client = RedisClusterClient.create(uris);
      client.setOptions(
          ClusterClientOptions.builder()
              .socketOptions(socket)
              .timeoutOptions(timeouts)
              .sslOptions(ssl)
              .autoReconnect(true)
              // Node connections open lazily: rejecting while one is connecting would fail
              // healthy calls. Calls to a node that is down fail after the command timeout.
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
              .build());
      try {
        StatefulRedisClusterConnection<String, byte[]> b = client.connect(CODEC);
        StatefulRedisClusterConnection<String, byte[]> s = client.connect(CODEC);
        return new RedisConnections(client, b, b.async(), s, s.async(), true);
      } catch (RuntimeException e) {
        client.shutdown(0, 2, TimeUnit.SECONDS);
        throw e;
      }
    }
    RedisClient client = RedisClient.create();
    client.setOptions(
        ClientOptions.builder()
            .socketOptions(socket)
            .timeoutOptions(timeouts)
            .sslOptions(ssl)
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .build());
    try {
      StatefulRedisConnection<String, byte[]> b = client.connect(CODEC, uris.get(0));
      StatefulRedisConnection<String, byte[]> s = client.connect(CODEC, uris.get(0));
      return new RedisConnections(client, b, b.async(), s, s.async(), false);
    } catch (RuntimeException e) {
      client.shutdown(0, 2, TimeUnit.SECONDS);
      throw e;
    }
  }

  private static SslOptions sslOptions(@Nullable Path trusted) {
    SslOptions.Builder b = SslOptions.builder().jdkSslProvider();
    if (trusted != null) {
      b.trustManager(trusted.toFile());
    }
    return b.build();
  }

  public boolean cluster() {
    return cluster;
  }

  /** Commands of the batch connection: call {@link #flush()} after writing. */
  public RedisScriptingAsyncCommands<String, byte[]> batch() {
    return batch;
  }

  public void flush() {
    batchConnection.flushCommands();
  }

  /** Commands of the auto-flushing connection. */
  public RedisScriptingAsyncCommands<String, byte[]> single() {
    return single;
  }

  @Override
  public void close() {
    try {
      batchConnection.close();
      singleConnection.close();
    } finally {
      client.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }
}
