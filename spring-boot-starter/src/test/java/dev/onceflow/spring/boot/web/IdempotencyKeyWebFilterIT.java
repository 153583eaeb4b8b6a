package dev.onceflow.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.redis.RedisIdempotencyStore;
import dev.onceflow.redis.RedisStoreOptions;
import dev.onceflow.store.Lease;
import dev.onceflow.test.FaultyStore;
import dev.onceflow.test.LocalServers;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The Idempotency-Key filter in a running WebFlux application on the real Redis store: every status
 * it answers, principals kept apart, a thousand concurrent requests, and a crash mid-request.
 */
@SpringBootTest(
    classes = IdempotencyKeyWebFilterIT.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "onceflow.http.idempotency.paths=/orders,/big,/boom",
      "onceflow.http.idempotency.lease=2s",
      "onceflow.http.idempotency.max-request-size=1KB",
      "onceflow.http.idempotency.max-response-size=1KB"
    })
class IdempotencyKeyWebFilterIT {

  /** One key prefix per run, so that runs never meet in the shared Redis. */
  static final String PREFIX = "it-http-" + UUID.randomUUID();

  @BeforeAll
  static void redis() {
    LocalServers.requireRedis();
  }

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    final List<Long> fences = new CopyOnWriteArrayList<>();
    volatile Sinks.Empty<Void> gate = Sinks.empty();

    @Bean(destroyMethod = "")
    FaultyStore store() {
      RedisIdempotencyStore redis =
          RedisIdempotencyStore.create(
              RedisStoreOptions.builder()
                  .standalone("redis://127.0.0.1:6379")
                  .keyPrefix(PREFIX)
                  .build());
      return FaultyStore.wrap(redis);
    }

    /** Takes the principal from X-User, as an authentication filter would. */
    @Bean
    @Order(-100)
    WebFilter principalFromHeader() {
      return (exchange, chain) -> {
        String user = exchange.getRequest().getHeaders().getFirst("X-User");
        if (user == null) {
          return chain.filter(exchange);
        }
        Principal p = () -> user;
        return chain.filter(exchange.mutate().principal(Mono.just(p)).build());
      };
    }

    @Bean
    RouterFunction<ServerResponse> routes() {
      return RouterFunctions.route()
          .POST("/orders", this::order)
          .POST("/big", r -> run(r).then(ServerResponse.ok().bodyValue("x".repeat(3000))))
          .POST("/boom", r -> run(r).then(ServerResponse.status(HttpStatus.BAD_GATEWAY).build()))
          .POST("/unfiltered", r -> ServerResponse.ok().bodyValue("free"))
          .build();
    }

    private Mono<Integer> run(ServerRequest r) {
      String key = r.headers().firstHeader("Idempotency-Key");
      String who = r.headers().firstHeader("X-User");
      return Mono.fromSupplier(
          () -> runs.computeIfAbsent(who + "/" + key, k -> new AtomicInteger()).incrementAndGet());
    }

