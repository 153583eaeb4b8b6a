package dev.onceflow.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.spring.boot.OnceflowAutoConfiguration;
import dev.onceflow.spring.boot.internal.OnceflowFailureAnalyzer;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.IdempotencyStore;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.core.publisher.Mono;

/** The {@code onceflow.http.idempotency.*} properties and their failure messages. */
class OnceflowWebFluxAutoConfigurationTest {

  private final ReactiveWebApplicationContextRunner runner =
      new ReactiveWebApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  OnceflowAutoConfiguration.class, OnceflowWebFluxAutoConfiguration.class));

  @Test
  void theFilterIsInstalledInAReactiveWebApplicationWithThePropertiesApplied() {
    runner
        .withPropertyValues(
            "onceflow.http.idempotency.paths=/payments/**",
            "onceflow.http.idempotency.methods=PUT",
            "onceflow.http.idempotency.header=X-Key",
            "onceflow.http.idempotency.namespace=api",
            "onceflow.http.idempotency.lease=9s",
            "onceflow.http.idempotency.retention=2h",
            "onceflow.http.idempotency.order=5")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              IdempotencyKeyWebFilter filter = ctx.getBean(IdempotencyKeyWebFilter.class);
              assertThat(filter.getOrder()).isEqualTo(5);
              IdempotencyStore store = ctx.getBean(IdempotencyStore.class);
              // a PUT on /payments/1 without X-Key is refused ...
              MockServerWebExchange missing =
                  MockServerWebExchange.from(MockServerHttpRequest.put("/payments/1").build());
              filter.filter(missing, e -> Mono.error(new AssertionError("ran"))).block();
              assertThat(missing.getResponse().getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
              // ... a POST (not selected) and another path pass through
              MockServerWebExchange post =
                  MockServerWebExchange.from(MockServerHttpRequest.post("/payments/1").build());
              filter.filter(post, e -> Mono.empty()).block();
              assertThat(post.getResponse().getStatusCode()).isNull();
              // ... and a PUT with X-Key runs under a lease in namespace "api" with the lease TTL
              MockServerWebExchange put =
                  MockServerWebExchange.from(
                      MockServerHttpRequest.put("/payments/1").header("X-Key", "k1").build());
              filter.filter(put, e -> e.getResponse().setComplete()).block();
              AcquireResult again =
                  store
                      .acquire(
                          new AcquireRequest(
                              "api",
                              "PUT /payments/**|0:|k1",
                              "test",
                              Duration.ofSeconds(1),
                              Duration.ofHours(1),
                              null,
                              null,
                              false))
                      .block();
              assertThat(again).isInstanceOf(AcquireResult.Completed.class);
            });
  }

  @Test
  void whenTheKeyIsNotRequiredARequestWithoutOnePassesThrough() {
    runner
        .withPropertyValues(
            "onceflow.http.idempotency.paths=/orders", "onceflow.http.idempotency.required=false")
        .run(
            ctx -> {
              IdempotencyKeyWebFilter filter = ctx.getBean(IdempotencyKeyWebFilter.class);
              MockServerWebExchange post =
                  MockServerWebExchange.from(MockServerHttpRequest.post("/orders").build());
              filter
                  .filter(
                      post,
                      e -> {
                        e.getResponse().setStatusCode(HttpStatus.CREATED);
                        return e.getResponse().setComplete();
                      })
                  .block();
              assertThat(post.getResponse().getStatusCode()).isEqualTo(HttpStatus.CREATED);
            });
  }

  @Test
  void withoutPathsTheFilterAppliesToNothing() {
    runner.run(
        ctx -> {
          IdempotencyKeyWebFilter filter = ctx.getBean(IdempotencyKeyWebFilter.class);
          MockServerWebExchange post =
              MockServerWebExchange.from(MockServerHttpRequest.post("/orders").build());
          filter.filter(post, e -> Mono.empty()).block();
          assertThat(post.getResponse().getStatusCode()).isNull();
        });
  }

  @Test
  void theFilterCanBeSwitchedOffAndIsNotInstalledOutsideReactiveWebApplications() {
    runner
        .withPropertyValues("onceflow.http.idempotency.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean(IdempotencyKeyWebFilter.class));
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                OnceflowAutoConfiguration.class, OnceflowWebFluxAutoConfiguration.class))
        .run(ctx -> assertThat(ctx).doesNotHaveBean(IdempotencyKeyWebFilter.class));
  }

  @Test
  void theFilterUsesTheApplicationsStore() {
    InMemoryIdempotencyStore own = InMemoryIdempotencyStore.create();
    runner
        .withBean(IdempotencyStore.class, () -> own)
        .run(ctx -> assertThat(ctx.getBean(IdempotencyStore.class)).isSameAs(own));
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
              assertThat(a.getAction()).isNotBlank();
            });
  }

  @Test
  void badSettingsFailNamingThePropertyAndTheValue() {
    assertFailure(
        "onceflow.http.idempotency.paths",
        "'/orders/**/x'",
        "onceflow.http.idempotency.paths=/orders/**/x");
    assertFailure(
        "onceflow.http.idempotency.methods", "'FETCH'", "onceflow.http.idempotency.methods=FETCH");
    assertFailure(
        "onceflow.http.idempotency.lease", "'PT0S'", "onceflow.http.idempotency.lease=0s");
    assertFailure(
        "onceflow.http.idempotency.retention",
        "'PT1S'",
        "onceflow.http.idempotency.lease=10s",
        "onceflow.http.idempotency.retention=1s");
    assertFailure(
        "onceflow.http.idempotency.namespace", "'a{b'", "onceflow.http.idempotency.namespace=a{b");
    assertFailure(
        "onceflow.http.idempotency.max-key-length",
        "'0'",
        "onceflow.http.idempotency.max-key-length=0");
    assertFailure("onceflow.http.idempotency.header", "''", "onceflow.http.idempotency.header= ");
  }
}
