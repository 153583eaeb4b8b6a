package dev.onceflow.redis;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Redis Cluster of {@code redis-server --cluster-enabled yes} processes on free loopback ports,
 * joined with {@code redis-cli --cluster create}, that a test owns: it can restart a node or move
 * slots, and stops every node by its own pid.
 */
final class OwnedCluster implements AutoCloseable {

  final List<RedisTestSupport.OwnedRedis> nodes = new ArrayList<>();

  private OwnedCluster() {}

  /**
   * Starts {@code masters} primaries (no replicas) and waits until they agree about the slots.
   *
   * @param extra more redis-server arguments for every node
   */
  static OwnedCluster start(int masters, List<String> extra) throws Exception {
    OwnedCluster c = new OwnedCluster();
    try {
      Path dir = Files.createTempDirectory("onceflow-cluster-");
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      for (int i = 0; i < masters; i++) {
        int port = RedisTestSupport.freePort();
        Path nodeDir = dir.resolve("node-" + port);
        List<String> args =
            new ArrayList<>(
                List.of(
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    nodeDir.resolve("nodes.conf").toString(),
                    "--cluster-node-timeout",
                    "2000"));
        args.addAll(extra);
        RedisTestSupport.OwnedRedis node = new RedisTestSupport.OwnedRedis(nodeDir, port, args);
        c.nodes.add(node);
        node.start(true);
        create.add("127.0.0.1:" + port);
      }
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      RedisTestSupport.run(create, Duration.ofSeconds(30));
      c.awaitReady();
      return c;
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
  }

  void awaitReady() {
    RedisTestSupport.awaitClusterReady(nodes, nodes.size());
  }

  List<String> seeds() {
    return nodes.stream().map(n -> "redis://127.0.0.1:" + n.port).toList();
  }

  String nodeId(RedisTestSupport.OwnedRedis node) {
    return RedisTestSupport.run(
            List.of("redis-cli", "-p", Integer.toString(node.port), "cluster", "myid"),
            Duration.ofSeconds(5))
        .trim();
  }

  /** Moves {@code slots} slots, with their keys, from one node to another. */
  void reshard(RedisTestSupport.OwnedRedis from, RedisTestSupport.OwnedRedis to, int slots) {
    RedisTestSupport.run(
        List.of(
            "redis-cli",
            "--cluster",
            "reshard",
            "127.0.0.1:" + from.port,
            "--cluster-from",
            nodeId(from),
            "--cluster-to",
            nodeId(to),
            "--cluster-slots",
            Integer.toString(slots),
            "--cluster-pipeline",
            "20",
            "--cluster-yes"),
        Duration.ofSeconds(120));
  }

  @Override
  public void close() {
    nodes.forEach(RedisTestSupport.OwnedRedis::stop);
  }
}
