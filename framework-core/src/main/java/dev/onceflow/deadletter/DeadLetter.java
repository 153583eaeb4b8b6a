package dev.onceflow.deadletter;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A message that failed for good, with why and where it came from.
 *
 * @param envelope the original message: payload, headers and origin
 * @param reason why it was dead-lettered
 * @param exceptionClass the class of the last error, or null (MISSING_ID, KEY_REUSED)
 * @param exceptionMessage the message of the last error, or null
 * @param attempts how many times the handler ran (0 when it never ran)
 * @param firstFailure when the first failure happened
 * @param lastFailure when the last failure happened
 * @param pipeline the name of the pipeline that dead-lettered it
 * @param dedupKey the deduplication key, or null when there was none (MISSING_ID)
 */
public record DeadLetter(
    Envelope envelope,
    DeadLetterReason reason,
    @Nullable String exceptionClass,
    @Nullable String exceptionMessage,
    int attempts,
    Instant firstFailure,
    Instant lastFailure,
    String pipeline,
    @Nullable String dedupKey) {

  public static final String REASON = "onceflow-dlq-reason";
  public static final String EXCEPTION_CLASS = "onceflow-dlq-exception";
  public static final String EXCEPTION_MESSAGE = "onceflow-dlq-message";
  public static final String ATTEMPTS = "onceflow-dlq-attempts";
  public static final String FIRST_FAILURE = "onceflow-dlq-first-failure";
  public static final String LAST_FAILURE = "onceflow-dlq-last-failure";
  public static final String PIPELINE = "onceflow-dlq-pipeline";
  public static final String DEDUP_KEY = "onceflow-dlq-key";
  public static final String ORIGIN = "onceflow-dlq-origin";
  public static final String ORIGIN_DESTINATION = "onceflow-dlq-origin-destination";
  public static final String ORIGIN_PARTITION = "onceflow-dlq-origin-partition";
  public static final String ORIGIN_OFFSET = "onceflow-dlq-origin-offset";
  public static final String ORIGIN_MESSAGE_ID = "onceflow-dlq-origin-message-id";

  /** Exception messages are cut to this many characters in headers. */
  public static final int MAX_EXCEPTION_MESSAGE = 1000;

  public DeadLetter {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(firstFailure, "firstFailure");
    Objects.requireNonNull(lastFailure, "lastFailure");
    Objects.requireNonNull(pipeline, "pipeline");
  }

  /** The dead-letter metadata alone, as string headers (absent values left out). */
  public Map<String, String> metadataHeaders() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put(REASON, reason.name());
    if (exceptionClass != null) {
      h.put(EXCEPTION_CLASS, exceptionClass);
    }
    if (exceptionMessage != null) {
      h.put(
          EXCEPTION_MESSAGE,
          exceptionMessage.length() <= MAX_EXCEPTION_MESSAGE
              ? exceptionMessage
              : exceptionMessage.substring(0, MAX_EXCEPTION_MESSAGE));
    }
    h.put(ATTEMPTS, Integer.toString(attempts));
    h.put(FIRST_FAILURE, firstFailure.toString());
    h.put(LAST_FAILURE, lastFailure.toString());
    h.put(PIPELINE, pipeline);
    if (dedupKey != null) {
      h.put(DEDUP_KEY, dedupKey);
    }
    Origin o = envelope.origin();
    h.put(ORIGIN, o.describe());
    h.put(ORIGIN_DESTINATION, o.destination());
    if (o.partition() >= 0) {
      h.put(ORIGIN_PARTITION, Integer.toString(o.partition()));
    }
    if (o.offset() >= 0) {
      h.put(ORIGIN_OFFSET, Long.toString(o.offset()));
    }
    if (o.brokerMessageId() != null) {
      h.put(ORIGIN_MESSAGE_ID, o.brokerMessageId());
    }
    return h;
  }

  /**
   * Everything a dead-letter message carries as headers: the original message's headers and
   * convention headers, then the dead-letter metadata.
   */
  public Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>(HeaderConvention.toHeaders(envelope));
    h.putAll(metadataHeaders());
    return h;
  }
}
