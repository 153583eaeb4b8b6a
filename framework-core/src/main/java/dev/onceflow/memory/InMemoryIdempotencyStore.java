package dev.onceflow.memory;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.Guard;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.RecordedOutcome;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The in-memory {@link IdempotencyStore}: the embedded default and the reference implementation of
 * the store contract. Thread-safe; every operation is atomic under one lock, and lease expiry and
 * retention run on the injected {@link Clock}.
 *
 * <p>Transactional effects are applied to an in-memory data set (strings, hashes, sets, streams)
 * under the same lock as the record, readable through {@link #data()}.
 *
 * <p>Memory: a key's state lives until its lease expired and its record's retention ran out;
 * expired state is swept as operations go, so memory is bounded by the keys seen within the
 * retention window.
 */
public final class InMemoryIdempotencyStore implements IdempotencyStore {

  /** Keys per sweep of expired state: small enough to keep operations O(1) amortized. */
  private static final int SWEEP_BATCH = 64;

  private final Clock clock;
  private final Object lock = new Object();
  private final LinkedHashMap<String, KeyState> keys = new LinkedHashMap<>();
  private final Data data = new Data();
  private volatile @Nullable RuntimeException failure;

  /** Tokens are unique per grant: a per-store random prefix and a counter (under the lock). */
  private final String tokenPrefix = UUID.randomUUID() + ":";

  private long grants;

  private InMemoryIdempotencyStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A store on the system clock. */
  public static InMemoryIdempotencyStore create() {
    return new InMemoryIdempotencyStore(Clock.systemUTC());
  }

  /** A store on the given clock (for tests: a clock driven by a virtual-time scheduler). */
  public static InMemoryIdempotencyStore create(Clock clock) {
    return new InMemoryIdempotencyStore(clock);
  }

  /** The data set that transactional effects write to. */
  public Data data() {
    return data;
  }

  /** How many keys hold a lease or a record. */
  public int size() {
    synchronized (lock) {
      sweep(clock.instant(), Integer.MAX_VALUE);
      return keys.size();
    }
  }

  /**
   * Makes every following operation fail with {@code failure} (a store outage), until {@link
   * #recover()}. For tests of fail-closed behaviour.
   */
  public void failWith(RuntimeException failure) {
    this.failure = Objects.requireNonNull(failure, "failure");
  }

  /** Ends an outage started by {@link #failWith(RuntimeException)}. */
  public void recover() {
    this.failure = null;
  }

  private static final class KeyState {
    long fence;
    @Nullable String token;
    @Nullable String owner;
    @Nullable Instant leaseExpiresAt;
    @Nullable OutcomeRecord record;
    @Nullable Instant recordExpiresAt;
    @Nullable Long guardValue;
    Instant fenceExpiresAt = Instant.MIN;
  }

  private static String id(String namespace, String key) {
    return namespace.length() + ":" + namespace + ":" + key;
  }

  private <V> Mono<V> op(java.util.function.Supplier<V> body) {
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
          String id = id(r.namespace(), r.key());
          KeyState s = keys.get(id);
          if (s != null) {
            expire(s, now);
          }
          if (s == null) {
            s = new KeyState();
            keys.put(id, s);
          }
          boolean leased = s.token != null;
          Guard g = r.guard();
          if (g != null) {
            if (s.guardValue != null && g.value() <= s.guardValue) {
              OutcomeRecord rec = s.record;
              if (rec != null
                  && g.value() == s.guardValue
                  && conflicts(rec, r.fingerprint())
                  && !leased) {
                return new AcquireResult.Conflict(rec, Objects.requireNonNull(r.fingerprint()));
              }
              return new AcquireResult.Completed(rec != null ? rec : syntheticRecord(s, now));
            }
            if (leased) {
              return new AcquireResult.InProgress(Objects.requireNonNull(s.leaseExpiresAt));
            }
            long highest = s.guardValue == null ? 0 : s.guardValue;
            if (g.contiguous() && s.guardValue != null && g.value() > highest + 1) {
              // A gap: an earlier sequence has not completed yet.
              return new AcquireResult.InProgress(now);
            }
            return grant(s, r, now);
          }
          if (leased) {
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
          return grant(s, r, now);
        });
  }

  private static OutcomeRecord syntheticRecord(KeyState s, Instant now) {
    return new OutcomeRecord(RecordedOutcome.PROCESSED, null, now, s.fence, null, s.guardValue);
  }

  private static boolean conflicts(OutcomeRecord rec, @Nullable String fingerprint) {
    return fingerprint != null
        && rec.fingerprint() != null
        && !fingerprint.equals(rec.fingerprint());
  }

  private AcquireResult grant(KeyState s, AcquireRequest r, Instant now) {
    s.fence++;
    s.token = tokenPrefix + Long.toString(++grants, 36);
    s.owner = r.owner();
    s.leaseExpiresAt = now.plus(r.leaseTtl());
    Instant fenceUntil = now.plus(r.retention());
    if (fenceUntil.isAfter(s.fenceExpiresAt)) {
      s.fenceExpiresAt = fenceUntil;
    }
    return new AcquireResult.Acquired(
        new Lease(
            r.namespace(),
            r.key(),
            r.owner(),
            s.token,
            s.fence,
            s.leaseExpiresAt,
            r.fingerprint(),
            r.guard()));
  }

  /** Ends an expired lease; drops an expired record (the fence lives on while the state does). */
  private static void expire(KeyState s, Instant now) {
    if (s.token != null && !now.isBefore(Objects.requireNonNull(s.leaseExpiresAt))) {
      s.token = null;
      s.owner = null;
      s.leaseExpiresAt = null;
    }
    if (s.record != null && !now.isBefore(Objects.requireNonNull(s.recordExpiresAt))) {
      s.record = null;
      s.recordExpiresAt = null;
      s.guardValue = null;
    }
  }

  private void sweep(Instant now, int budget) {
    Iterator<KeyState> it = keys.values().iterator();
    int seen = 0;
    while (it.hasNext() && seen++ < budget) {
      KeyState s = it.next();
      expire(s, now);
      if (s.token == null && s.record == null && !now.isBefore(s.fenceExpiresAt)) {
        // Nothing left to protect: no lease, no record, and the fence outlived its retention.
        it.remove();
      } else if (budget != Integer.MAX_VALUE) {
        // Keys are kept in the order they were first seen, which is about the order they expire
        // in: the first live one ends an incremental sweep, so that it costs O(1) amortized.
        return;
      }
    }
  }

  private @Nullable KeyState current(Lease lease, Instant now) {
    KeyState s = keys.get(id(lease.namespace(), lease.key()));
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
          Guard g = lease.guard();
          if (g != null) {
            s.guardValue = s.guardValue == null ? g.value() : Math.max(s.guardValue, g.value());
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
          }
          s.token = null;
          s.owner = null;
          s.leaseExpiresAt = null;
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
          s.owner = null;
          s.leaseExpiresAt = null;
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
          return true;
        });
  }

  @Override
  public Mono<OutcomeRecord> find(String namespace, String key) {
    return op(() -> {
          KeyState s = keys.get(id(namespace, key));
          if (s == null) {
            return null;
          }
          expire(s, clock.instant());
          return s.record;
        })
        .flatMap(Mono::justOrEmpty);
  }

  /**
   * The in-memory data set that transactional effects write, per namespace. Reads are consistent
   * with completions (same lock).
   */
  public final class Data {
    private final Map<String, String> strings = new HashMap<>();
    private final Map<String, Map<String, String>> hashes = new HashMap<>();
    private final Map<String, Set<String>> sets = new HashMap<>();
    private final Map<String, List<Map<String, String>>> streams = new HashMap<>();

    private Data() {}

    private void apply(String ns, List<Effect> effects) {
      for (Effect e : effects) {
        String k = id(ns, e.key());
        if (e instanceof Effect.HashSet hs) {
          hashes.computeIfAbsent(k, x -> new LinkedHashMap<>()).put(hs.field(), hs.value());
        } else if (e instanceof Effect.HashIncrement hi) {
          hashes
              .computeIfAbsent(k, x -> new LinkedHashMap<>())
              .merge(
                  hi.field(),
                  Long.toString(hi.delta()),
                  (a, b) -> Long.toString(Long.parseLong(a) + Long.parseLong(b)));
        } else if (e instanceof Effect.SetValue sv) {
          strings.put(k, sv.value());
        } else if (e instanceof Effect.Increment in) {
          strings.merge(
              k,
              Long.toString(in.delta()),
              (a, b) -> Long.toString(Long.parseLong(a) + Long.parseLong(b)));
        } else if (e instanceof Effect.SetAdd sa) {
          sets.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(sa.member());
        } else if (e instanceof Effect.StreamAdd xa) {
          streams.computeIfAbsent(k, x -> new ArrayList<>()).add(xa.fields());
        }
      }
    }

    public @Nullable String get(String namespace, String key) {
      synchronized (lock) {
        return strings.get(id(namespace, key));
      }
    }

    public Map<String, String> hash(String namespace, String key) {
      synchronized (lock) {
        return Map.copyOf(hashes.getOrDefault(id(namespace, key), Map.of()));
      }
    }

    public Set<String> members(String namespace, String key) {
      synchronized (lock) {
        return Set.copyOf(sets.getOrDefault(id(namespace, key), Set.of()));
      }
    }

    public List<Map<String, String>> stream(String namespace, String key) {
      synchronized (lock) {
        return List.copyOf(streams.getOrDefault(id(namespace, key), List.of()));
      }
    }
  }
}
