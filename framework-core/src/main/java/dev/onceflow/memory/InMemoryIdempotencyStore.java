package dev.onceflow.memory;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Guard;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.RecordedOutcome;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.UUID;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The in-memory {@link IdempotencyStore}: the embedded default and the reference implementation of
 * the store contract. Thread-safe; every operation is atomic under one lock, and lease expiry and
 * retention run on the injected {@link Clock}. It lives in one process: two processes (or two
 * machines) never see each other's keys.
 *
 * <p>Transactional effects are applied to an in-memory data set (strings, hashes, sets, streams)
 * under the same lock as the record, readable through {@link #data()}; they are all or nothing.
 *
 * <p>Memory follows the live keys: a key's state is dropped once its lease expired, its record's
 * retention ran out and its fence outlived the retention, whatever order keys were written in.
 * Expired state is swept as operations go (a few keys per operation, in expiry order).
 */
public final class InMemoryIdempotencyStore implements IdempotencyStore {

  /** Expired keys dropped per operation at most: keeps every operation O(log n) amortized. */
  private static final int SWEEP_BATCH = 64;

  private final Clock clock;
  private final Object lock = new Object();
  private final Map<Id, KeyState> keys = new HashMap<>();

  /** When each key may be dropped; stale entries (a key whose time moved on) are skipped. */
  private final PriorityQueue<Expiry> expiries =
      new PriorityQueue<>(Comparator.comparing(Expiry::at));

  private final InMemoryData data = new InMemoryData(lock);

  /** Tokens are unique per grant: a per-store random prefix and a counter (under the lock). */
  private final String tokenPrefix = UUID.randomUUID() + ":";

  private long grants;
  private volatile @Nullable RuntimeException failure;

  private InMemoryIdempotencyStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A store on the system clock. */
  public static InMemoryIdempotencyStore create() {
    return create(Clock.systemUTC());
  }

  /** A store on the given clock (for tests: a clock driven by a virtual-time scheduler). */
  public static InMemoryIdempotencyStore create(Clock clock) {
    return new InMemoryIdempotencyStore(clock);
  }

  /** The data set that transactional effects write to. */
  public InMemoryData data() {
    return data;
  }

  /** How many key states memory holds now, expired ones not yet swept included. */
  public int residentKeys() {
    synchronized (lock) {
      return keys.size();
    }
  }

  /** How many keys hold a lease, a record or a fence still within its retention. */
  public int size() {
    synchronized (lock) {
      sweep(clock.instant(), Integer.MAX_VALUE);
      return keys.size();
    }
  }

  /** Makes every operation fail with {@code failure} (an outage) until {@link #recover()}. */
  public void failWith(RuntimeException failure) {
    this.failure = Objects.requireNonNull(failure, "failure");
  }

  /** Ends an outage started by {@link #failWith(RuntimeException)}. */
  public void recover() {
    this.failure = null;
  }

  private record Expiry(Instant at, Id id) {}

  // A key of a namespace: its hash reuses the strings' cached hashes, no concatenation.
  private record Id(String namespace, String key) {}

  private <V> Mono<V> op(Supplier<@Nullable V> body) {
    return Mono.fromCallable(
        () -> {
          RuntimeException f = failure;
          if (f != null) {
            throw f;
          }
          synchronized (lock) {
            return body.get();
          }
        });
  }

  @Override
  public Mono<AcquireResult> acquire(AcquireRequest r) {
    Objects.requireNonNull(r, "request");
    return op(
        () -> {
          Instant now = clock.instant();
          sweep(now, SWEEP_BATCH);
          Id id = new Id(r.namespace(), r.key());
          KeyState s = keys.computeIfAbsent(id, x -> new KeyState());
          expire(s, now);
          AcquireResult answer = r.guard() == null ? plain(s, r, now) : guarded(s, r, now);
          if (answer instanceof AcquireResult.Acquired) {
            schedule(id, s);
          } else if (s.gapSince != null) {
            // A gap is state too: it lives for the retention, then goes like the rest.
            Instant until = now.plus(r.retention());
            if (until.isAfter(s.fenceExpiresAt)) {
              s.fenceExpiresAt = until;
              schedule(id, s);
            }
          } else if (s.fence == 0 && s.token == null && s.record == null) {
            keys.remove(id);
          }
          return answer;
        });
  }

  private AcquireResult plain(KeyState s, AcquireRequest r, Instant now) {
    if (s.token != null) {
      return new AcquireResult.InProgress(Objects.requireNonNull(s.leaseExpiresAt));
    }
    OutcomeRecord rec = s.record;
    if (rec != null) {
      if (conflicts(rec, r.fingerprint())) {
        return new AcquireResult.Conflict(rec, Objects.requireNonNull(r.fingerprint()));
      }
      if (!(r.redrive() && rec.outcome() == RecordedOutcome.DEAD_LETTERED)) {
        return new AcquireResult.Completed(rec);
      }
    }
    return grant(s, r, now, 0);
  }

  private AcquireResult guarded(KeyState s, AcquireRequest r, Instant now) {
    Guard g = Objects.requireNonNull(r.guard());
    boolean leased = s.token != null;
    OutcomeRecord rec = s.record;
    if (s.guardValue != null && g.value() <= s.guardValue) {
      boolean same = g.value() == s.guardValue;
      if (same && rec != null && !leased) {
        if (r.redrive() && rec.outcome() == RecordedOutcome.DEAD_LETTERED) {
          return grant(s, r, now, 0);
        }
        if (conflicts(rec, r.fingerprint())) {
          return new AcquireResult.Conflict(rec, Objects.requireNonNull(r.fingerprint()));
        }
      }
      return new AcquireResult.Completed(rec != null ? rec : syntheticRecord(s, now));
    }
    if (leased) {
      return new AcquireResult.InProgress(Objects.requireNonNull(s.leaseExpiresAt));
    }
    if (!g.contiguous()) {
      return grant(s, r, now, 0);
    }
    long next = s.guardValue == null ? g.first() : s.guardValue + 1;
    if (g.value() < next) {
      // Below the first number of a producer the store has no state of: nothing to run.
      return new AcquireResult.Completed(syntheticRecord(s, now));
    }
    if (g.value() == next) {
      return grant(s, r, now, 0);
    }
    return gap(s, r, g, next, now);
  }

  /** A number beyond the next one: it waits, unless the gap outlived its timeout. */
  private AcquireResult gap(KeyState s, AcquireRequest r, Guard g, long next, Instant now) {
    Duration timeout = g.gapTimeout();
    if (timeout == null) {
      return new AcquireResult.InProgress(now);
    }
    if (s.gapSince == null) {
      s.gapSince = now;
    }
    // The lowest number waiting is the one to grant once the gap times out; a lowest number that
    // stopped coming back (dead-lettered by the broker itself) gives way after another timeout.
    if (s.waitMinSeen == null
        || g.value() < s.waitMin
        || !now.isBefore(s.waitMinSeen.plus(timeout))) {
      s.waitMin = g.value();
    }
    if (g.value() == s.waitMin) {
      s.waitMinSeen = now;
    }
    Instant skipAt = s.gapSince.plus(timeout);
    if (!now.isBefore(skipAt) && g.value() == s.waitMin) {
      return grant(s, r, now, g.value() - next);
    }
    return new AcquireResult.InProgress(now.isBefore(skipAt) ? skipAt : now);
  }

  private static OutcomeRecord syntheticRecord(KeyState s, Instant now) {
    return new OutcomeRecord(RecordedOutcome.PROCESSED, null, now, s.fence, null, s.guardValue);
  }

  private static boolean conflicts(OutcomeRecord rec, @Nullable String fingerprint) {
    return fingerprint != null
        && rec.fingerprint() != null
        && !fingerprint.equals(rec.fingerprint());
  }

  private AcquireResult grant(KeyState s, AcquireRequest r, Instant now, long skipped) {
    s.fence++;
    s.token = tokenPrefix + Long.toString(++grants, 36);
    s.leaseExpiresAt = now.plus(r.leaseTtl());
    s.leaseGuard = r.guard();
    Instant fenceUntil = now.plus(r.retention()).plus(r.leaseTtl());
    if (fenceUntil.isAfter(s.fenceExpiresAt)) {
      s.fenceExpiresAt = fenceUntil;
    }
    return new AcquireResult.Acquired(lease(s, r), skipped);
  }

  private static Lease lease(KeyState s, AcquireRequest r) {
    return new Lease(
        r.namespace(),
        r.key(),
        r.owner(),
        Objects.requireNonNull(s.token),
        s.fence,
        Objects.requireNonNull(s.leaseExpiresAt),
        r.fingerprint(),
        r.guard());
  }

  /** Ends an expired lease; drops an expired record (the fence lives on while the state does). */
  private static void expire(KeyState s, Instant now) {
    if (s.token != null && !now.isBefore(Objects.requireNonNull(s.leaseExpiresAt))) {
      s.token = null;
      s.leaseExpiresAt = null;
      s.leaseGuard = null;
    }
    if (s.record != null && !now.isBefore(Objects.requireNonNull(s.recordExpiresAt))) {
      s.record = null;
      s.recordExpiresAt = null;
      s.guardValue = null;
    }
  }

  private void schedule(Id id, KeyState s) {
    expiries.add(new Expiry(s.fenceExpiresAt, id));
  }

  /** Drops up to {@code budget} keys whose time has come, earliest first. */
  private void sweep(Instant now, int budget) {
    int dropped = 0;
    Expiry next;
    while (dropped < budget && (next = expiries.peek()) != null && !now.isBefore(next.at())) {
      expiries.poll();
      KeyState s = keys.get(next.id());
      if (s == null) {
        continue;
      }
      expire(s, now);
      if (s.token == null && s.record == null && !now.isBefore(s.fenceExpiresAt)) {
        keys.remove(next.id());
        dropped++;
      }
    }
  }

  private @Nullable KeyState current(Lease lease, Instant now) {
    KeyState s = keys.get(new Id(lease.namespace(), lease.key()));
    if (s == null) {
      return null;
    }
    expire(s, now);
    return lease.token().equals(s.token) ? s : null;
  }

  @Override
  public Mono<Boolean> complete(Lease lease, Completion c) {
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(c, "completion");
    return op(
        () -> {
          Instant now = clock.instant();
          KeyState s = current(lease, now);
          if (s == null) {
            return false;
          }
          data.apply(lease.namespace(), c.effects());
          Guard g = s.leaseGuard;
          if (g != null) {
            s.guardValue = s.guardValue == null ? g.value() : Math.max(s.guardValue, g.value());
            s.gapSince = null;
            s.waitMinSeen = null;
          }
          s.record =
              new OutcomeRecord(
                  c.outcome(),
                  c.result() == null ? null : c.result().clone(),
                  now,
                  s.fence,
                  lease.fingerprint(),
                  s.guardValue);
          s.recordExpiresAt = now.plus(c.retention());
          if (s.recordExpiresAt.isAfter(s.fenceExpiresAt)) {
            s.fenceExpiresAt = s.recordExpiresAt;
            schedule(new Id(lease.namespace(), lease.key()), s);
          }
          s.token = null;
          s.leaseExpiresAt = null;
          s.leaseGuard = null;
          return true;
        });
  }

  @Override
  public Mono<Boolean> release(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    return op(
        () -> {
          KeyState s = current(lease, clock.instant());
          if (s == null) {
            return false;
          }
          s.token = null;
          s.leaseExpiresAt = null;
          s.leaseGuard = null;
          return true;
        });
  }

  @Override
  public Mono<Boolean> extend(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isZero() || ttl.isNegative()) {
      return Mono.error(new IllegalArgumentException("ttl must be positive, but was " + ttl));
    }
    return op(
        () -> {
          Instant now = clock.instant();
          KeyState s = current(lease, now);
          if (s == null) {
            return false;
          }
          s.leaseExpiresAt = now.plus(ttl);
          if (s.leaseExpiresAt.isAfter(s.fenceExpiresAt)) {
            s.fenceExpiresAt = s.leaseExpiresAt;
            schedule(new Id(lease.namespace(), lease.key()), s);
          }
          return true;
        });
  }

  @Override
  public Mono<OutcomeRecord> find(String namespace, String key) {
    return op(() -> {
          KeyState s = keys.get(new Id(namespace, key));
          if (s == null) {
            return null;
          }
          expire(s, clock.instant());
          return s.record;
        })
        .flatMap(Mono::justOrEmpty);
  }
}
