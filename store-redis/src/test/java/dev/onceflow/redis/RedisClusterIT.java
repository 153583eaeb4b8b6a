package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.Lease;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * The store contract against a 3-master Redis Cluster that the test starts: three {@code
 * redis-server --cluster-enabled yes} processes on free loopback ports, joined with {@code
 * redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes}, stopped by their pids.
 */
class RedisClusterIT extends RedisContractSupport {

  private static final List<RedisTestSupport.OwnedRedis> NODES = new ArrayList<>();
  private static Path dir;
  private static RedisIdempotencyStore store;
  private static RedisClusterClient client;
  private static StatefulRedisClusterConnection<String, String> connection;

  @BeforeAll
  static void startCluster() throws Exception {
    dir = Files.createTempDirectory("onceflow-cluster-");
    List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
    List<String> seeds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int port = RedisTestSupport.freePort();
      Path nodeDir = dir.resolve("node-" + port);
      RedisTestSupport.OwnedRedis node =
          new RedisTestSupport.OwnedRedis(
              nodeDir,
              port,
              List.of(
                  "--cluster-enabled",
                  "yes",
                  "--cluster-config-file",
                  nodeDir.resolve("nodes.conf").toString(),
                  "--cluster-node-timeout",
                  "2000"));
      NODES.add(node);
      node.start(true);
      create.add("127.0.0.1:" + port);
      seeds.add("redis://127.0.0.1:" + port);
    }
    create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
    RedisTestSupport.run(create, Duration.ofSeconds(30));
    RedisTestSupport.awaitClusterReady(NODES, 3);
    store =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder().cluster(seeds).keyPrefix("onceflow-cit").build());
    client = RedisClusterClient.create(seeds.stream().map(RedisURI::create).toList());
    connection = client.connect();
  }

  @AfterAll
  static void stopCluster() {
    if (connection != null) {
      connection.close();
    }
    if (client != null) {
      client.shutdown();
    }
    if (store != null) {
      store.close();
    }
    NODES.forEach(RedisTestSupport.OwnedRedis::stop);
  }

  @Override
  protected RedisIdempotencyStore redisStore() {
    return store;
  }

  @Override
  protected RedisClusterCommands<String, String> redis() {
    return connection.sync();
  }

  @Test
  void keysOfOneMessageAreSpreadOverTheNodesButShareASlot() {
    List<Integer> slots = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Lease l = acquired(request("spread-" + i, Duration.ofSeconds(20)));
      assertThat(complete(l, Completion.processed(null, RETAIN))).isTrue();
      String key = "onceflow-cit:" + ns() + ":{spread-" + i + "}";
      assertThat(connection.sync().exists(key)).isEqualTo(1);
      slots.add(SlotHash.getSlot(key));
    }
    long nodesUsed =
        slots.stream()
            .map(s -> connection.getPartitions().getPartitionBySlot(s).getNodeId())
            .distinct()
            .count();
    assertThat(nodesUsed).isEqualTo(3);
  }

  @Test
  void anEffectOutsideTheMessageKeysSlotIsRefusedBeforeAnythingIsWritten() {
    Lease lease = acquired(request("order-9", Duration.ofSeconds(20)));
    StepVerifier.create(
            store.complete(
                lease,
                Completion.processed(
                    null,
                    RETAIN,
                    List.of(
                        Effect.incrBy(RedisIdempotencyStore.colocated("n", "order-9"), 1),
                        Effect.incrBy("global-counter", 1)))))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(EffectRejectedException.class)
                    .hasMessageContaining("global-counter")
                    .hasMessageContaining("colocated"))
        .verify(Duration.ofSeconds(10));
    assertThat(value(ns(), RedisIdempotencyStore.colocated("n", "order-9"))).isNull();
    assertThat(store.find(ns(), "order-9").blockOptional()).isEmpty();

    assertThat(
            complete(
                lease,
                Completion.processed(
                    null,
                    RETAIN,
                    List.of(Effect.incrBy(RedisIdempotencyStore.colocated("n", "order-9"), 1)))))
        .isTrue();
    assertThat(value(ns(), RedisIdempotencyStore.colocated("n", "order-9"))).isEqualTo("1");
  }
}
