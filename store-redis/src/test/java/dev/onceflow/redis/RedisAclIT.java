package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.Lease;
import dev.onceflow.store.StoreException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * An ACL user confined to one namespace's keys ({@code ~<prefix>:<namespace>:*}) on the shared
 * Redis; the user is deleted afterwards.
 */
class RedisAclIT {

  private static final String USER = "onceflow-acl-" + UUID.randomUUID().toString().substring(0, 8);
  private static final String PASSWORD = UUID.randomUUID().toString();
  private static final String NS = "allowed";
  private static RedisClient admin;
  private static StatefulRedisConnection<String, String> connection;

  @BeforeAll
  static void createUser() {
    RedisTestSupport.requireSharedRedis();
    admin = RedisClient.create(RedisTestSupport.SHARED_URI);
    connection = admin.connect();
    connection
        .sync()
        .dispatch(
            io.lettuce.core.protocol.CommandType.ACL,
            new io.lettuce.core.output.StatusOutput<>(io.lettuce.core.codec.StringCodec.UTF8),
            new io.lettuce.core.protocol.CommandArgs<>(io.lettuce.core.codec.StringCodec.UTF8)
                .add("SETUSER")
                .add(USER)
                .add("reset")
                .add("on")
                .add(">" + PASSWORD)
                .add("~onceflow-acl:" + NS + ":*")
                .add("+@all")
                .add("-@dangerous"));
  }

  @AfterAll
  static void deleteUser() {
    if (connection != null) {
      connection.sync().aclDeluser(USER);
      connection.close();
    }
    if (admin != null) {
      admin.shutdown();
    }
  }

  private static RedisStoreOptions.Builder options() {
    return RedisStoreOptions.builder()
        .standalone(RedisTestSupport.SHARED_URI)
        .keyPrefix("onceflow-acl")
        .username(USER);
  }

  @Test
  void aUserConfinedToTheNamespacesKeysCanRunTheStoreThere() {
    try (RedisIdempotencyStore store =
        RedisIdempotencyStore.create(options().password(PASSWORD).build())) {
      String key = "k-" + UUID.randomUUID();
      AcquireResult r =
          store.acquire(AcquireRequest.of(NS, key, "o", Duration.ofSeconds(30))).block();
      assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
      Lease lease = ((AcquireResult.Acquired) r).lease();
      assertThat(
              store
                  .complete(
                      lease,
                      Completion.processed(
                          null,
                          Duration.ofMinutes(1),
                          List.of(Effect.incrBy(RedisIdempotencyStore.colocated("n", key), 1))))
                  .block())
          .isTrue();
      assertThat(store.find(NS, key).block()).isNotNull();

      StepVerifier.create(
              store.acquire(AcquireRequest.of("forbidden", key, "o", Duration.ofSeconds(30))))
          .expectErrorSatisfies(
              e ->
                  assertThat(e)
                      .isInstanceOf(StoreException.class)
                      .hasMessageContaining("forbidden")
                      .hasStackTraceContaining("NOPERM"))
          .verify(Duration.ofSeconds(5));
    }
  }

  @Test
  void aWrongPasswordFailsAtCreateWithAStoreException() {
    assertThatThrownBy(
            () -> RedisIdempotencyStore.create(options().password("not-the-secret-pw").build()))
        .isInstanceOf(StoreException.class)
        .hasMessageNotContaining("not-the-secret-pw");
  }
}
