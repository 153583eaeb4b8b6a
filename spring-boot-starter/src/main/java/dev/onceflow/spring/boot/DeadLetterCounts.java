package dev.onceflow.spring.boot;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How many messages a pipeline dead-lettered.
 *
 * @param total since the application context started
 * @param lastHour within the last hour
 * @param lastHourByReason within the last hour, by dead-letter reason ({@code HANDLER_FAILED},
 *     {@code NON_RETRYABLE}, {@code DECODE_FAILED}, {@code MISSING_ID}, {@code KEY_REUSED})
 * @param last when the latest one was dead-lettered, or null when none was
 */
public record DeadLetterCounts(
    long total, long lastHour, Map<String, Long> lastHourByReason, @Nullable Instant last) {

  public DeadLetterCounts {
    lastHourByReason = Map.copyOf(Objects.requireNonNull(lastHourByReason, "lastHourByReason"));
  }
}
