package dev.onceflow.store;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A granted lease on a key. Only the holder of {@link #token()} may complete, release or extend it,
 * and only while no one else took the key over.
 *
 * @param namespace the namespace of the key
 * @param key the key
 * @param owner who asked for it
 * @param token unique per grant; proves ownership
 * @param fence grows by at least one every time the key changes hands, across lease expiry and for
 *     as long as the key's record lives; pass it to downstream writes so that a stale owner's write
 *     can be refused ("apply only if fence &gt; last fence")
 * @param expiresAt when the lease ends unless extended, on the store's clock
 * @param fingerprint the fingerprint the lease was acquired with, recorded on completion
 * @param guard the guard the lease was acquired with, recorded on completion
 */
public record Lease(
    String namespace,
    String key,
    String owner,
    String token,
    long fence,
    Instant expiresAt,
    @Nullable String fingerprint,
    @Nullable Guard guard) {

  public Lease {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  public Lease withExpiresAt(Instant expiresAt) {
    return new Lease(namespace, key, owner, token, fence, expiresAt, fingerprint, guard);
  }
}
