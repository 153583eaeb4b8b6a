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

  StoreChoice open() {
    return redis == null ? StoreChoice.inMemory() : StoreChoice.redis(redis, keyPrefix);
  }
}
