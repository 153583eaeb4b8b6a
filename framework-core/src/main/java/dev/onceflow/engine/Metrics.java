package dev.onceflow.engine;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.jspecify.annotations.Nullable;

/** What the pipeline reports; a no-op unless a Micrometer registry was given. */
interface Metrics {
  /** outcome: processed, duplicate, dead_lettered, nacked; reason: a reason code or "none". */
  void outcome(String outcome, String reason);

  void handler(long nanos, boolean success);

  void store(String operation, long nanos, boolean success);

  void leaseLost();

  void sequenceGaps(long skipped);

  Metrics NOOP =
      new Metrics() {
        @Override
        public void outcome(String outcome, String reason) {}

        @Override
        public void handler(long nanos, boolean success) {}

        @Override
        public void store(String operation, long nanos, boolean success) {}

        @Override
        public void leaseLost() {}

        @Override
        public void sequenceGaps(long skipped) {}
      };

  /**
   * Micrometer metrics when {@code registry} is given. The in-flight gauge reads {@code ledger},
   * which the pipeline holds strongly (Micrometer holds gauge targets weakly).
   */
  static Metrics create(
      @Nullable Object registry,
      String pipeline,
      LedgerCounters ledger,
      @Nullable CircuitBreaker breaker) {
    return registry == null ? NOOP : MicrometerMetrics.create(registry, pipeline, ledger, breaker);
  }
}
