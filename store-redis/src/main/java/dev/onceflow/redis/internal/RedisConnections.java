package dev.onceflow.redis.internal;

import dev.onceflow.redis.RedisStoreOptions;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The store's lettuce client and connection (keys and values as bytes, auto-flushed: a batch is one
 * command). Standalone and Sentinel: one connection. Cluster: one cluster connection, whose
 * per-node connections carry the batches of each node. Calls run the server code as a function
 * (FCALL) or, when the server cannot load functions, as a script (EVALSHA); a server that lost the
 * code (restart, failover, flush) gets it again and the call is sent again (Redis refused it before
 * running it).
 */
public final class RedisConnections implements AutoCloseable {

  /** How the server code runs. */
  public enum Mode {
    /** A Redis 7 function library, loaded once per server. */
    FUNCTIONS,
    /** A script run by EVALSHA (Redis 6.2, or no right to load functions). */
    SCRIPTS
  }

  private static final byte[][] NO_KEYS = new byte[0][];

  private final AbstractRedisClient client;
  private final @Nullable StatefulRedisConnection<byte[], byte[]> single;
  private final @Nullable StatefulRedisClusterConnection<byte[], byte[]> cluster;
  private final Map<String, CompletableFuture<StatefulRedisConnection<byte[], byte[]>>> nodes =
      new ConcurrentHashMap<>();
  private volatile Mode mode = Mode.FUNCTIONS;

  private RedisConnections(
      AbstractRedisClient client,
      @Nullable StatefulRedisConnection<byte[], byte[]> single,
      @Nullable StatefulRedisClusterConnection<byte[], byte[]> cluster) {
    this.client = client;
    this.single = single;
    this.cluster = cluster;
  }

