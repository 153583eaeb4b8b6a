package dev.onceflow.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.kafka.KafkaSource;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.pipeline.NonRetryableException;
import dev.onceflow.spring.boot.internal.ManagedPipeline;
import dev.onceflow.spring.boot.internal.OnceflowFailureAnalyzer;
import dev.onceflow.spring.boot.internal.OnceflowLifecycle;
import dev.onceflow.spring.boot.internal.PipelineRegistry;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.publisher.Mono;

/** Every property of the starter and the failure messages, on ApplicationContextRunner. */
@ExtendWith(OutputCaptureExtension.class)
class OnceflowAutoConfigurationTest {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OnceflowAutoConfiguration.class));

  /** An order as the handlers receive it, decoded from JSON. */
  record Order(String id, int amount) {}

  /** A receipt, cached as JSON for duplicates. */
  record Receipt(String order, int charged) {}

  /** A store that records the acquire requests it was asked. */
  static final class RecordingStore implements IdempotencyStore {
    final InMemoryIdempotencyStore delegate = InMemoryIdempotencyStore.create();
    final List<AcquireRequest> requests = new CopyOnWriteArrayList<>();

    @Override
    public Mono<AcquireResult> acquire(AcquireRequest request) {
      requests.add(request);
      return delegate.acquire(request);
    }

    @Override
    public Mono<Boolean> complete(Lease lease, Completion completion) {
      return delegate.complete(lease, completion);
    }

    @Override
    public Mono<Boolean> release(Lease lease) {
      return delegate.release(lease);
    }

    @Override
    public Mono<Boolean> extend(Lease lease, Duration ttl) {
      return delegate.extend(lease, ttl);
    }

    @Override
    public Mono<OutcomeRecord> find(String namespace, String key) {
      return delegate.find(namespace, key);
    }
  }

  /** The handler of "orders", an in-memory queue and dead letters qualified "orders". */
  @Configuration(proxyBeanMethods = false)
  static class OrdersApp {
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();

    @Bean
    PipelineHandler<Order, Receipt> orders() {
      return msg -> {
        calls.computeIfAbsent(msg.payload().id(), k -> new AtomicInteger()).incrementAndGet();
        if (msg.payload().amount() < 0) {
          return Mono.error(new IllegalStateException("negative amount"));
        }
        if (msg.payload().amount() == 0) {
          return Mono.error(new NonRetryableException("zero amount"));
        }
        int now = running.incrementAndGet();
        maxRunning.accumulateAndGet(now, Math::max);
        return Mono.delay(Duration.ofMillis(5))
            .doOnTerminate(running::decrementAndGet)
            .thenReturn(new Receipt(msg.payload().id(), msg.payload().amount()));
      };
    }

    @Bean
    @Qualifier("orders")
    InMemorySource ordersQueue() {
      return InMemorySource.create("orders");
    }

    @Bean
    @Qualifier("orders")
    InMemoryDeadLetters ordersDeadLetters() {
      return InMemoryDeadLetters.create();
    }

    @Bean
    RecordingStore store() {
      return new RecordingStore();
    }
  }

  /** A handler of raw text named "orders", declared with its types. */
  @Configuration(proxyBeanMethods = false)
  static class TextApp {
    @Bean
    PipelineHandler<String, Void> orders() {
      return msg -> Mono.empty();
    }
  }

  private static Envelope.Builder order(String id, int amount, String entityKey) {
    return Envelope.builder()
        .messageId(id)
        .entityKey(entityKey)
        .payload(
            ("{\"id\":\"" + id + "\",\"amount\":" + amount + "}").getBytes(StandardCharsets.UTF_8));
  }

  private static void startAndAwait(AssertableApplicationContext ctx, long deliveries) {
    ctx.getBean(OnceflowLifecycle.class).start();
    PipelineRegistry registry = ctx.getBean(PipelineRegistry.class);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      var l = registry.pipeline("orders").ledger();
      if (l.delivered() >= deliveries && l.inFlight() == 0) {
        return;
      }
      Mono.delay(Duration.ofMillis(20)).block();
    }
    throw new AssertionError("not settled: " + registry.pipeline("orders").ledger());
  }

  private static void stop(AssertableApplicationContext ctx) {
    Mono.<Void>create(s -> ctx.getBean(OnceflowLifecycle.class).stop(s::success))
        .block(Duration.ofSeconds(30));
  }

  @Test
  void withoutRedisTheStoreIsInMemoryWithAWarning(CapturedOutput output) {
    runner.run(
        ctx -> {
          assertThat(ctx).hasNotFailed();
          assertThat(ctx.getBean(IdempotencyStore.class))
              .isInstanceOf(InMemoryIdempotencyStore.class);
          assertThat(output).contains("idempotency store is in memory: it is per process");
        });
  }

  @Test
  void aPipelineIsBuiltFromPropertiesAndItsHandlerBeanWithJsonPayloadsAndCachedResults() {
    runner
        .withUserConfiguration(OrdersApp.class)
        .withPropertyValues(
            "onceflow.pipelines.orders.lease=7s",
            "onceflow.pipelines.orders.retention=2h",
            "onceflow.pipelines.orders.retries=2",
            "onceflow.pipelines.orders.retry-backoff=1ms",
            "onceflow.pipelines.orders.concurrency=3",
            "onceflow.pipelines.orders.fingerprint=true")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              OrdersApp app = ctx.getBean(OrdersApp.class);
              InMemorySource queue = ctx.getBean(InMemorySource.class);
              for (int i = 0; i < 30; i++) {
                queue.publish(order("o-" + i, i + 1, "k-" + i));
              }
              queue.publish(order("o-1", 2, "k-1")); // a duplicate
              queue.publish(order("bad", -1, "k-bad")); // fails, retried twice
              queue.publish(order("zero", 0, "k-zero")); // non-retryable
              startAndAwait(ctx, 33);
              var ledger = ctx.getBean(OnceflowPipelines.class).pipeline("orders").ledger();
              assertThat(ledger.processed()).isEqualTo(30);
              assertThat(ledger.duplicates()).isEqualTo(1);
              assertThat(ledger.deadLettered()).isEqualTo(2);
              assertThat(app.calls.get("o-1")).hasValue(1);
              assertThat(app.calls.get("bad")).hasValue(3); // retries=2: three attempts
              assertThat(app.calls.get("zero")).hasValue(1);
              assertThat(app.maxRunning.get()).isLessThanOrEqualTo(3).isGreaterThan(1);
              assertThat(ctx.getBean(InMemoryDeadLetters.class).deadLetters()).hasSize(2);
              assertThat(ctx.getBean(OnceflowPipelines.class).deadLetters("orders").total())
                  .isEqualTo(2);
              assertThat(
                      ctx.getBean(OnceflowPipelines.class).deadLetters("orders").lastHourByReason())
                  .containsEntry("HANDLER_FAILED", 1L)
                  .containsEntry("NON_RETRYABLE", 1L);
              RecordingStore store = ctx.getBean(RecordingStore.class);
              AcquireRequest first = store.requests.get(0);
              assertThat(first.namespace()).isEqualTo("orders");
              assertThat(first.leaseTtl()).isEqualTo(Duration.ofSeconds(7));
              assertThat(first.retention()).isEqualTo(Duration.ofHours(2));
              assertThat(first.fingerprint()).isNotNull();
              OutcomeRecord rec = store.find("orders", "o-5").block();
              assertThat(new String(rec.result(), StandardCharsets.UTF_8))
                  .isEqualTo("{\"order\":\"o-5\",\"charged\":6}");
              stop(ctx);
              assertThat(ctx.getBean(OnceflowPipelines.class).pipeline("orders").state().status())
                  .isEqualTo(PipelineState.Status.STOPPED);
            });
  }

  @Test
  void defaultsAreNoFingerprintAndThreeRetriesAndTheLifecycleRunsInTheGracefulShutdownPhase() {
    runner
        .withUserConfiguration(OrdersApp.class)
        .withPropertyValues("onceflow.pipelines.orders.retry-backoff=1ms")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              InMemorySource queue = ctx.getBean(InMemorySource.class);
              queue.publish(order("a", 1, "k"));
              queue.publish(order("bad", -1, "k2"));
              startAndAwait(ctx, 2);
              RecordingStore store = ctx.getBean(RecordingStore.class);
              assertThat(store.requests.get(0).fingerprint()).isNull();
              assertThat(store.requests.get(0).leaseTtl()).isEqualTo(Duration.ofSeconds(30));
              assertThat(store.requests.get(0).retention()).isEqualTo(Duration.ofDays(7));
              assertThat(ctx.getBean(OrdersApp.class).calls.get("bad")).hasValue(4);
              OnceflowLifecycle lifecycle = ctx.getBean(OnceflowLifecycle.class);
              assertThat(lifecycle.getPhase())
                  .isEqualTo(
                      org.springframework.boot.web.server.context.WebServerApplicationContext
                          .GRACEFUL_SHUTDOWN_PHASE);
              assertThat(lifecycle.isRunning()).isTrue();
              stop(ctx);
              assertThat(lifecycle.isRunning()).isFalse();
            });
  }

  @Test
  void orderedByKeyHandlesOneKeyAtATime() {
    runner
        .withUserConfiguration(OrdersApp.class)
        .withPropertyValues(
            "onceflow.pipelines.orders.ordered-by-key=true",
            "onceflow.pipelines.orders.concurrency=8")
        .run(
            ctx -> {
              InMemorySource queue = ctx.getBean(InMemorySource.class);
              for (int i = 0; i < 20; i++) {
                queue.publish(order("same-key-" + i, 1, "one-entity"));
              }
              startAndAwait(ctx, 20);
              assertThat(ctx.getBean(OrdersApp.class).maxRunning.get()).isEqualTo(1);
              stop(ctx);
            });
  }

  @Test
  void autoStartupFalseLeavesThePipelineStopped() {
    runner
        .withUserConfiguration(OrdersApp.class)
        .withPropertyValues("onceflow.pipelines.orders.auto-startup=false")
        .run(
            ctx -> {
              ctx.getBean(OnceflowLifecycle.class).start();
              assertThat(ctx.getBean(OnceflowPipelines.class).pipeline("orders").running())
                  .isFalse();
            });
  }

  @Test
  void aCustomizerSeesEveryPipelineAfterTheProperties() {
    List<String> seen = new CopyOnWriteArrayList<>();
    runner
        .withUserConfiguration(OrdersApp.class)
        .withBean(PipelineCustomizer.class, () -> (name, builder) -> seen.add(name))
        .withPropertyValues("onceflow.pipelines.orders.concurrency=4")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(seen).containsExactly("orders");
            });
  }

  @Test
  void kafkaPipelinesGetAKafkaSource() {
    runner
        .withUserConfiguration(TextApp.class)
        .withPropertyValues(
            "onceflow.pipelines.orders.broker=kafka",
            "onceflow.pipelines.orders.destination=orders",
            "onceflow.kafka.bootstrap-servers=127.0.0.1:1",
            "onceflow.pipelines.orders.auto-startup=false")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              ManagedPipeline m = ctx.getBean(PipelineRegistry.class).managed().get("orders");
              assertThat(m.resources()).isNotEmpty();
              assertThat(m.pipeline().name()).isEqualTo("orders");
            });
    assertThat(BrokerKind.KAFKA).isNotNull();
  }

  @Test
  void rabbitAndSqsPipelinesGetTheirBrokersSourcesAndDeadLetters() {
    runner
        .withUserConfiguration(TextApp.class)
        .withPropertyValues(
            "onceflow.pipelines.orders.broker=rabbitmq",
            "onceflow.pipelines.orders.destination=orders",
            "onceflow.pipelines.orders.id-header=x-id",
            "onceflow.pipelines.orders.auto-startup=false",
            "onceflow.rabbitmq.uri=amqp://guest:guest@127.0.0.1:5672")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              ManagedPipeline m = ctx.getBean(PipelineRegistry.class).managed().get("orders");
              assertThat(m.resources())
                  .anyMatch(r -> r instanceof dev.onceflow.rabbitmq.RabbitDeadLetter);
            });
    runner
        .withUserConfiguration(TextApp.class)
        .withPropertyValues(
            "onceflow.pipelines.orders.broker=sqs",
            "onceflow.pipelines.orders.destination=http://127.0.0.1:1/000000000000/orders",
            "onceflow.pipelines.orders.dead-letter=http://127.0.0.1:1/000000000000/orders-dlq",
            "onceflow.pipelines.orders.auto-startup=false",
            "onceflow.sqs.region=eu-west-1",
            "onceflow.sqs.endpoint=http://127.0.0.1:1")
        .withSystemProperties("aws.accessKeyId=test", "aws.secretAccessKey=test")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              ManagedPipeline m = ctx.getBean(PipelineRegistry.class).managed().get("orders");
              assertThat(m.pipeline().name()).isEqualTo("orders");
            });
  }

  @Test
  void aBadRabbitUriFailsWithoutPrintingThePassword() {
    assertFailure(
        runner
            .withUserConfiguration(TextApp.class)
            .withPropertyValues(
                "onceflow.pipelines.orders.broker=rabbitmq",
                "onceflow.pipelines.orders.destination=orders",
                "onceflow.rabbitmq.uri=http://guest:secret@host"),
        "onceflow.rabbitmq.uri",
        "http://guest:****@host");
  }

  @Test
  void aBadVisibilityTimeoutFails() {
    assertFailure(
        runner
            .withUserConfiguration(TextApp.class)
            .withPropertyValues(
                "onceflow.pipelines.orders.broker=sqs",
                "onceflow.pipelines.orders.destination=http://127.0.0.1:1/0/orders",
                "onceflow.sqs.region=eu-west-1",
                "onceflow.sqs.visibility-timeout=13h")
            .withSystemProperties("aws.accessKeyId=test", "aws.secretAccessKey=test"),
        "onceflow.sqs.visibility-timeout",
        "'PT13H'");
  }

  @Test
  void anExplicitDeadLetterAndGroupAreUsed() {
    runner
        .withUserConfiguration(TextApp.class)
        .withPropertyValues(
            "onceflow.pipelines.orders.broker=kafka",
            "onceflow.pipelines.orders.destination=orders",
            "onceflow.pipelines.orders.dead-letter=orders.failed",
            "onceflow.pipelines.orders.group=billing",
            "onceflow.pipelines.orders.auto-startup=false")
        .run(
            ctx -> {
              ManagedPipeline m = ctx.getBean(PipelineRegistry.class).managed().get("orders");
              assertThat(m.resources())
                  .anySatisfy(
                      r ->
                          assertThat(((dev.onceflow.kafka.KafkaDeadLetter) r).topic())
                              .isEqualTo("orders.failed"));
              assertThat(m.properties().getGroup()).isEqualTo("billing");
            });
  }

  @Test
  void withoutWebFluxMicrometerAndTheOtherBrokersTheStarterStillStarts() {
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                OnceflowAutoConfiguration.class,
                dev.onceflow.spring.boot.web.OnceflowWebFluxAutoConfiguration.class,
                dev.onceflow.spring.boot.actuate.OnceflowHealthAutoConfiguration.class,
                dev.onceflow.spring.boot.actuate.OnceflowEndpointAutoConfiguration.class))
        .withClassLoader(new FilteredClassLoader(OnceflowAutoConfigurationTest::absent))
        .withUserConfiguration(OrdersApp.class)
        .withPropertyValues("onceflow.pipelines.orders.concurrency=2")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed().hasSingleBean(OnceflowPipelines.class);
              assertThat(ctx)
                  .doesNotHaveBean(dev.onceflow.spring.boot.web.IdempotencyKeyWebFilter.class)
                  .doesNotHaveBean("onceflowMetricsCustomizer")
                  .doesNotHaveBean("onceflowRabbitBinding")
                  .doesNotHaveBean("onceflowSqsBinding")
                  .hasBean("onceflowKafkaBinding");
            });
  }

  /**
   * Classes and their .class resources of optional modules, as if they were not there. (Actuator
   * cannot be hidden this way: the auto-configurations are registered here as classes, so their
   * annotations resolve from the test's own class path; they follow Spring Boot's pattern for it,
   * {@code @ConditionalOnClass} of the conditions' own annotations.)
   */
  private static boolean absent(String classOrResource) {
    String name = classOrResource.replace('/', '.');
    return List.of(
            "org.springframework.web.",
            "io.micrometer.core.",
            "dev.onceflow.rabbitmq.",
            "dev.onceflow.sqs.",
            "software.amazon.")
        .stream()
        .anyMatch(name::startsWith);
  }

  @Test
  void theHealthContributorAndTheEndpointComeWithActuator() {
    ApplicationContextRunner actuator =
        new ApplicationContextRunner()
            .withConfiguration(
                AutoConfigurations.of(
                    OnceflowAutoConfiguration.class,
                    dev.onceflow.spring.boot.actuate.OnceflowHealthAutoConfiguration.class,
                    dev.onceflow.spring.boot.actuate.OnceflowEndpointAutoConfiguration.class))
            .withUserConfiguration(OrdersApp.class)
            .withPropertyValues("onceflow.pipelines.orders.concurrency=2");
    actuator
        .withPropertyValues("management.endpoints.web.exposure.include=onceflow")
        .run(
            ctx -> {
              assertThat(ctx).hasBean("onceflowHealthContributor");
              var report =
                  ctx.getBean(dev.onceflow.spring.boot.actuate.OnceflowEndpoint.class).report();
              assertThat(report.pipelines()).containsOnlyKeys("orders");
              assertThat(report.store()).isEqualTo(RecordingStore.class.getName());
            });
    actuator
        .withPropertyValues("management.health.onceflow.enabled=false")
        .run(
            ctx ->
                assertThat(ctx)
                    .doesNotHaveBean("onceflowHealthContributor")
                    .doesNotHaveBean(dev.onceflow.spring.boot.actuate.OnceflowEndpoint.class));
  }

  /** A handler that never finishes, over an in-memory queue. */
  @Configuration(proxyBeanMethods = false)
  static class HangingApp {
    final AtomicInteger started = new AtomicInteger();

    @Bean
    PipelineHandler<Order, Void> orders() {
      return msg -> Mono.<Void>never().doOnSubscribe(s -> started.incrementAndGet());
    }

    @Bean
    @Qualifier("orders")
    InMemorySource ordersQueue() {
      return InMemorySource.create("orders");
    }

    @Bean
    @Qualifier("orders")
    InMemoryDeadLetters ordersDeadLetters() {
      return InMemoryDeadLetters.create();
    }
  }

  @Test
  void theShutdownTimeoutBoundsTheGracefulStopAndWhatDidNotFinishIsLeftToTheBroker() {
    runner
        .withUserConfiguration(HangingApp.class)
        .withPropertyValues(
            "onceflow.pipelines.orders.concurrency=1", "onceflow.shutdown-timeout=400ms")
        .run(
            ctx -> {
              ctx.getBean(InMemorySource.class).publish(order("slow", 1, "k"));
              HangingApp app = ctx.getBean(HangingApp.class);
              long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
              while (app.started.get() == 0 && System.nanoTime() < deadline) {
                Mono.delay(Duration.ofMillis(10)).block();
              }
              assertThat(app.started).hasValue(1);
              long t0 = System.nanoTime();
              stop(ctx);
              Duration took = Duration.ofNanos(System.nanoTime() - t0);
              assertThat(took).isBetween(Duration.ofMillis(380), Duration.ofSeconds(10));
              var ledger = ctx.getBean(OnceflowPipelines.class).pipeline("orders").ledger();
              assertThat(ledger.nacked()).isEqualTo(1);
              assertThat(ledger.processed()).isZero();
            });
  }

  @Test
  void aBadRabbitPrefetchFails() {
    assertFailure(
        runner
            .withUserConfiguration(TextApp.class)
            .withPropertyValues(
                "onceflow.pipelines.orders.broker=rabbitmq",
                "onceflow.pipelines.orders.destination=orders",
                "onceflow.rabbitmq.prefetch=0"),
        "onceflow.rabbitmq.prefetch",
        "'0'");
  }

  // ------------------------------------------------------------------ failures

  private void assertFailure(
      ApplicationContextRunner r, String property, String value, String... more) {
    r.run(
        ctx -> {
          assertThat(ctx).hasFailed();
          Throwable failure = ctx.getStartupFailure();
          FailureAnalysis analysis = new OnceflowFailureAnalyzer().analyze(failure);
          assertThat(analysis).as("analysis of %s", failure).isNotNull();
          assertThat(analysis.getDescription()).contains(property).contains(value);
          for (String m : more) {
            assertThat(analysis.getDescription()).contains(m);
          }
          assertThat(analysis.getAction()).isNotBlank();
        });
  }

  @Test
  void aPipelineWithoutHandlerFailsNamingThePipelineAndTheBeanToDeclare() {
    assertFailure(
        runner.withPropertyValues(
            "onceflow.pipelines.orders.broker=kafka", "onceflow.pipelines.orders.destination=o"),
        "onceflow.pipelines.orders",
        "'orders'",
        "needs a handler");
  }

  @Test
  void aHandlerBeanWithoutPipelineFailsNamingTheProperty() {
    assertFailure(
        runner
            .withUserConfiguration(OrdersApp.class)
            .withBean(
                "ordres",
                PipelineHandler.class,
                () -> (PipelineHandler<String, Void>) m -> Mono.empty()),
        "onceflow.pipelines.ordres.broker",
        "not set",
        "PipelineHandler bean 'ordres'");
  }

  @Test
  void aHandlerWithoutDeclaredPayloadTypeFails() {
    assertFailure(
        runner
            .withBean("orders", PipelineHandler.class, () -> m -> Mono.empty())
            .withPropertyValues(
                "onceflow.pipelines.orders.broker=kafka",
                "onceflow.pipelines.orders.destination=o"),
        "onceflow.pipelines.orders",
        "'orders'",
        "payload type");
  }

  @Test
  void aMissingBrokerFails() {
    assertFailure(
        runner
            .withUserConfiguration(TextApp.class)
            .withPropertyValues("onceflow.pipelines.orders.destination=o"),
        "onceflow.pipelines.orders.broker",
        "not set",
        "kafka, rabbitmq or sqs");
  }

  @Test
  void aBrokerWhoseModuleIsMissingFailsNamingTheModule() {
    assertFailure(
        runner
            .withClassLoader(new FilteredClassLoader(KafkaSource.class))
            .withUserConfiguration(TextApp.class)
            .withPropertyValues(
                "onceflow.pipelines.orders.broker=kafka",
                "onceflow.pipelines.orders.destination=o"),
        "onceflow.pipelines.orders.broker",
        "'kafka'",
        "dev.onceflow:onceflow-kafka");
  }

  @Test
  void aMissingDestinationFails() {
    assertFailure(
        runner
            .withUserConfiguration(TextApp.class)
            .withPropertyValues("onceflow.pipelines.orders.broker=kafka"),
        "onceflow.pipelines.orders.destination",
        "not set");
  }

  @Test
  void aBadConcurrencyFails() {
    assertFailure(
        runner
            .withUserConfiguration(OrdersApp.class)
            .withPropertyValues("onceflow.pipelines.orders.concurrency=0"),
        "onceflow.pipelines.orders.concurrency",
        "'0'",
        "between 1 and 10000");
  }

  @Test
  void aBadLeaseFails() {
    assertFailure(
        runner
            .withUserConfiguration(OrdersApp.class)
            .withPropertyValues("onceflow.pipelines.orders.lease=0s"),
        "onceflow.pipelines.orders.lease",
        "'PT0S'",
        "must be positive");
  }

  @Test
  void aRetentionShorterThanTheLeaseFails() {
    assertFailure(
        runner
            .withUserConfiguration(OrdersApp.class)
            .withPropertyValues(
                "onceflow.pipelines.orders.lease=1m", "onceflow.pipelines.orders.retention=30s"),
        "onceflow.pipelines.orders.retention",
        "'PT30S'",
        "at least the lease");
  }

  @Test
  void negativeRetriesFail() {
    assertFailure(
        runner
            .withUserConfiguration(OrdersApp.class)
            .withPropertyValues("onceflow.pipelines.orders.retries=-1"),
        "onceflow.pipelines.orders.retries",
        "'-1'");
  }

  @Test
  void aBadRetryBackoffFails() {
    assertFailure(
        runner
            .withUserConfiguration(OrdersApp.class)
            .withPropertyValues("onceflow.pipelines.orders.retry-backoff=-1s"),
        "onceflow.pipelines.orders.retry-backoff",
        "'PT-1S'");
  }

  @Test
  void aBadPipelineNameFails() {
    assertFailure(
        runner
            .withBean(
                "ord ers",
                PipelineHandler.class,
                () -> (PipelineHandler<String, Void>) m -> Mono.empty())
            .withPropertyValues("onceflow.pipelines[ord ers].broker=kafka"),
        "onceflow.pipelines.ord ers",
        "'ord ers'",
        "letters, digits");
  }

  @Test
  void aBadKafkaBootstrapServersFails() {
    assertFailure(
        runner
            .withUserConfiguration(TextApp.class)
            .withPropertyValues(
                "onceflow.pipelines.orders.broker=kafka",
                "onceflow.pipelines.orders.destination=orders",
                "onceflow.kafka.bootstrap-servers= "),
        "onceflow.kafka.bootstrap-servers",
        "must not be blank");
  }

  @Test
  void aBadRedisUriFailsWithoutPrintingThePassword() {
    assertFailure(
        runner.withPropertyValues("onceflow.store.redis.uri=redis://:secret@"),
        "onceflow.store.redis.uri",
        "redis://:****@");
    runner
        .withPropertyValues("onceflow.store.redis.uri=redis://:secret@")
        .run(ctx -> assertThat(ctx.getStartupFailure()).hasStackTraceContaining("****"));
  }

  @Test
  void anUnreachableRedisFailsNamingTheAddress() {
    assertFailure(
        runner.withPropertyValues(
            "onceflow.store.redis.uri=redis://127.0.0.1:1",
            "onceflow.store.redis.connect-timeout=1s"),
        "onceflow.store.redis.uri",
        "'redis://127.0.0.1:1'",
        "must name a Redis that answers");
  }

  @Test
  void twoRedisTopologiesFail() {
    assertFailure(
        runner.withPropertyValues(
            "onceflow.store.redis.uri=redis://127.0.0.1:6379",
            "onceflow.store.redis.cluster=redis://127.0.0.1:7000"),
        "onceflow.store.redis.cluster",
        "cannot be combined with onceflow.store.redis.uri");
  }

  @Test
  void sentinelNodesWithoutMasterFail() {
    assertFailure(
        runner.withPropertyValues("onceflow.store.redis.sentinel.nodes=127.0.0.1:26379"),
        "onceflow.store.redis.sentinel.master",
        "not set");
  }

  @Test
  void aUsernameWithoutPasswordFails() {
    assertFailure(
        runner.withPropertyValues(
            "onceflow.store.redis.uri=redis://127.0.0.1:6379", "onceflow.store.redis.username=app"),
        "onceflow.store.redis.username",
        "'app'",
        "password");
  }

  @Test
  void aKeyPrefixWithBracesFails() {
    assertFailure(
        runner.withPropertyValues(
            "onceflow.store.redis.uri=redis://127.0.0.1:6379",
            "onceflow.store.redis.key-prefix=a{b}"),
        "onceflow.store.redis.key-prefix",
        "'a{b}'");
  }

  @Test
  void anUnknownBrokerValueFailsInSpringsBindingNamingPropertyAndValue() {
    runner
        .withUserConfiguration(OrdersApp.class)
        .withPropertyValues("onceflow.pipelines.orders.broker=kafak")
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              assertThat(ctx.getStartupFailure())
                  .hasStackTraceContaining("onceflow.pipelines.orders.broker")
                  .hasStackTraceContaining("kafak");
            });
  }
}
