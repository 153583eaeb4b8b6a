package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Lease;
import dev.onceflow.store.RecordedOutcome;
import dev.onceflow.store.StoreException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * {@code waitForReplicas}: a primary and one replica this test starts; a completion emits only
 * after the replica acknowledged it, and fails (the caller does not ack) when it does not within
 * the timeout.
 */
class RedisReplicaWaitIT {

  private static final Duration RETAIN = Duration.ofMinutes(10);
  private static final Duration LEASE = Duration.ofSeconds(30);

  private static RedisTestSupport.OwnedRedis primary;
  private static RedisTestSupport.OwnedRedis replica;
  private static RedisClient replicaClient;
  private static StatefulRedisConnection<String, String> replicaConnection;

  @BeforeAll
  static void startPair() throws Exception {
    Path dir = Files.createTempDirectory("onceflow-replica-");
    primary = new RedisTestSupport.OwnedRedis(dir, RedisTestSupport.freePort(), List.of());
    primary.start(true);
    replica =
        new RedisTestSupport.OwnedRedis(
            dir,
            RedisTestSupport.freePort(),
            List.of("--replicaof", "127.0.0.1", Integer.toString(primary.port)));
    replica.start(true);
    replicaClient = RedisClient.create("redis://127.0.0.1:" + replica.port);
    replicaConnection = replicaClient.connect();
    RedisTestSupport.awaitTrue(
        "the replica to sync",
        Duration.ofSeconds(20),
        () -> replicaConnection.sync().info("replication").contains("master_link_status:up"));
  }

  @AfterAll
  static void stopPair() {
    if (replicaConnection != null) {
      replicaConnection.close();
    }
    if (replicaClient != null) {
      replicaClient.shutdown();
    }
    if (replica != null) {
      replica.stop();
    }
    if (primary != null) {
      primary.stop();
    }
  }

  private static RedisIdempotencyStore store(boolean wait) {
    RedisStoreOptions.Builder b =
        RedisStoreOptions.builder()
            .standalone("redis://127.0.0.1:" + primary.port)
            .commandTimeout(Duration.ofSeconds(2));
    if (wait) {
      b.waitForReplicas(1, Duration.ofMillis(500));
    }
    return RedisIdempotencyStore.create(b.build());
  }

  private static Lease acquired(RedisIdempotencyStore store, String ns, String key) {
    AcquireResult r = store.acquire(AcquireRequest.of(ns, key, "o", LEASE)).block();
    assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
    return ((AcquireResult.Acquired) r).lease();
  }

  @Test
  void everyAcknowledgedCompletionIsAlreadyOnTheReplica() {
    try (RedisIdempotencyStore store = store(true)) {
      for (int i = 0; i < 50; i++) {
        Lease l = acquired(store, "waited", "k" + i);
        assertThat(store.complete(l, Completion.processed(null, RETAIN)).block()).isTrue();
        assertThat(replicaConnection.sync().exists(store.redisKeyOfMessage("waited", "k" + i)))
            .as("k%d on the replica when its completion returned", i)
            .isEqualTo(1);
      }
      List<Boolean> many =
          Flux.range(0, 500)
              .flatMap(i -> store.acquire(AcquireRequest.of("waited-many", "m" + i, "o", LEASE)))
              .cast(AcquireResult.Acquired.class)
              .flatMap(a -> store.complete(a.lease(), Completion.processed(null, RETAIN)), 256)
              .collectList()
              .block(Duration.ofSeconds(30));
      assertThat(many).hasSize(500).containsOnly(true);
    }
  }

  @Test
  void aCompletionTheReplicaDoesNotAcknowledgeFailsAndIsADuplicateOnceRedelivered() {
    try (RedisIdempotencyStore waiting = store(true);
        RedisIdempotencyStore plain = store(false)) {
      Lease w = acquired(waiting, "stalled", "w");
      Lease p = acquired(plain, "stalled", "p");
      RedisTestSupport.run(
          List.of("kill", "-STOP", Long.toString(replica.pid())), Duration.ofSeconds(5));
      try {
        StepVerifier.create(waiting.complete(w, Completion.processed(null, RETAIN)))
            .expectErrorSatisfies(
                e ->
                    assertThat(e)
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("replicas acknowledged"))
            .verify(Duration.ofSeconds(5));
        // Without the option the same completion is acknowledged at once, replica or not.
        assertThat(plain.complete(p, Completion.processed(null, RETAIN)).block()).isTrue();
      } finally {
        RedisTestSupport.run(
            List.of("kill", "-CONT", Long.toString(replica.pid())), Duration.ofSeconds(5));
      }
      // The record is on the primary: the redelivered message is a duplicate, not run again.
      AcquireResult again = waiting.acquire(AcquireRequest.of("stalled", "w", "o", LEASE)).block();
      assertThat(again).isInstanceOf(AcquireResult.Completed.class);
      assertThat(((AcquireResult.Completed) again).record().outcome())
          .isEqualTo(RecordedOutcome.PROCESSED);
    }
  }
}
