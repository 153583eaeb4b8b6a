package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedisStoreOptionsTest {

  @Test
  void standaloneDefaults() {
    RedisStoreOptions o = RedisStoreOptions.standalone("redis://127.0.0.1:6379");
    assertThat(o.topology()).isEqualTo(RedisStoreOptions.Topology.STANDALONE);
    assertThat(o.keyPrefix()).isEqualTo(RedisStoreOptions.DEFAULT_KEY_PREFIX);
    assertThat(o.commandTimeout()).isEqualTo(RedisStoreOptions.DEFAULT_COMMAND_TIMEOUT);
    assertThat(o.batchSize()).isEqualTo(RedisStoreOptions.DEFAULT_BATCH_SIZE);
    assertThat(o.tls()).isFalse();
    assertThat(o.redisUris())
        .singleElement()
        .satisfies(u -> assertThat(u.getPort()).isEqualTo(6379));
  }

  @Test
  void waitingForReplicasIsOffByDefaultAndValidated() {
    assertThat(RedisStoreOptions.standalone("redis://h:6379").waitForReplicas()).isZero();
    RedisStoreOptions o =
        RedisStoreOptions.builder()
            .standalone("redis://h:6379")
            .waitForReplicas(1, Duration.ofMillis(500))
            .build();
    assertThat(o.waitForReplicas()).isEqualTo(1);
    assertThat(o.waitForReplicasTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(o.toString()).contains("waitForReplicas=1");
    assertThat(o.mutate().build().waitForReplicas()).isEqualTo(1);
    assertThatThrownBy(
            () -> RedisStoreOptions.builder().waitForReplicas(-1, Duration.ofMillis(500)))
        .hasMessageContaining("`waitForReplicas` must be between 0 and 16, but was -1");
    assertThatThrownBy(() -> RedisStoreOptions.builder().waitForReplicas(1, Duration.ZERO))
        .hasMessageContaining("must be positive");
    assertThatThrownBy(
            () ->
                RedisStoreOptions.builder()
                    .standalone("redis://h:6379")
                    .waitForReplicas(1, Duration.ofSeconds(2))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be shorter than `commandTimeout`");
  }

  @Test
  void aRedissUriTurnsTlsOn() {
    assertThat(RedisStoreOptions.standalone("rediss://h:6380").tls()).isTrue();
  }

  @Test
  void credentialsAreAppliedToEveryUriAndNeverPrinted() {
    RedisStoreOptions o =
        RedisStoreOptions.builder()
            .cluster("redis://a:7000", "redis://b:7001")
            .username("app")
            .password("s3cret")
            .build();
    assertThat(o.topology()).isEqualTo(RedisStoreOptions.Topology.CLUSTER);
    assertThat(o.redisUris()).hasSize(2);
    for (RedisURI u : o.redisUris()) {
      assertThat(u.getCredentialsProvider().resolveCredentials().block().getUsername())
          .isEqualTo("app");
      assertThat(new String(u.getCredentialsProvider().resolveCredentials().block().getPassword()))
          .isEqualTo("s3cret");
    }
    assertThat(o.toString()).doesNotContain("s3cret").contains("****");
  }

  @Test
  void sentinelListsEverySentinel() {
    RedisStoreOptions o =
        RedisStoreOptions.builder().sentinel("mymaster", List.of("s1:26379", "s2:26380")).build();
    assertThat(o.topology()).isEqualTo(RedisStoreOptions.Topology.SENTINEL);
    RedisURI u = o.redisUris().get(0);
    assertThat(u.getSentinelMasterId()).isEqualTo("mymaster");
    assertThat(u.getSentinels()).extracting(RedisURI::getPort).containsExactly(26379, 26380);
  }

  @Test
  void mutateDerivesChangedOptions() {
    RedisStoreOptions o = RedisStoreOptions.standalone("redis://h:1");
    RedisStoreOptions p = o.mutate().keyPrefix("other").build();
    assertThat(p.keyPrefix()).isEqualTo("other");
    assertThat(o.keyPrefix()).isEqualTo("onceflow");
  }

  @Test
  void invalidOptionsFailWithMessagesThatSayWhatToDo() {
    assertThatThrownBy(() -> RedisStoreOptions.builder().build())
        .hasMessageContaining("standalone(uri), cluster(seedUris) or sentinel");
    assertThatThrownBy(
            () ->
                RedisStoreOptions.builder()
                    .standalone("redis://h:1")
                    .cluster("redis://h:2")
                    .build())
        .hasMessageContaining("choose one topology");
    assertThatThrownBy(() -> RedisStoreOptions.builder().standalone("not a uri"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("`standalone` must be a Redis URI");
    assertThatThrownBy(() -> RedisStoreOptions.builder().commandTimeout(Duration.ZERO))
        .hasMessage("`commandTimeout` must be positive, but was PT0S");
    assertThatThrownBy(() -> RedisStoreOptions.builder().batchSize(0))
        .hasMessage("`batchSize` must be between 1 and 1024, but was 0");
    assertThatThrownBy(() -> RedisStoreOptions.builder().maxInFlightBatches(0))
        .hasMessage("`maxInFlightBatches` must be positive, but was 0");
    assertThatThrownBy(() -> RedisStoreOptions.builder().keyPrefix("a{b"))
        .hasMessageContaining("must not contain '{' or '}'");
    assertThatThrownBy(() -> RedisStoreOptions.builder().keyPrefix(""))
        .hasMessage("`keyPrefix` must not be empty");
    assertThatThrownBy(
            () -> RedisStoreOptions.builder().standalone("redis://h:1").username("u").build())
        .hasMessageContaining("`username` is set without a password");
    assertThatThrownBy(
            () ->
                RedisStoreOptions.builder()
                    .standalone("redis://h:1")
                    .trustedCertificates(Path.of("pom.xml"))
                    .build())
        .hasMessageContaining("TLS is off");
    assertThatThrownBy(
            () -> RedisStoreOptions.builder().trustedCertificates(Path.of("/no/such/file.pem")))
        .hasMessageContaining("readable PEM file");
    assertThatThrownBy(() -> RedisStoreOptions.builder().cluster(List.of()))
        .hasMessageContaining("at least one seed URI");
    assertThatThrownBy(() -> RedisStoreOptions.builder().sentinel("m", List.of("host:notaport")))
        .hasMessageContaining("host:port");
  }
}
