package dev.onceflow.memory;

import dev.onceflow.store.Guard;
import dev.onceflow.store.OutcomeRecord;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/** One key's state in the {@link InMemoryIdempotencyStore}, guarded by the store's lock. */
final class KeyState {
  long fence;
  @Nullable String token;
  @Nullable Instant leaseExpiresAt;
  @Nullable Guard leaseGuard;
  @Nullable OutcomeRecord record;
  @Nullable Instant recordExpiresAt;
  @Nullable Long guardValue;
  Instant fenceExpiresAt = Instant.MIN;
  // A contiguous guard's gap: since when later numbers wait, and the lowest waiting one.
  @Nullable Instant gapSince;

  long waitMin;
  @Nullable Instant waitMinSeen;
}
