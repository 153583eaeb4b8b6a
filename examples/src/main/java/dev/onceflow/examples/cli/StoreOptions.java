package dev.onceflow.examples.cli;

import dev.onceflow.examples.internal.StoreChoice;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** The store options: Redis when {@code --redis} is given, in memory otherwise. */
final class StoreOptions {

  @Option(
      names = "--redis",
      paramLabel = "URI",
      description =
          "Redis (standalone) for the idempotency store and the effects, e.g."
              + " redis://127.0.0.1:6379; without it the store is in memory (this process only).")
  @Nullable String redis;

  @Option(
      names = "--redis-key-prefix",
      defaultValue = "onceflow",
      paramLabel = "PREFIX",
      description = "Prefix of every Redis key (default: ${DEFAULT-VALUE}).")
  String keyPrefix = "onceflow";

  @Option(
      names = "--pipeline",
      defaultValue = "orders",
      paramLabel = "NAME",
      description =
          "The pipeline name: the namespace of its keys (letters, digits, '.', '_', '-';"
              + " default: ${DEFAULT-VALUE}).")
  String pipeline = "orders";

  @Option(
      names = "--redis-sentinel",
      hidden = true,
      paramLabel = "MASTER@HOST:PORT",
      description =
          "Test hook (hidden): the store finds its primary through this Redis Sentinel instead of"
              + " --redis, e.g. onceflow@127.0.0.1:26379.")
  @Nullable String sentinel;

  @Option(
      names = "--redis-wait-replicas",
      hidden = true,
      defaultValue = "0",
      paramLabel = "N",
      description =
          "Test hook (hidden): completions wait for N replicas (RedisStoreOptions.waitForReplicas,"
              + " timeout 1 s); 0: off.")
  int waitReplicas;

  StoreChoice open() {
    if (sentinel != null) {
      int at = sentinel.indexOf('@');
      if (at <= 0 || at == sentinel.length() - 1) {
        throw new IllegalArgumentException(
            "--redis-sentinel must be MASTER@HOST:PORT, but was '" + sentinel + "'");
      }
      return StoreChoice.redisSentinel(
          sentinel.substring(0, at), sentinel.substring(at + 1), keyPrefix, waitReplicas);
    }
    if (redis == null) {
      return StoreChoice.inMemory();
    }
    return waitReplicas > 0
        ? StoreChoice.redis(redis, keyPrefix, waitReplicas)
        : StoreChoice.redis(redis, keyPrefix);
  }
}
