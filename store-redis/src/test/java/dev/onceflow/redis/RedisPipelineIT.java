package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.handler.Handled;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.store.Effect;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** A whole pipeline deduplicating through the Redis store on the shared Redis. */
class RedisPipelineIT {

  private static RedisIdempotencyStore store;
  private static RedisClient client;
  private static StatefulRedisConnection<String, String> connection;

  @BeforeAll
  static void connect() {
    RedisTestSupport.requireSharedRedis();
    store =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder()
                .standalone(RedisTestSupport.SHARED_URI)
                .keyPrefix("onceflow-pit")
                .build());
    client = RedisClient.create(RedisTestSupport.SHARED_URI);
    connection = client.connect();
  }

  @AfterAll
  static void close() {
    if (connection != null) {
      connection.close();
    }
    if (client != null) {
      client.shutdown();
    }
    if (store != null) {
      store.close();
    }
  }

  @Test
  void duplicatesAreAckedWithoutRunningTheHandlerAndEffectsApplyOncePerKey() {
    String name = "orders-" + UUID.randomUUID().toString().substring(0, 8);
    InMemorySource source = InMemorySource.create(name);
    int unique = 1_500;
    for (int i = 0; i < unique; i++) {
      source.publish("m" + i, "payload-" + i);
    }
    for (int i = 0; i < 500; i++) {
      source.publish("m" + i, "payload-" + i);
    }
    source.completeWhenDrained();
    AtomicInteger calls = new AtomicInteger();
    InMemoryDeadLetters deadLetters = InMemoryDeadLetters.create();
    Pipeline<String, String> p =
        Onceflow.consume(source)
            .name(name)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store).lease(Duration.ofSeconds(30)))
            .handleWithEffects(
                m -> {
                  calls.incrementAndGet();
                  return Mono.just(
                      Handled.of(
                          "done-" + m.key(),
                          Effect.incrBy(RedisIdempotencyStore.colocated("count", m.key()), 1),
                          Effect.sadd(
                              RedisIdempotencyStore.colocated("fences", m.key()),
                              Long.toString(m.fence()))));
                })
            .deadLetterTo(deadLetters)
            .concurrency(64)
            .build();

    List<Outcome<String>> outcomes = p.outcomes().collectList().block(Duration.ofSeconds(60));

    assertThat(outcomes).hasSize(unique + 500);
    assertThat(calls).hasValue(unique);
    assertThat(p.ledger().processed()).isEqualTo(unique);
    assertThat(p.ledger().duplicates()).isEqualTo(500);
    assertThat(p.ledger().balanced()).isTrue();
    assertThat(source.acked()).isEqualTo(unique + 500);
    assertThat(deadLetters.deadLetters()).isEmpty();
    for (int i = 0; i < unique; i += 37) {
      String counter =
          store.redisKeyOfEffect(name, RedisIdempotencyStore.colocated("count", "m" + i));
      assertThat(connection.sync().get(counter)).as("m%d", i).isEqualTo("1");
      assertThat(store.find(name, "m" + i).block()).isNotNull();
    }
  }
}
