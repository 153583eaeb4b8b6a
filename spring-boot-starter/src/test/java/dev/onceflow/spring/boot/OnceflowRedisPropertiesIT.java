package dev.onceflow.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.redis.RedisIdempotencyStore;
import dev.onceflow.spring.boot.internal.OnceflowFailureAnalyzer;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.test.LocalServers;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The {@code onceflow.store.redis.*} properties against the machine's Redis. */
class OnceflowRedisPropertiesIT {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OnceflowAutoConfiguration.class));

  @BeforeAll
  static void redis() {
    LocalServers.requireRedis();
  }

  @Test
  void theRedisStoreIsBuiltFromTheProperties() {
    runner
        .withPropertyValues(
            "onceflow.store.redis.uri=redis://127.0.0.1:6379",
            "onceflow.store.redis.key-prefix=it-props",
            "onceflow.store.redis.command-timeout=3s",
            "onceflow.store.redis.connect-timeout=4s")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              IdempotencyStore store = ctx.getBean(IdempotencyStore.class);
              assertThat(store).isInstanceOf(RedisIdempotencyStore.class);
              var options = ((RedisIdempotencyStore) store).options();
              assertThat(options.keyPrefix()).isEqualTo("it-props");
              assertThat(options.commandTimeout()).isEqualTo(Duration.ofSeconds(3));
              assertThat(options.connectTimeout()).isEqualTo(Duration.ofSeconds(4));
              assertThat(options.tls()).isFalse();
            });
  }

  private void assertFailure(String property, String value, String... settings) {
    runner
        .withPropertyValues(settings)
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              FailureAnalysis a = new OnceflowFailureAnalyzer().analyze(ctx.getStartupFailure());
              assertThat(a).isNotNull();
              assertThat(a.getDescription()).contains(property).contains(value);
              assertThat(a.getDescription()).doesNotContain("not-the-password");
            });
  }

  @Test
  void credentialsRedisRefusesFailStartupWithoutPrintingThePassword() {
    assertFailure(
        "onceflow.store.redis.uri",
        "'redis://127.0.0.1:6379'",
        "onceflow.store.redis.uri=redis://127.0.0.1:6379",
        "onceflow.store.redis.username=no-such-user",
        "onceflow.store.redis.password=not-the-password",
        "onceflow.store.redis.connect-timeout=2s");
  }

  @Test
  void tlsAgainstAPlainRedisFailsStartupNamingTheAddress() {
    assertFailure(
        "onceflow.store.redis.uri",
        "'redis://127.0.0.1:6379'",
        "onceflow.store.redis.uri=redis://127.0.0.1:6379",
        "onceflow.store.redis.tls=true",
        "onceflow.store.redis.connect-timeout=2s",
        "onceflow.store.redis.command-timeout=2s");
  }
}
