package dev.onceflow.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.store.EffectRejectedException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetriesTest {

  @Test
  void backoffDoublesUpToTheCapWithoutJitter() {
    Retries r =
        Retries.exponential(10, Duration.ofMillis(100))
            .jitter(0)
            .maxBackoff(Duration.ofMillis(500));
    assertThat(r.backoff(2, 0.3)).isEqualTo(Duration.ofMillis(100));
    assertThat(r.backoff(3, 0.3)).isEqualTo(Duration.ofMillis(200));
    assertThat(r.backoff(4, 0.3)).isEqualTo(Duration.ofMillis(400));
    assertThat(r.backoff(5, 0.3)).isEqualTo(Duration.ofMillis(500));
    assertThat(r.backoff(60, 0.3)).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void jitterSpreadsAroundTheExponentialValue() {
    Retries r = Retries.exponential(5, Duration.ofMillis(1000)).jitter(0.5);
    assertThat(r.backoff(2, 0.0)).isEqualTo(Duration.ofMillis(500));
    assertThat(r.backoff(2, 0.999)).isBetween(Duration.ofMillis(1490), Duration.ofMillis(1500));
  }

  @Test
  void classificationKeepsNonRetryableErrorsOut() {
    Retries r =
        Retries.exponential(3, Duration.ofMillis(1))
            .retryOn(t -> !(t instanceof IllegalArgumentException));
    assertThat(r.isRetryable(new IllegalStateException())).isTrue();
    assertThat(r.isRetryable(new IllegalArgumentException())).isFalse();
    assertThat(r.isRetryable(new NonRetryableException("x"))).isFalse();
    assertThat(r.isRetryable(new EffectRejectedException("x"))).isFalse();
  }
}
