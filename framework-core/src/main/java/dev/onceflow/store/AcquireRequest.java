package dev.onceflow.store;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@link IdempotencyStore#acquire(AcquireRequest)} is asked.
 *
 * @param namespace the pipeline's namespace; keys of different namespaces never meet
 * @param key the deduplication key inside the namespace
 * @param owner who asks (a consumer instance id), for diagnostics; the lease token, not the owner,
 *     proves ownership
 * @param leaseTtl how long the lease lives unless extended; positive
 * @param retention how long the key's fence is kept at least, lease or no lease (the pipeline
 *     passes its record retention), so that the fence never goes backwards after a lease expired
 *     without a record
 * @param fingerprint a digest of the payload, or null to never answer CONFLICT
 * @param guard a version or sequence guard, or null for plain message-id deduplication
 * @param redrive true for a message sent back from a dead-letter destination: a key whose record is
 *     {@link RecordedOutcome#DEAD_LETTERED} is granted again (a new lease, a higher fence) instead
 *     of answering COMPLETED
 */
public record AcquireRequest(
    String namespace,
    String key,
    String owner,
    Duration leaseTtl,
    Duration retention,
    @Nullable String fingerprint,
    @Nullable Guard guard,
    boolean redrive) {

  public AcquireRequest {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(leaseTtl, "leaseTtl");
    if (leaseTtl.isZero() || leaseTtl.isNegative()) {
      throw new IllegalArgumentException("leaseTtl must be positive, but was " + leaseTtl);
    }
    Objects.requireNonNull(retention, "retention");
    if (retention.compareTo(leaseTtl) < 0) {
      throw new IllegalArgumentException(
          "retention must be at least leaseTtl (" + leaseTtl + "), but was " + retention);
    }
  }

  /** A plain request: no fingerprint, no guard, not a redrive, retention of one day. */
  public static AcquireRequest of(String namespace, String key, String owner, Duration leaseTtl) {
    Duration retention = leaseTtl.compareTo(DAY) > 0 ? leaseTtl : DAY;
    return new AcquireRequest(namespace, key, owner, leaseTtl, retention, null, null, false);
  }

  private static final Duration DAY = Duration.ofDays(1);

  public AcquireRequest withRetention(Duration retention) {
    return new AcquireRequest(
        namespace, key, owner, leaseTtl, retention, fingerprint, guard, redrive);
  }

  public AcquireRequest withFingerprint(@Nullable String fingerprint) {
    return new AcquireRequest(
        namespace, key, owner, leaseTtl, retention, fingerprint, guard, redrive);
  }

  public AcquireRequest withGuard(@Nullable Guard guard) {
    return new AcquireRequest(
        namespace, key, owner, leaseTtl, retention, fingerprint, guard, redrive);
  }

  public AcquireRequest withRedrive(boolean redrive) {
    return new AcquireRequest(
        namespace, key, owner, leaseTtl, retention, fingerprint, guard, redrive);
  }
}
