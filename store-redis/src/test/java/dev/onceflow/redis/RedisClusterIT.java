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

  private static OwnedCluster cluster;
  private static RedisIdempotencyStore store;
  private static RedisClusterClient client;
  private static StatefulRedisClusterConnection<String, String> connection;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = OwnedCluster.start(3, List.of());
    List<String> seeds = cluster.seeds();
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
    if (cluster != null) {
      cluster.close();
    }
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

  private static long serverCalls() {
    long n = 0;
    for (RedisTestSupport.OwnedRedis node : cluster.nodes) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("cmdstat_(?:fcall|evalsha):calls=(\\d+)")
              .matcher(
                  RedisTestSupport.run(
                      List.of(
                          "redis-cli", "-p", Integer.toString(node.port), "info", "commandstats"),
                      Duration.ofSeconds(5)));
      while (m.find()) {
        n += Long.parseLong(m.group(1));
      }
    }
    return n;
  }

  @Test
  void operationsOfOneNodeShareServerCallsWhateverTheirSlots() {
    int n = 3_000;
    long before = serverCalls();
    List<Boolean> done =
        reactor.core.publisher.Flux.range(0, n)
            .flatMap(
                i ->
                    store
                        .acquire(request("spread-" + i, Duration.ofSeconds(20)))
                        .cast(dev.onceflow.store.AcquireResult.Acquired.class)
                        .flatMap(
                            a -> store.complete(a.lease(), Completion.processed(null, RETAIN))),
                256)
            .collectList()
            .block(Duration.ofSeconds(60));
    long calls = serverCalls() - before;
    assertThat(done).hasSize(n).containsOnly(true);
    // 6,000 operations over ~3,000 slots of 3 nodes; one call per slot would be about 6,000.
    assertThat(calls).as("server calls for %d acquire + complete", n).isLessThan(n / 4);
  }
}