    private Mono<ServerResponse> order(ServerRequest r) {
      Lease lease = (Lease) r.attribute(IdempotencyKeyWebFilter.LEASE_ATTRIBUTE).orElseThrow();
      fences.add(lease.fence());
      Mono<Void> hold =
          r.queryParam("hold").isPresent()
              ? gate.asMono()
              : Mono.delay(Duration.ofMillis(20)).then();
      return r.bodyToMono(String.class)
          .defaultIfEmpty("")
          .zipWith(run(r))
          .flatMap(
              t ->
                  hold.then(
                      Mono.defer(
                          () -> {
                            Map<String, Object> body = new LinkedHashMap<>();
                            body.put("order", UUID.randomUUID().toString());
                            body.put("received", t.getT1());
                            body.put("run", t.getT2());
                            body.put("fence", lease.fence());
                            return ServerResponse.status(HttpStatus.CREATED)
                                .header("Location", "/orders/" + body.get("order"))
                                .header("X-Not-Kept", "1")
                                .contentType(MediaType.APPLICATION_JSON)
                                .bodyValue(body);
                          })));
    }
  }

  @LocalServerPort int port;
  @Autowired App app;
  @Autowired FaultyStore store;

  WebTestClient client;
  WebClient web;
  ConnectionProvider connections;

  @BeforeEach
  void client() {
    connections =
        ConnectionProvider.builder("it").maxConnections(200).pendingAcquireMaxCount(5000).build();
    ReactorClientHttpConnector connector =
        new ReactorClientHttpConnector(HttpClient.create(connections));
    client =
        WebTestClient.bindToServer(connector)
            .baseUrl("http://127.0.0.1:" + port)
            .responseTimeout(Duration.ofSeconds(30))
            .build();
    web =
        WebClient.builder().clientConnector(connector).baseUrl("http://127.0.0.1:" + port).build();
    app.gate = Sinks.empty();
  }

  @AfterEach
  void healStore() {
    store.outage(false).failNext(FaultyStore.Operation.EXTEND, 0);
    app.gate.tryEmitEmpty();
    connections.dispose();
  }

  private static String key() {
    return "k-" + UUID.randomUUID();
  }

  private WebTestClient.RequestHeadersSpec<?> post(String path, String key, String body) {
    return client
        .post()
        .uri(path)
        .header("Idempotency-Key", key)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body);
  }

  /** A request to /orders whose handler waits for the gate; not blocking. */
  private Mono<Integer> held(String key) {
    return web.post()
        .uri("/orders?hold=1")
        .header("Idempotency-Key", key)
        .bodyValue("{}")
        .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value()));
  }

  /** Waits until the handler started for {@code key} (anonymous). */
  private void awaitFirstRun(String key) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (runs(null, key) == 0 && System.nanoTime() < deadline) {
      Mono.delay(Duration.ofMillis(10)).block();
    }
    assertThat(runs(null, key)).as("the handler started for %s", key).isEqualTo(1);
  }

  private int runs(String user, String key) {
    AtomicInteger n = app.runs.get(user + "/" + key);
    return n == null ? 0 : n.get();
  }

  private static void assertProblem(EntityExchangeResult<byte[]> r, int status, String type) {
    assertThat(r.getStatus().value()).isEqualTo(status);
    assertThat(r.getResponseHeaders().getContentType())
        .isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
    String body = new String(r.getResponseBody(), StandardCharsets.UTF_8);
    assertThat(body)
        .contains("\"type\":\"" + type + "\"")
        .contains("\"status\":" + status)
        .contains("\"title\":")
        .contains("\"detail\":");
  }

  @Test
  void theFirstRequestRunsAndARepeatGetsTheStoredResponseByteForByte() {
    String key = key();
    EntityExchangeResult<byte[]> first =
        post("/orders", key, "{\"item\":\"book\"}").exchange().expectBody().returnResult();
    assertThat(first.getStatus().value()).isEqualTo(201);
    assertThat(first.getResponseHeaders().containsHeader("Idempotent-Replayed")).isFalse();

    EntityExchangeResult<byte[]> repeat =
        post("/orders", key, "{\"item\":\"book\"}").exchange().expectBody().returnResult();
    assertThat(repeat.getStatus().value()).isEqualTo(201);
    assertThat(repeat.getResponseBody()).isEqualTo(first.getResponseBody());
    assertThat(repeat.getResponseHeaders().getFirst("Idempotent-Replayed")).isEqualTo("true");
    assertThat(repeat.getResponseHeaders().getLocation())
        .isEqualTo(first.getResponseHeaders().getLocation());
    assertThat(repeat.getResponseHeaders().getContentType())
        .isEqualTo(first.getResponseHeaders().getContentType());
    assertThat(repeat.getResponseHeaders().containsHeader("X-Not-Kept")).isFalse();
    assertThat(runs(null, key)).isEqualTo(1);
  }

  @Test
  void aRepeatWhileTheFirstStillRunsAnswers409WithRetryAfter() {
    String key = key();
    var running = held(key).subscribe();
    awaitFirstRun(key);
    assertThat(runs(null, key)).isEqualTo(1);

    EntityExchangeResult<byte[]> repeat =
        client
            .post()
            .uri("/orders?hold=1")
            .header("Idempotency-Key", key)
            .bodyValue("{}")
            .exchange()
            .expectBody()
            .returnResult();
    assertProblem(repeat, 409, IdempotencyKeyWebFilter.PROBLEM_IN_PROGRESS);
    assertThat(repeat.getResponseHeaders().getFirst("Retry-After")).matches("[1-9][0-9]*");
    app.gate.tryEmitEmpty();
    running.dispose();
    assertThat(runs(null, key)).isEqualTo(1);
  }

  @Test
  void theHeartbeatKeepsALongRequestsKeyBeyondItsLease() {
    String key = key();
    var running = held(key).subscribe();
    awaitFirstRun(key);
    Mono.delay(Duration.ofMillis(4500)).block(); // more than twice the 2 s lease
    post("/orders", key, "{}").exchange().expectStatus().isEqualTo(409);
    app.gate.tryEmitEmpty();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    int status = 409;
    while (status == 409 && System.nanoTime() < deadline) {
      Mono.delay(Duration.ofMillis(50)).block();
      status = post("/orders", key, "{}").exchange().returnResult(byte[].class).getStatus().value();
    }
    assertThat(status).isEqualTo(201);
    post("/orders", key, "{}").exchange().expectHeader().valueEquals("Idempotent-Replayed", "true");
    assertThat(runs(null, key)).isEqualTo(1);
    running.dispose();
  }

  @Test
  void theSameKeyWithAnotherBodyAnswers422() {
    String key = key();
    post("/orders", key, "{\"item\":\"book\"}").exchange().expectStatus().isCreated();
    EntityExchangeResult<byte[]> other =
        post("/orders", key, "{\"item\":\"car\"}").exchange().expectBody().returnResult();
    assertProblem(other, 422, IdempotencyKeyWebFilter.PROBLEM_KEY_REUSED);
    assertThat(runs(null, key)).isEqualTo(1);
  }

  @Test
  void aMissingOrMalformedKeyAnswers400AndNothingRuns() {
    EntityExchangeResult<byte[]> missing =
        client.post().uri("/orders").bodyValue("{}").exchange().expectBody().returnResult();
    assertProblem(missing, 400, IdempotencyKeyWebFilter.PROBLEM_KEY_MISSING);
    String tooLong = "k".repeat(256);
    EntityExchangeResult<byte[]> malformed =
        post("/orders", tooLong, "{}").exchange().expectBody().returnResult();
    assertProblem(malformed, 400, IdempotencyKeyWebFilter.PROBLEM_KEY_MISSING);
    assertThat(app.runs.keySet()).noneMatch(k -> k.endsWith("/null") || k.contains(tooLong));
  }

  @Test
  void aBodyOverTheLimitAnswers413AndIsNotRunNorStored() {
    String key = key();
    String big = "{\"pad\":\"" + "x".repeat(2000) + "\"}";
    EntityExchangeResult<byte[]> declared =
        post("/orders", key, big).exchange().expectBody().returnResult();
    assertProblem(declared, 413, IdempotencyKeyWebFilter.PROBLEM_TOO_LARGE);

    Flux<DataBuffer> chunked =
        Flux.range(0, 20).map(i -> DefaultDataBufferFactory.sharedInstance.wrap(new byte[200]));
    EntityExchangeResult<byte[]> streamed =
        client
            .post()
            .uri("/orders")
            .header("Idempotency-Key", key)
            .body(chunked, DataBuffer.class)
            .exchange()
            .expectBody()
            .returnResult();
    assertProblem(streamed, 413, IdempotencyKeyWebFilter.PROBLEM_TOO_LARGE);
    assertThat(runs(null, key)).isZero();
    // the key was not taken: a request of the right size runs
    post("/orders", key, "{}").exchange().expectStatus().isCreated();
    assertThat(runs(null, key)).isEqualTo(1);
  }

  @Test
  void twoPrincipalsWithTheSameKeyStayApart() {
    String key = key();
    byte[] alice =
        post("/orders", key, "{}")
            .header("X-User", "alice")
            .exchange()
            .expectStatus()
            .isCreated()
            .expectBody()
            .returnResult()
            .getResponseBody();
    EntityExchangeResult<byte[]> bob =
        post("/orders", key, "{}").header("X-User", "bob").exchange().expectBody().returnResult();
    assertThat(bob.getStatus().value()).isEqualTo(201);
    assertThat(bob.getResponseHeaders().containsHeader("Idempotent-Replayed")).isFalse();
    assertThat(bob.getResponseBody()).isNotEqualTo(alice);
    assertThat(runs("alice", key)).isEqualTo(1);
    assertThat(runs("bob", key)).isEqualTo(1);
    byte[] aliceAgain =
        post("/orders", key, "{}")
            .header("X-User", "alice")
            .exchange()
            .expectHeader()
            .valueEquals("Idempotent-Replayed", "true")
            .expectBody()
            .returnResult()
            .getResponseBody();
    assertThat(aliceAgain).isEqualTo(alice);
  }

  @Test
  void aThousandConcurrentRequestsOverAHundredKeysRunTheHandlerExactlyAHundredTimes() {
    String run = UUID.randomUUID().toString();
    List<Integer> statuses =
        Flux.range(0, 1000)
            .flatMap(
                i ->
                    web.post()
                        .uri("/orders")
                        .header("Idempotency-Key", run + "-" + (i % 100))
                        .contentType(MediaType.APPLICATION_JSON)
                        .bodyValue("{\"n\":" + (i % 100) + "}")
                        .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value())),
                200)
            .collectList()
            .block(Duration.ofSeconds(120));
    assertThat(statuses).hasSize(1000).allMatch(st -> st == 201 || st == 409);
    assertThat(statuses).filteredOn(st -> st == 201).hasSizeGreaterThanOrEqualTo(100);
    int total = 0;
    for (int k = 0; k < 100; k++) {
      assertThat(runs(null, run + "-" + k)).as("runs of key %s", k).isEqualTo(1);
      total += runs(null, run + "-" + k);
    }
    assertThat(total).isEqualTo(100);
    // and every key now replays
    for (int k = 0; k < 100; k += 9) {
      post("/orders", run + "-" + k, "{\"n\":" + k + "}")
          .exchange()
          .expectStatus()
          .isCreated()
          .expectHeader()
          .valueEquals("Idempotent-Replayed", "true");
    }
  }

  @Test
  void aCrashMidRequestLetsARetryRunOnceWithAHigherFenceAfterTheLease() {
    String key = key();
    var crashed = held(key).subscribe();
    awaitFirstRun(key);
    // the instance serving it "dies": its heartbeats never reach the store again
    store.failNext(FaultyStore.Operation.EXTEND, 1_000_000);
    long crashedFence = app.fences.get(app.fences.size() - 1);

    post("/orders", key, "{}").exchange().expectStatus().isEqualTo(409);
    Mono.delay(Duration.ofMillis(2500)).block(); // the 2 s lease expires
    EntityExchangeResult<byte[]> retry =
        post("/orders", key, "{}").exchange().expectBody().returnResult();
    assertThat(retry.getStatus().value()).isEqualTo(201);
    String body = new String(retry.getResponseBody(), StandardCharsets.UTF_8);
    long retryFence = Long.parseLong(body.replaceAll(".*\"fence\":(\\d+).*", "$1"));
    assertThat(retryFence).isGreaterThan(crashedFence);
    assertThat(runs(null, key)).isEqualTo(2); // the crashed run and the retry, once

    // the crashed request wakes up: its completion is refused, the retry's response stays
    app.gate.tryEmitEmpty();
    Mono.delay(Duration.ofMillis(300)).block();
    byte[] replay =
        post("/orders", key, "{}")
            .exchange()
            .expectHeader()
            .valueEquals("Idempotent-Replayed", "true")
            .expectBody()
            .returnResult()
            .getResponseBody();
    assertThat(replay).isEqualTo(retry.getResponseBody());
    assertThat(runs(null, key)).isEqualTo(2);
    crashed.dispose();
  }

  @Test
  void aServerErrorReleasesTheKeySoThatTheRetryRuns() {
    String key = key();
    post("/boom", key, "{}").exchange().expectStatus().isEqualTo(502);
    post("/boom", key, "{}").exchange().expectStatus().isEqualTo(502);
    assertThat(runs(null, key)).isEqualTo(2);
  }

  @Test
  void aResponseOverTheLimitIsSentButNotKeptAndARepeatAnswers409() {
    String key = key();
    String body =
        post("/big", key, "{}")
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(String.class)
            .returnResult()
            .getResponseBody();
    assertThat(body).hasSize(3000);
    EntityExchangeResult<byte[]> repeat =
        post("/big", key, "{}").exchange().expectBody().returnResult();
    assertProblem(repeat, 409, IdempotencyKeyWebFilter.PROBLEM_NOT_RETAINED);
    assertThat(runs(null, key)).isEqualTo(1);
  }

  @Test
  void whenTheStoreDoesNotAnswerTheRequestIsRefusedWith503AndNotRun() {
    String key = key();
    store.outage(true);
    EntityExchangeResult<byte[]> r =
        post("/orders", key, "{}").exchange().expectBody().returnResult();
    assertProblem(r, 503, IdempotencyKeyWebFilter.PROBLEM_STORE_UNAVAILABLE);
    assertThat(runs(null, key)).isZero();
    store.outage(false);
    post("/orders", key, "{}").exchange().expectStatus().isCreated();
  }

  @Test
  void otherRoutesAndMethodsPassThrough() {
    client.post().uri("/unfiltered").exchange().expectStatus().isOk();
    client.get().uri("/orders").exchange().expectStatus().isNotFound();
  }
}
