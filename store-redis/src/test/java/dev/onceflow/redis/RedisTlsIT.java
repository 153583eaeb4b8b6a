package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Lease;
import dev.onceflow.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS: the test makes a self-signed certificate with openssl and starts its own redis-server with
 * only a {@code tls-port}; the store trusts that certificate through {@code
 * trustedCertificates(pem)}.
 */
class RedisTlsIT {

  private static RedisTestSupport.OwnedRedis redis;
  private static Path cert;

  @BeforeAll
  static void startTlsRedis() throws Exception {
    Path dir = Files.createTempDirectory("onceflow-tls-");
    cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    RedisTestSupport.run(
        List.of(
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            key.toString(),
            "-out",
            cert.toString()),
        Duration.ofSeconds(60));
    int port = RedisTestSupport.freePort();
    redis =
        new RedisTestSupport.OwnedRedis(
                dir,
                port,
                List.of(
                    "--tls-port", Integer.toString(port),
                    "--tls-cert-file", cert.toString(),
                    "--tls-key-file", key.toString(),
                    "--tls-ca-cert-file", cert.toString(),
                    "--tls-auth-clients", "no"))
            .start(false);
  }

  @AfterAll
  static void stopTlsRedis() {
    if (redis != null) {
      redis.stop();
    }
  }

  @Test
  void theStoreWorksOverTlsWithATrustedSelfSignedCertificate() {
    try (RedisIdempotencyStore store =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder()
                .standalone("rediss://127.0.0.1:" + redis.port)
                .trustedCertificates(cert)
                .build())) {
      assertThat(store.options().tls()).isTrue();
      AcquireResult r =
          store.acquire(AcquireRequest.of("tls", "k", "o", Duration.ofSeconds(30))).block();
      assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
      Lease lease = ((AcquireResult.Acquired) r).lease();
      assertThat(
              store
                  .complete(lease, Completion.processed(new byte[] {1}, Duration.ofMinutes(1)))
                  .block())
          .isTrue();
      assertThat(store.find("tls", "k").block().result()).containsExactly(1);
    }
  }

  @Test
  void anUntrustedCertificateIsRefused() {
    assertThatThrownBy(
            () ->
                RedisIdempotencyStore.create(
                    RedisStoreOptions.builder()
                        .standalone("redis://127.0.0.1:" + redis.port)
                        .tls(true)
                        .connectTimeout(Duration.ofSeconds(5))
                        .build()))
        .isInstanceOf(StoreException.class);
  }
}