  /**
   * Connects and loads the server code; blocks (at most the connect timeout plus a few command
   * timeouts).
   *
   * @param mode the mode to use, or null to use functions when the server can load them
   */
  public static RedisConnections connect(RedisStoreOptions options, @Nullable Mode mode)
      throws ExecutionException, TimeoutException, InterruptedException {
    RedisConnections c = open(options);
    try {
      c.start(mode, options.commandTimeout());
      return c;
    } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private static RedisConnections open(RedisStoreOptions options) {
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
              .topologyRefreshOptions(
                  ClusterTopologyRefreshOptions.builder()
                      .enableAllAdaptiveRefreshTriggers()
                      .adaptiveRefreshTriggersTimeout(Duration.ofMillis(500))
                      .enablePeriodicRefresh(Duration.ofSeconds(30))
                      .build())
              // Node connections open lazily: rejecting while one is connecting would fail
              // healthy calls. Calls to a node that is down fail after the command timeout.
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
              .build());
      try {
        return new RedisConnections(client, null, client.connect(ByteArrayCodec.INSTANCE));
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
      return new RedisConnections(
          client, client.connect(ByteArrayCodec.INSTANCE, uris.get(0)), null);
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

  private void start(@Nullable Mode wanted, Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    long ms = timeout.toMillis() * 4;
    if (cluster != null) {
      // Open every primary's connection now, not lazily under the first batch.
      for (String node : upstreamNodes()) {
        node(node).get(ms, TimeUnit.MILLISECONDS);
      }
    }
    if (wanted != Mode.SCRIPTS) {
      try {
        mode = Mode.FUNCTIONS;
        load().get(ms, TimeUnit.MILLISECONDS);
        return;
      } catch (ExecutionException e) {
        if (wanted == Mode.FUNCTIONS) {
          throw e;
        }
      }
    }
    mode = Mode.SCRIPTS;
    load().get(ms, TimeUnit.MILLISECONDS);
  }

  public boolean cluster() {
    return cluster != null;
  }

  public Mode mode() {
    return mode;
  }

  public ClientResources resources() {
    return client.getResources();
  }

  /** The id of the primary serving a slot, or null when no node serves it. */
  public @Nullable String nodeOf(int slot) {
    RedisClusterNode n = cluster == null ? null : cluster.getPartitions().getPartitionBySlot(slot);
    return n == null ? null : n.getNodeId();
  }

  /** Reads the Cluster's topology again. */
  public CompletableFuture<Void> refreshTopology() {
    if (client instanceof RedisClusterClient c) {
      return c.refreshPartitionsAsync().toCompletableFuture();
    }
    return CompletableFuture.completedFuture(null);
  }

  private List<String> upstreamNodes() {
    List<String> out = new ArrayList<>();
    if (cluster != null) {
      for (RedisClusterNode n : cluster.getPartitions()) {
        if (n.is(RedisClusterNode.NodeFlag.UPSTREAM) && !n.getSlots().isEmpty()) {
          out.add(n.getNodeId());
        }
      }
    }
    return out;
  }

  private CompletableFuture<StatefulRedisConnection<byte[], byte[]>> node(String nodeId) {
    StatefulRedisClusterConnection<byte[], byte[]> c = java.util.Objects.requireNonNull(cluster);
    CompletableFuture<StatefulRedisConnection<byte[], byte[]>> f =
        nodes.computeIfAbsent(nodeId, id -> c.getConnectionAsync(id));
    if (f.isCompletedExceptionally() || (f.isDone() && !f.join().isOpen())) {
      nodes.remove(nodeId, f);
      f = nodes.computeIfAbsent(nodeId, id -> c.getConnectionAsync(id));
    }
    return f;
  }

  /** A batch on the standalone connection, or one operation routed by its keys in a Cluster. */
  public CompletableFuture<List<Object>> call(byte[][] keys, byte[][] args) {
    return invoke(commands(), keys, args);
  }

  /** A call's reply, and the replicas that acknowledged it when a WAIT followed it. */
  public record Call(
      CompletableFuture<List<Object>> reply, @Nullable CompletableFuture<Long> acks) {}

  /**
   * A batch on a Cluster node's connection; its keys travel inside {@code args}. With {@code
   * waitReplicas > 0}, a WAIT follows it on the same connection.
   */
  public Call callNode(String nodeId, byte[][] args, int waitReplicas, long waitMillis) {
    CompletableFuture<Call> sent =
        node(nodeId)
            .thenApply(
                c ->
                    new Call(
                        invoke(c.async(), NO_KEYS, args),
                        waitReplicas > 0
                            ? c.async()
                                .waitForReplication(waitReplicas, waitMillis)
                                .toCompletableFuture()
                            : null));
    return new Call(
        sent.thenCompose(Call::reply),
        waitReplicas > 0
            ? sent.thenCompose(c -> java.util.Objects.requireNonNull(c.acks()))
            : null);
  }

  /**
   * WAIT on the connection the last call of the node (or the standalone connection) went out on;
   * completes with the number of replicas that acknowledged it.
   */
  public CompletableFuture<Long> waitForReplicas(
      @Nullable String nodeId, int replicas, long timeoutMs) {
    if (nodeId == null) {
      return java.util.Objects.requireNonNull(single)
          .async()
          .waitForReplication(replicas, timeoutMs)
          .toCompletableFuture();
    }
    return node(nodeId)
        .thenCompose(c -> c.async().waitForReplication(replicas, timeoutMs).toCompletableFuture());
  }

  private RedisScriptingAsyncCommands<byte[], byte[]> commands() {
    return single != null ? single.async() : java.util.Objects.requireNonNull(cluster).async();
  }

  private CompletableFuture<List<Object>> invoke(
      io.lettuce.core.api.async.RedisScriptingAsyncCommands<byte[], byte[]> scripting,
      byte[][] keys,
      byte[][] args) {
    RedisFuture<List<Object>> f;
    if (mode == Mode.FUNCTIONS) {
      f =
          ((io.lettuce.core.api.async.RedisFunctionAsyncCommands<byte[], byte[]>) scripting)
              .fcall(ServerCode.FUNCTION, ScriptOutputType.MULTI, keys, args);
    } else {
      f = scripting.evalsha(ServerCode.SCRIPT_SHA, ScriptOutputType.MULTI, keys, args);
    }
    return f.toCompletableFuture();
  }

  /** Loads the server code in the current mode on every server (idempotent). */
  public CompletableFuture<Void> load() {
    Function<RedisScriptingAsyncCommands<byte[], byte[]>, CompletableFuture<?>> loadOn =
        c -> {
          if (mode == Mode.SCRIPTS) {
            return c.scriptLoad(ServerCode.SCRIPT).toCompletableFuture();
          }
          return ((io.lettuce.core.api.async.RedisFunctionAsyncCommands<byte[], byte[]>) c)
              .functionLoad(ServerCode.LIBRARY)
              .toCompletableFuture()
              .exceptionallyCompose(
                  e ->
                      String.valueOf(unwrap(e).getMessage()).contains("already exists")
                          ? CompletableFuture.completedFuture("loaded before")
                          : CompletableFuture.failedFuture(unwrap(e)));
        };
    if (single != null) {
      return loadOn.apply(single.async()).thenApply(x -> null);
    }
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (String node : upstreamNodes()) {
      all.add(node(node).thenCompose(c -> loadOn.apply(c.async())));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  /** True when the server does not know the code (restarted, failed over, flushed). */
  public static boolean missingCode(Throwable e) {
    String m = String.valueOf(unwrap(e).getMessage());
    return m.startsWith("NOSCRIPT") || m.contains("Function not found");
  }

  public static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  @Override
  public void close() {
    try {
      if (single != null) {
        single.close();
      }
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      client.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }
}
