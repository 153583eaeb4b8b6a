package dev.onceflow.chaos;

import static org.assertj.core.api.Assertions.fail;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The Redis of one run: one server, or a primary, a replica and a Sentinel ({@code redis-server
 * <conf> --sentinel}; the {@code redis-sentinel} binary is not needed) that fails over when the
 * primary dies.
 */
final class RedisSetup implements AutoCloseable {

  static final String MASTER = "chaos-primary";

  final OwnedRedis primary;
  final @Nullable OwnedRedis replica;
  private @Nullable Process sentinel;
  private int sentinelPort = -1;
  private final Path dir;
  private final int waitReplicas;

  private RedisSetup(Path dir, OwnedRedis primary, @Nullable OwnedRedis replica, int waitReplicas) {
    this.dir = dir;
    this.primary = primary;
    this.replica = replica;
    this.waitReplicas = waitReplicas;
  }

  static RedisSetup single(Path dir) {
    return new RedisSetup(dir, new OwnedRedis(dir.resolve("redis"), List.of()).start(), null, 0);
  }

  /** A primary, its replica and one Sentinel; completions wait for replicas when positive. */
  static RedisSetup sentinel(Path dir, int waitReplicas) {
    OwnedRedis primary = new OwnedRedis(dir.resolve("primary"), List.of()).start();
    OwnedRedis replica =
        new OwnedRedis(
                dir.resolve("replica"),
                List.of("--replicaof", "127.0.0.1", Integer.toString(primary.port)))
            .start();
    RedisSetup s = new RedisSetup(dir, primary, replica, waitReplicas);
    try {
      s.startSentinel();
    } catch (RuntimeException | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  private void startSentinel() {
    sentinelPort = Procs.freePort();
    Path conf = dir.resolve("sentinel.conf");
    try {
      Files.writeString(
          conf,
          String.join(
              "\n",
              "port " + sentinelPort,
              "bind 127.0.0.1",
              "dir " + dir,
              "sentinel monitor " + MASTER + " 127.0.0.1 " + primary.port + " 1",
              "sentinel down-after-milliseconds " + MASTER + " 1000",
              "sentinel failover-timeout " + MASTER + " 10000",
              "sentinel parallel-syncs " + MASTER + " 1",
              ""));
    } catch (IOException e) {
      fail("cannot write " + conf, e);
    }
    Process p =
        Procs.start(
            new ProcessBuilder("redis-server", conf.toString(), "--sentinel")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("sentinel.log").toFile()));
    sentinel = p;
    Procs.await(
        "Sentinel on port " + sentinelPort + " to see the primary and its replica",
        Duration.ofSeconds(30),
        () -> {
          if (!p.isAlive()) {
            fail("Sentinel exited, see " + dir.resolve("sentinel.log"));
          }
          String replicas = Procs.redisCommand(sentinelPort, "SENTINEL REPLICAS " + MASTER);
          return replicas.contains("127.0.0.1") && replicaInSync();
        });
  }

  private boolean replicaInSync() {
    OwnedRedis r = replica;
    return r != null
        && Procs.redisCommand(r.port, "INFO replication").contains("master_link_status:up");
  }

  boolean sentinel() {
    return sentinel != null;
  }

  /** The CLI's store arguments. */
  List<String> cliArgs() {
    List<String> args = new ArrayList<>();
    if (sentinel != null) {
      args.addAll(List.of("--redis-sentinel", MASTER + "@127.0.0.1:" + sentinelPort));
      if (waitReplicas > 0) {
        args.addAll(List.of("--redis-wait-replicas", Integer.toString(waitReplicas)));
      }
    } else {
      args.addAll(List.of("--redis", primary.uri()));
    }
    return args;
  }

  /** A client for the test's own reads (effects), following failovers. */
  RedisClient client() {
    RedisURI uri =
        sentinel != null
            ? RedisURI.Builder.sentinel("127.0.0.1", sentinelPort, MASTER)
                .withTimeout(Duration.ofSeconds(2))
                .build()
            : RedisURI.Builder.redis("127.0.0.1", primary.port)
                .withTimeout(Duration.ofSeconds(2))
                .build();
    return RedisClient.create(uri);
  }

  /** The port of the primary Sentinel names now. */
  int currentPrimaryPort() {
    String reply = Procs.redisCommand(sentinelPort, "SENTINEL GET-MASTER-ADDR-BY-NAME " + MASTER);
    String[] lines = reply.split("\r\n");
    // *2 $9 127.0.0.1 $5 port
    return lines.length >= 5 ? Integer.parseInt(lines[4].trim()) : -1;
  }

  @Override
  public void close() {
    if (sentinel != null) {
      sentinel.destroyForcibly();
    }
    if (replica != null) {
      replica.close();
    }
    primary.close();
  }
}
