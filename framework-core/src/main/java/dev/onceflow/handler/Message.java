package dev.onceflow.handler;

import dev.onceflow.core.Envelope;
import java.util.Objects;

/**
 * What a handler receives: the decoded payload, the envelope, and the lease's deduplication key and
 * fence.
 *
 * <p>For exactly-once effects on a sink outside the store, pass {@link #key()} as the sink's
 * idempotency key (unique constraint, upsert, HTTP Idempotency-Key) and guard writes with {@link
 * #fence()} ("apply only if fence &gt; last fence").
 *
 * @param payload the decoded payload
 * @param envelope the message as it came from the broker
 * @param key the deduplication key (the message id by default)
 * @param fence the lease's fencing number: grows each time the key changes hands; 0 when
 *     deduplication is off
 * @param attempt the handler attempt, from 1
 */
public record Message<T>(T payload, Envelope envelope, String key, long fence, int attempt) {
  public Message {
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(key, "key");
  }
}
