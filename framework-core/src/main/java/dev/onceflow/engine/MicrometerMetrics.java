package dev.onceflow.engine;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Micrometer metrics. Loaded only when a registry is given, so Micrometer stays optional. Names are
 * stable and documented in the README.
 */
final class MicrometerMetrics implements Metrics {
  static final String DELIVERIES = "onceflow.deliveries";
  static final String HANDLER = "onceflow.handler";
  static final String STORE = "onceflow.store";
  static final String IN_FLIGHT = "onceflow.inflight";
  static final String LEASE_LOST = "onceflow.lease.lost";
  static final String BREAKER_STATE = "onceflow.breaker.state";
  static final String SEQUENCE_GAPS = "onceflow.sequence.gaps";

  private final MeterRegistry registry;
  private final String pipeline;
  private final ConcurrentHashMap<String, Counter> outcomes = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> storeTimers = new ConcurrentHashMap<>();
  private final Timer handlerOk;
  private final Timer handlerFailed;
  private final Counter leaseLost;
  private final Counter sequenceGaps;

  private MicrometerMetrics(MeterRegistry registry, String pipeline) {
    this.registry = registry;
    this.pipeline = pipeline;
    this.handlerOk =
        Timer.builder(HANDLER)
            .tag("pipeline", pipeline)
            .tag("result", "success")
            .register(registry);
    this.handlerFailed =
        Timer.builder(HANDLER)
            .tag("pipeline", pipeline)
            .tag("result", "failure")
            .register(registry);
    this.leaseLost = Counter.builder(LEASE_LOST).tag("pipeline", pipeline).register(registry);
    this.sequenceGaps =
        Counter.builder(SEQUENCE_GAPS)
            .tag("pipeline", pipeline)
            .description("producer sequence numbers given up after their gap timed out")
            .register(registry);
  }

  static Metrics create(
      Object registry, String pipeline, LedgerCounters ledger, @Nullable CircuitBreaker breaker) {
    MeterRegistry r = (MeterRegistry) registry;
    MicrometerMetrics m = new MicrometerMetrics(r, pipeline);
    Gauge.builder(IN_FLIGHT, ledger, LedgerCounters::inFlight)
        .tag("pipeline", pipeline)
        .description("deliveries received and not yet settled")
        .register(r);
    if (breaker != null) {
      Gauge.builder(BREAKER_STATE, breaker, b -> stateCode(b.getState()))
          .tag("pipeline", pipeline)
          .tag("breaker", breaker.getName())
          .description("0 closed, 1 open, 2 half-open, 3 other")
          .register(r);
    }
    return m;
  }

  private static double stateCode(CircuitBreaker.State s) {
    return switch (s) {
      case CLOSED -> 0;
      case OPEN, FORCED_OPEN -> 1;
      case HALF_OPEN -> 2;
      default -> 3;
    };
  }

  @Override
  public void outcome(String outcome, String reason) {
    outcomes
        .computeIfAbsent(
            outcome + '|' + reason,
            k ->
                Counter.builder(DELIVERIES)
                    .tag("pipeline", pipeline)
                    .tag("outcome", outcome)
                    .tag("reason", reason)
                    .register(registry))
        .increment();
  }

  @Override
  public void handler(long nanos, boolean success) {
    (success ? handlerOk : handlerFailed).record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void store(String operation, long nanos, boolean success) {
    storeTimers
        .computeIfAbsent(
            operation + '|' + success,
            k ->
                Timer.builder(STORE)
                    .tag("pipeline", pipeline)
                    .tag("operation", operation)
                    .tag("result", success ? "success" : "error")
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void leaseLost() {
    leaseLost.increment();
  }

  @Override
  public void sequenceGaps(long skipped) {
    sequenceGaps.increment(skipped);
  }
}
