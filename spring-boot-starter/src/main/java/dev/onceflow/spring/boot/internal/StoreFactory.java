package dev.onceflow.spring.boot.internal;

import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.redis.RedisIdempotencyStore;
import dev.onceflow.redis.RedisStoreOptions;
import dev.onceflow.spring.boot.OnceflowConfigurationException;
import dev.onceflow.spring.boot.OnceflowProperties;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The idempotency store of {@code onceflow.store.*}: Redis when configured, else in memory. */
public final class StoreFactory {

  private static final Logger log = LoggerFactory.getLogger(StoreFactory.class);

  private StoreFactory() {}

  /**
   * The Redis store of {@code onceflow.store.redis.*} (connected: blocks up to the connect and
   * command timeouts), or the in-memory store with a warning when no Redis is configured.
   *
   * @throws OnceflowConfigurationException when a property is wrong or Redis cannot be reached
   */
  public static IdempotencyStore create(OnceflowProperties.Redis redis) {
    if (!redis.configured()) {
      log.warn(
          "onceflow: no onceflow.store.redis.uri (or cluster, or sentinel) is set, so the"
              + " idempotency store is in memory: it is per process and lost on restart, so"
              + " duplicates reaching another instance or arriving after a restart are processed"
              + " again. Set onceflow.store.redis.uri for a shared, durable store.");
      return InMemoryIdempotencyStore.create();
    }
    RedisStoreOptions options = options(redis);
    try {
      return RedisIdempotencyStore.create(options);
    } catch (StoreException e) {
      String property = topologyProperty(redis);
      throw new OnceflowConfigurationException(
          property,
          topologyValue(redis),
          "must name a Redis that answers (" + e.getMessage() + ")",
          "Start Redis there, or correct "
              + property
              + " and the credentials (onceflow.store.redis.username, .password, .tls).",
          e);
    }
  }

  /** A log-safe description of a store. */
  public static String describe(IdempotencyStore store) {
    if (store instanceof RedisIdempotencyStore r) {
      return "Redis " + r.options();
    }
    if (store instanceof InMemoryIdempotencyStore) {
      return "in-memory store (per process)";
    }
    return store.getClass().getName();
  }

  static RedisStoreOptions options(OnceflowProperties.Redis redis) {
    RedisStoreOptions.Builder b = RedisStoreOptions.builder();
    List<String> set = new ArrayList<>();
    if (redis.getUri() != null) {
      set.add("onceflow.store.redis.uri");
      String uri = redis.getUri();
      Properties.check(
          "onceflow.store.redis.uri",
          Properties.redacted(uri),
          "Set a Redis URI such as redis://host:6379 (rediss:// for TLS).",
          () -> b.standalone(uri));
    }
    if (!redis.getCluster().isEmpty()) {
      set.add("onceflow.store.redis.cluster");
      Properties.check(
          "onceflow.store.redis.cluster",
          redis.getCluster(),
          "List the seed nodes as Redis URIs, such as redis://10.0.0.1:7000.",
          () -> b.cluster(redis.getCluster()));
    }
    OnceflowProperties.Sentinel sentinel = redis.getSentinel();
    if (sentinel.getMaster() != null || !sentinel.getNodes().isEmpty()) {
      set.add("onceflow.store.redis.sentinel");
      String master = sentinel.getMaster();
      if (master == null) {
        throw new OnceflowConfigurationException(
            "onceflow.store.redis.sentinel.master",
            null,
            "must name the monitored primary when sentinel nodes are set",
            "Set onceflow.store.redis.sentinel.master to the name in sentinel.conf.");
      }
      Properties.check(
          "onceflow.store.redis.sentinel.nodes",
          sentinel.getNodes(),
          "List the sentinels as host:port.",
          () -> b.sentinel(master, sentinel.getNodes()));
    }
    if (set.size() > 1) {
      throw new OnceflowConfigurationException(
          set.get(1),
          "set",
          "cannot be combined with " + set.get(0) + " (one topology only)",
          "Keep only one of onceflow.store.redis.uri, .cluster and .sentinel.*.");
    }
    b.tls(redis.isTls());
    if (redis.getUsername() != null) {
      String username = redis.getUsername();
      Properties.check(
          "onceflow.store.redis.username",
          username,
          "Set the ACL user name.",
          () -> b.username(username));
    }
    if (redis.getPassword() != null) {
      b.password(redis.getPassword());
    }
    String prefix = redis.getKeyPrefix();
    Properties.check(
        "onceflow.store.redis.key-prefix",
        prefix,
        "Use a non-empty prefix without braces.",
        () -> b.keyPrefix(prefix));
    Properties.check(
        "onceflow.store.redis.command-timeout",
        redis.getCommandTimeout(),
        "Set a positive duration, such as 2s.",
        () -> b.commandTimeout(redis.getCommandTimeout()));
    Properties.check(
        "onceflow.store.redis.connect-timeout",
        redis.getConnectTimeout(),
        "Set a positive duration, such as 10s.",
        () -> b.connectTimeout(redis.getConnectTimeout()));
    return Properties.check(
        redis.getUsername() != null ? "onceflow.store.redis.username" : "onceflow.store.redis.tls",
        redis.getUsername() != null ? redis.getUsername() : redis.isTls(),
        "An ACL user needs onceflow.store.redis.password.",
        b::build);
  }

  private static String topologyProperty(OnceflowProperties.Redis redis) {
    if (redis.getUri() != null) {
      return "onceflow.store.redis.uri";
    }
    return redis.getCluster().isEmpty()
        ? "onceflow.store.redis.sentinel.nodes"
        : "onceflow.store.redis.cluster";
  }

  private static String topologyValue(OnceflowProperties.Redis redis) {
    if (redis.getUri() != null) {
      return Properties.redacted(redis.getUri());
    }
    return String.valueOf(
        redis.getCluster().isEmpty() ? redis.getSentinel().getNodes() : redis.getCluster());
  }
}
