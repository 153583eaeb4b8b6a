package dev.onceflow.internal;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/** What the pipeline reports; a no-op unless a Micrometer registry was given. */
interface Metrics {
  /** outcome: processed, duplicate, dead_lettered, nacked; reason: a reason code or "none". */
  void outcome(String outcome, String reason);

  void handler(long nanos, boolean success);

  void store(String operation, long nanos, boolean success);

  void leaseLost();

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
      };

  static Metrics create(
      @Nullable Object registry,
      String pipeline,
      LongSupplier inFlight,
      @Nullable CircuitBreaker breaker) {
    return registry == null
        ? NOOP
        : MicrometerMetrics.create(registry, pipeline, inFlight, breaker);
  }
}
