package dev.onceflow.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.Guard;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.RecordedOutcome;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The contract every {@link IdempotencyStore} keeps, as one suite that each store's test extends.
 * Self-contained: a subclass gives the store and a way to read what transactional effects wrote;
 * lease expiry runs on real time with short leases (a few hundred milliseconds) and awaitility.
 * Every test works in its own namespace, so stores may be shared between tests.
 */
public abstract class IdempotencyStoreContract {

  /** A lease short enough to wait for its expiry in a test. */
  protected static final Duration SHORT = Duration.ofMillis(300);

  protected static final Duration LONG = Duration.ofSeconds(30);

  protected static final Duration RETAIN = Duration.ofMinutes(10);

  private static final AtomicLong NAMESPACES = new AtomicLong();

  private String ns = "";

  /** The store under test; may be shared between tests. */
  protected abstract IdempotencyStore store();

  /** What effects wrote to hash {@code key} of {@code namespace}. */
  protected abstract Map<String, String> hash(String namespace, String key);

  /** What effects wrote to string {@code key} of {@code namespace}, or null. */
  protected abstract @Nullable String value(String namespace, String key);

  /** What effects wrote to set {@code key} of {@code namespace}. */
  protected abstract Set<String> members(String namespace, String key);

  /** The entries effects appended to stream {@code key} of {@code namespace}. */
  protected abstract List<Map<String, String>> stream(String namespace, String key);

  @BeforeEach
  void freshNamespace() {
    ns = "ct" + NAMESPACES.incrementAndGet() + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** This test's namespace. */
  protected String ns() {
    return ns;
  }

  protected AcquireRequest request(String key, Duration lease) {
    return new AcquireRequest(ns, key, "owner-a", lease, RETAIN, null, null, false);
  }

  protected AcquireResult acquire(AcquireRequest r) {
    return store().acquire(r).block(Duration.ofSeconds(10));
  }

  protected Lease acquired(AcquireRequest r) {
    AcquireResult result = acquire(r);
    assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
    return ((AcquireResult.Acquired) result).lease();
  }

  protected boolean complete(Lease lease, Completion c) {
    return Boolean.TRUE.equals(store().complete(lease, c).block(Duration.ofSeconds(10)));
  }

  protected static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Waits until {@code r} is granted again (its previous lease expired) and returns the lease. */
  protected Lease awaitTakeover(AcquireRequest r) {
    Lease[] out = new Lease[1];
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(25))
        .until(
            () -> {
              AcquireResult x = acquire(r);
              if (x instanceof AcquireResult.Acquired a) {
                out[0] = a.lease();
                return true;
              }
              assertThat(x).isInstanceOf(AcquireResult.InProgress.class);
              return false;
            });
    return out[0];
  }

  // ------------------------------------------------------------------ leases

  @Test
  void firstAcquireIsGrantedWithAPositiveFenceAndAnExpiryInTheFuture() {
    Instant before = Instant.now().minusSeconds(5);
    StepVerifier.create(store().acquire(request("k", LONG)))
        .assertNext(
            r -> {
              assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
              Lease l = ((AcquireResult.Acquired) r).lease();
              assertThat(l.fence()).isPositive();
              assertThat(l.token()).isNotBlank();
              assertThat(l.namespace()).isEqualTo(ns);
              assertThat(l.key()).isEqualTo("k");
              assertThat(l.owner()).isEqualTo("owner-a");
              assertThat(l.expiresAt()).isAfter(before.plus(LONG));
            })
        .verifyComplete();
  }

  @Test
  void aLiveLeaseAnswersInProgressWithItsExpiry() {
    Lease lease = acquired(request("k", LONG));
    AcquireResult second = acquire(request("k", LONG));
    assertThat(second).isInstanceOf(AcquireResult.InProgress.class);
    assertThat(((AcquireResult.InProgress) second).leaseExpiresAt()).isEqualTo(lease.expiresAt());
  }

  @Test
  void tokensAreUniquePerGrant() {
    Lease first = acquired(request("k", LONG));
    assertThat(store().release(first).block()).isTrue();
    Lease second = acquired(request("k", LONG));
    assertThat(second.token()).isNotEqualTo(first.token());
    assertThat(second.fence()).isGreaterThan(first.fence());
  }

  @Test
  void completedKeyAnswersCompletedWithTheCachedResultAndNeverGrantsAgain() {
    Lease lease = acquired(request("k", LONG));
    assertThat(complete(lease, Completion.processed(bytes("receipt-1"), RETAIN))).isTrue();
    for (int i = 0; i < 3; i++) {
      AcquireResult again = acquire(request("k", LONG));
      assertThat(again).isInstanceOf(AcquireResult.Completed.class);
      OutcomeRecord rec = ((AcquireResult.Completed) again).record();
      assertThat(rec.outcome()).isEqualTo(RecordedOutcome.PROCESSED);
      assertThat(rec.result()).isEqualTo(bytes("receipt-1"));
      assertThat(rec.fence()).isEqualTo(lease.fence());
      assertThat(rec.completedAt()).isAfter(Instant.now().minusSeconds(60));
    }
  }

  @Test
  void aNullResultIsRecordedAsNull() {
    Lease lease = acquired(request("k", LONG));
    assertThat(complete(lease, Completion.processed(null, RETAIN))).isTrue();
    OutcomeRecord rec = store().find(ns, "k").block();
    assertThat(rec).isNotNull();
    assertThat(rec.result()).isNull();
  }

  @Test
  void completeIsCompareAndSetOnTheToken() {
    Lease lease = acquired(request("k", LONG));
    assertThat(complete(lease, Completion.processed(bytes("one"), RETAIN))).isTrue();
    assertThat(complete(lease, Completion.processed(bytes("two"), RETAIN))).isFalse();
    assertThat(store().release(lease).block()).isFalse();
    assertThat(store().extend(lease, LONG).block()).isFalse();
    assertThat(store().find(ns, "k").block().result()).isEqualTo(bytes("one"));
  }

  @Test
  void releaseLetsTheKeyBeAcquiredAgainAtOnceWithAHigherFence() {
    Lease first = acquired(request("k", LONG));
    StepVerifier.create(store().release(first)).expectNext(true).verifyComplete();
    StepVerifier.create(store().release(first)).expectNext(false).verifyComplete();
    Lease second = acquired(request("k", LONG));
    assertThat(second.fence()).isGreaterThan(first.fence());
    assertThat(store().find(ns, "k").blockOptional()).isEmpty();
  }

  @Test
  void aForgedTokenCannotCompleteReleaseOrExtend() {
    Lease real = acquired(request("k", LONG));
    Lease forged =
        new Lease(
            ns, "k", "owner-a", "not-" + real.token(), real.fence(), real.expiresAt(), null, null);
    assertThat(complete(forged, Completion.processed(null, RETAIN))).isFalse();
    assertThat(store().release(forged).block()).isFalse();
    assertThat(store().extend(forged, LONG).block()).isFalse();
    assertThat(acquire(request("k", LONG))).isInstanceOf(AcquireResult.InProgress.class);
    assertThat(complete(real, Completion.processed(null, RETAIN))).isTrue();
  }

  @Test
  void extendKeepsALeaseAlivePastItsFirstExpiry() throws InterruptedException {
    Lease lease = acquired(request("k", SHORT));
    StepVerifier.create(store().extend(lease, LONG)).expectNext(true).verifyComplete();
    Instant end = Instant.now().plus(SHORT.multipliedBy(2));
    while (Instant.now().isBefore(end)) {
      assertThat(acquire(request("k", LONG))).isInstanceOf(AcquireResult.InProgress.class);
      TimeUnit.MILLISECONDS.sleep(50);
    }
    assertThat(complete(lease, Completion.processed(null, RETAIN))).isTrue();
  }

  @Test
  void extendOfAnExpiredLeaseFails() {
    Lease lease = acquired(request("k", SHORT));
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(25))
        .until(() -> !Instant.now().isBefore(lease.expiresAt().plusMillis(50)));
    StepVerifier.create(store().extend(lease, LONG)).expectNext(false).verifyComplete();
    assertThat(acquire(request("k", LONG))).isInstanceOf(AcquireResult.Acquired.class);
  }

  @Test
  void anExpiredLeaseIsTakenOverWithAHigherFenceAndTheOldOwnerLoses() {
    AcquireRequest r = request("k", SHORT);
    Lease old = acquired(r);
    Lease taker = awaitTakeover(r.withRetention(RETAIN));
    assertThat(taker.fence()).isGreaterThan(old.fence());
    assertThat(taker.token()).isNotEqualTo(old.token());

    String effectKey = "total:{k}";
    Completion oldWork =
        Completion.processed(bytes("old"), RETAIN, List.of(Effect.incrBy(effectKey, 100)));
    assertThat(complete(old, oldWork)).isFalse();
    assertThat(store().release(old).block()).isFalse();
    assertThat(value(ns, effectKey)).isNull();

    Completion newWork =
        Completion.processed(bytes("new"), RETAIN, List.of(Effect.incrBy(effectKey, 1)));
    assertThat(complete(taker, newWork)).isTrue();
    assertThat(value(ns, effectKey)).isEqualTo("1");
    OutcomeRecord rec = store().find(ns, "k").block();
    assertThat(rec.fence()).isEqualTo(taker.fence());
    assertThat(rec.result()).isEqualTo(bytes("new"));
  }

  @Test
  void completeAfterTheLeaseExpiredFailsEvenWithoutATakeover() {
    Lease lease = acquired(request("k", SHORT));
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(25))
        .until(() -> !Instant.now().isBefore(lease.expiresAt().plusMillis(50)));
    assertThat(complete(lease, Completion.processed(null, RETAIN))).isFalse();
    assertThat(store().find(ns, "k").blockOptional()).isEmpty();
    assertThat(acquire(request("k", LONG))).isInstanceOf(AcquireResult.Acquired.class);
  }

  @Test
  void theFenceNeverGoesBackwardsAcrossLeaseExpiries() {
    AcquireRequest r = request("k", Duration.ofMillis(150));
    long last = acquired(r).fence();
    for (int i = 0; i < 3; i++) {
      Lease next = awaitTakeover(r);
      assertThat(next.fence()).isGreaterThan(last);
      last = next.fence();
    }
    Lease done = awaitTakeover(r);
    assertThat(complete(done, Completion.deadLettered(RETAIN))).isTrue();
    Lease redriven = acquired(r.withRedrive(true));
    assertThat(redriven.fence()).isGreaterThan(done.fence());
  }

  // ------------------------------------------------------------------ conflict

  @Test
  void anotherFingerprintIsInProgressWhileLeasedAndConflictOnlyOnceRecorded() {
    AcquireRequest a = request("k", LONG).withFingerprint("fp-A");
    AcquireRequest b = request("k", LONG).withFingerprint("fp-B");
    Lease lease = acquired(a);
    assertThat(acquire(b)).isInstanceOf(AcquireResult.InProgress.class);
    assertThat(complete(lease, Completion.processed(bytes("r"), RETAIN))).isTrue();

    AcquireResult conflict = acquire(b);
    assertThat(conflict).isInstanceOf(AcquireResult.Conflict.class);
    AcquireResult.Conflict c = (AcquireResult.Conflict) conflict;
    assertThat(c.requestedFingerprint()).isEqualTo("fp-B");
    assertThat(c.record().fingerprint()).isEqualTo("fp-A");
    assertThat(c.record().result()).isEqualTo(bytes("r"));

    assertThat(acquire(a)).isInstanceOf(AcquireResult.Completed.class);
    assertThat(acquire(request("k", LONG))).isInstanceOf(AcquireResult.Completed.class);
  }

  @Test
  void aRecordWithoutFingerprintNeverConflicts() {
    Lease lease = acquired(request("k", LONG));
    assertThat(complete(lease, Completion.processed(null, RETAIN))).isTrue();
    assertThat(acquire(request("k", LONG).withFingerprint("fp-X")))
        .isInstanceOf(AcquireResult.Completed.class);
  }

  // ------------------------------------------------------------------ dead letters and redrive

  @Test
  void aDeadLetteredKeyIsCompletedButARedriveTakesItAgain() {
    Lease first = acquired(request("k", LONG));
    assertThat(complete(first, Completion.deadLettered(RETAIN))).isTrue();

    AcquireResult plain = acquire(request("k", LONG));
    assertThat(plain).isInstanceOf(AcquireResult.Completed.class);
    assertThat(((AcquireResult.Completed) plain).record().outcome())
        .isEqualTo(RecordedOutcome.DEAD_LETTERED);

    Lease redrive = acquired(request("k", LONG).withRedrive(true));
    assertThat(redrive.fence()).isGreaterThan(first.fence());
    assertThat(acquire(request("k", LONG).withRedrive(true)))
        .isInstanceOf(AcquireResult.InProgress.class);
    assertThat(store().find(ns, "k").block().outcome()).isEqualTo(RecordedOutcome.DEAD_LETTERED);

    assertThat(complete(redrive, Completion.processed(bytes("ok"), RETAIN))).isTrue();
    OutcomeRecord rec = store().find(ns, "k").block();
    assertThat(rec.outcome()).isEqualTo(RecordedOutcome.PROCESSED);
    assertThat(rec.fence()).isEqualTo(redrive.fence());
    assertThat(acquire(request("k", LONG).withRedrive(true)))
        .isInstanceOf(AcquireResult.Completed.class);
  }

  // ------------------------------------------------------------------ retention

  @Test
  void aRecordExpiresAfterItsRetentionButTheFenceLivesOn() {
    Lease first = acquired(request("k", SHORT));
    assertThat(complete(first, Completion.processed(bytes("r"), Duration.ofMillis(300)))).isTrue();
    assertThat(store().find(ns, "k").block()).isNotNull();
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(25))
        .until(() -> store().find(ns, "k").blockOptional().isEmpty());
    Lease again = acquired(request("k", LONG));
    assertThat(again.fence()).isGreaterThan(first.fence());
  }

  @Test
  void findAnswersEmptyForAnUnknownKey() {
    StepVerifier.create(store().find(ns, "never-seen")).verifyComplete();
  }

  @Test
  void namespacesAreIsolated() {
    acquired(request("k", LONG));
    String other = ns + "-other";
    AcquireResult r =
        acquire(new AcquireRequest(other, "k", "owner-b", LONG, RETAIN, null, null, false));
    assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
  }

  @Test
  void unusualKeysWork() {
    for (String key : List.of("", "}", "}x{", "~", "~a", "{a}", "a:b:c", "ключ-✓", " ")) {
      Lease l = acquired(request(key, LONG));
      assertThat(acquire(request(key, LONG))).isInstanceOf(AcquireResult.InProgress.class);
      String effectKey = "seen:{" + key + "}";
      if (key.isEmpty() || key.startsWith("}") || key.startsWith("~")) {
        effectKey = "seen:{~" + key + "}";
      }
      assertThat(
              complete(
                  l,
                  Completion.processed(bytes(key), RETAIN, List.of(Effect.sadd(effectKey, "m")))))
          .as("key '%s'", key)
          .isTrue();
      assertThat(store().find(ns, key).block().result()).isEqualTo(bytes(key));
    }
    assertThat(acquire(request("~", LONG))).isInstanceOf(AcquireResult.Completed.class);
    assertThat(acquire(request("~~", LONG))).isInstanceOf(AcquireResult.Acquired.class);
  }

  // ------------------------------------------------------------------ effects

  @Test
  void transactionalEffectsAreAppliedWithTheRecordExactlyOnce() {
    String h = "h:{k}";
    String s = "s:{k}";
    String c = "c:{k}";
    String set = "set:{k}";
    String x = "x:{k}";
    List<Effect> effects =
        List.of(
            Effect.hset(h, "status", "paid"),
            Effect.hincrBy(h, "count", 2),
            Effect.hincrBy(h, "count", 3),
            Effect.set(s, "v"),
            Effect.incrBy(c, 7),
            Effect.sadd(set, "a"),
            Effect.sadd(set, "b"),
            Effect.xadd(x, Map.of("event", "paid", "amount", "12")));
    Lease lease = acquired(request("k", LONG));
    assertThat(complete(lease, Completion.processed(null, RETAIN, effects))).isTrue();
    assertThat(complete(lease, Completion.processed(null, RETAIN, effects))).isFalse();
    assertThat(acquire(request("k", LONG))).isInstanceOf(AcquireResult.Completed.class);

    assertThat(hash(ns, h))
        .containsExactlyInAnyOrderEntriesOf(Map.of("status", "paid", "count", "5"));
    assertThat(value(ns, s)).isEqualTo("v");
    assertThat(value(ns, c)).isEqualTo("7");
    assertThat(members(ns, set)).containsExactlyInAnyOrder("a", "b");
    assertThat(stream(ns, x)).containsExactly(Map.of("event", "paid", "amount", "12"));
  }

  @Test
  void aReleasedLeaseAppliesNoEffect() {
    Lease lease = acquired(request("k", LONG));
    assertThat(store().release(lease).block()).isTrue();
    assertThat(
            complete(lease, Completion.processed(null, RETAIN, List.of(Effect.incrBy("n:{k}", 1)))))
        .isFalse();
    assertThat(value(ns, "n:{k}")).isNull();
  }

  @Test
  void anEffectThatWouldOverflowRejectsTheWholeCompletionAndWritesNothing() {
    String c = "c:{k}";
    String h = "h:{k}";
    Lease lease = acquired(request("k", LONG));
    List<Effect> effects =
        List.of(
            Effect.hset(h, "status", "paid"),
            Effect.incrBy(c, 5),
            Effect.hincrBy(h, "n", Long.MAX_VALUE),
            Effect.hincrBy(h, "n", 1));
    StepVerifier.create(store().complete(lease, Completion.processed(null, RETAIN, effects)))
        .expectError(EffectRejectedException.class)
        .verify(Duration.ofSeconds(10));
    assertThat(hash(ns, h)).isEmpty();
    assertThat(value(ns, c)).isNull();
    assertThat(store().find(ns, "k").block()).isNull();
  }

  @Test
  void anEffectOnAStoredValueThatCannotApplyIsRejected() {
    String big = "big:{k}";
    Lease first = acquired(request("k", LONG));
    assertThat(
            complete(
                first,
                Completion.processed(null, RETAIN, List.of(Effect.incrBy(big, Long.MAX_VALUE)))))
        .isTrue();
    // Effect keys of one slot in Redis Cluster: reuse the {k} hash tag from other message keys.
    Lease second = acquired(request("k2{k}", LONG));
    StepVerifier.create(
            store()
                .complete(
                    second,
                    Completion.processed(
                        null, RETAIN, List.of(Effect.set("s:{k}", "x"), Effect.incrBy(big, 2)))))
        .expectError(EffectRejectedException.class)
        .verify(Duration.ofSeconds(10));
    assertThat(value(ns, "s:{k}")).isNull();
    assertThat(value(ns, big)).isEqualTo(Long.toString(Long.MAX_VALUE));
    StepVerifier.create(
            store()
                .complete(
                    second,
                    Completion.processed(null, RETAIN, List.of(Effect.hset(big, "f", "v")))))
        .expectError(EffectRejectedException.class)
        .verify(Duration.ofSeconds(10));
    // Nothing was written, so the lease still holds and can complete without the bad effect.
    assertThat(complete(second, Completion.processed(null, RETAIN))).isTrue();
  }

  @Test
  void anIncrementIsCheckedAgainstWhatEarlierEffectsOfTheSameCompletionWrote() {
    Lease lease = acquired(request("k", LONG));
    StepVerifier.create(
            store()
                .complete(
                    lease,
                    Completion.processed(
                        null,
                        RETAIN,
                        List.of(
                            Effect.set("s:{k}", "abc"),
                            Effect.incrBy("s:{k}", 1),
                            Effect.hset("h:{k}", "f", "x"),
                            Effect.hincrBy("h:{k}", "f", 1)))))
        .expectError(EffectRejectedException.class)
        .verify(Duration.ofSeconds(10));
    assertThat(value(ns, "s:{k}")).isNull();
    assertThat(hash(ns, "h:{k}")).isEmpty();
    assertThat(
            complete(
                lease,
                Completion.processed(
                    null, RETAIN, List.of(Effect.set("s:{k}", "41"), Effect.incrBy("s:{k}", 1)))))
        .isTrue();
    assertThat(value(ns, "s:{k}")).isEqualTo("42");
  }

  @Test
  void aRejectedCompletionDoesNotAffectOthersSentAtTheSameTime() {
    int n = 50;
    String big = "big:{max}";
    Lease setup = acquired(request("max", LONG));
    assertThat(
            complete(
                setup,
                Completion.processed(null, RETAIN, List.of(Effect.incrBy(big, Long.MAX_VALUE)))))
        .isTrue();
    List<Lease> leases = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      // Keys of the {max} slot, so that Redis Cluster can apply every effect with its record.
      leases.add(acquired(request("batch-" + i + "{max}", LONG)));
    }
    List<Mono<Boolean>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Effect e = i % 10 == 3 ? Effect.incrBy(big, 1) : Effect.incrBy("n" + i + ":{max}", 1);
      calls.add(
          store()
              .complete(leases.get(i), Completion.processed(null, RETAIN, List.of(e)))
              .onErrorResume(EffectRejectedException.class, x -> Mono.just(false)));
    }
    List<Boolean> results = Flux.mergeSequential(calls).collectList().block(Duration.ofSeconds(10));
    for (int i = 0; i < n; i++) {
      boolean rejected = i % 10 == 3;
      assertThat(results.get(i)).as("completion %d", i).isEqualTo(!rejected);
      assertThat(value(ns, "n" + i + ":{max}")).isEqualTo(rejected ? null : "1");
    }
    assertThat(value(ns, big)).isEqualTo(Long.toString(Long.MAX_VALUE));
  }

  // ------------------------------------------------------------------ guards

  @Test
  void versionGuardKeepsTheHighestCompletedVersion() {
    AcquireRequest base = request("entity-1", LONG);
    Lease v5 = acquired(base.withGuard(Guard.version(5)));
    assertThat(acquire(base.withGuard(Guard.version(6))))
        .isInstanceOf(AcquireResult.InProgress.class);
    assertThat(complete(v5, Completion.processed(bytes("v5"), RETAIN))).isTrue();

    for (long stale : new long[] {5, 4, -1}) {
      AcquireResult r = acquire(base.withGuard(Guard.version(stale)));
      assertThat(r).as("version %d", stale).isInstanceOf(AcquireResult.Completed.class);
      assertThat(((AcquireResult.Completed) r).record().guardValue()).isEqualTo(5L);
    }
    Lease v7 = acquired(base.withGuard(Guard.version(7)));
    assertThat(v7.fence()).isGreaterThan(v5.fence());
    assertThat(acquire(base.withGuard(Guard.version(6))))
        .isInstanceOf(AcquireResult.InProgress.class);
    assertThat(complete(v7, Completion.processed(bytes("v7"), RETAIN))).isTrue();
    AcquireResult six = acquire(base.withGuard(Guard.version(6)));
    assertThat(six).isInstanceOf(AcquireResult.Completed.class);
    assertThat(((AcquireResult.Completed) six).record().guardValue()).isEqualTo(7L);
    assertThat(store().find(ns, "entity-1").block().guardValue()).isEqualTo(7L);
  }

  @Test
  void versionGuardAnswersConflictForTheSameVersionWithAnotherPayload() {
    AcquireRequest base = request("entity-1", LONG);
    Lease v3 = acquired(base.withGuard(Guard.version(3)).withFingerprint("fp-A"));
    assertThat(complete(v3, Completion.processed(null, RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.version(3)).withFingerprint("fp-B")))
        .isInstanceOf(AcquireResult.Conflict.class);
    assertThat(acquire(base.withGuard(Guard.version(3)).withFingerprint("fp-A")))
        .isInstanceOf(AcquireResult.Completed.class);
    assertThat(acquire(base.withGuard(Guard.version(2)).withFingerprint("fp-B")))
        .isInstanceOf(AcquireResult.Completed.class);
  }

  @Test
  void versionGuardComparesLongsExactly() {
    AcquireRequest base = request("entity-big", LONG);
    long big = (1L << 53) + 1;
    Lease l = acquired(base.withGuard(Guard.version(big)));
    assertThat(complete(l, Completion.processed(null, RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.version(big - 1))))
        .isInstanceOf(AcquireResult.Completed.class);
    Lease next = acquired(base.withGuard(Guard.version(big + 1)));
    assertThat(complete(next, Completion.processed(null, RETAIN))).isTrue();
    assertThat(store().find(ns, "entity-big").block().guardValue()).isEqualTo(big + 1);
    Lease max = acquired(base.withGuard(Guard.version(Long.MAX_VALUE)));
    assertThat(complete(max, Completion.processed(null, RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.version(Long.MAX_VALUE))))
        .isInstanceOf(AcquireResult.Completed.class);

    AcquireRequest neg = request("entity-neg", LONG);
    Lease m10 = acquired(neg.withGuard(Guard.version(-10)));
    assertThat(complete(m10, Completion.processed(null, RETAIN))).isTrue();
    assertThat(acquire(neg.withGuard(Guard.version(-11))))
        .isInstanceOf(AcquireResult.Completed.class);
    assertThat(acquire(neg.withGuard(Guard.version(-9))))
        .isInstanceOf(AcquireResult.Acquired.class);
  }

  @Test
  void producerSequenceGrantsOnlyTheNextContiguousNumber() {
    AcquireRequest base = request("producer-7", LONG);
    Lease s1 = acquired(base.withGuard(Guard.sequence(1)));
    assertThat(complete(s1, Completion.processed(null, RETAIN))).isTrue();

    assertThat(acquire(base.withGuard(Guard.sequence(3))))
        .isInstanceOf(AcquireResult.InProgress.class);
    assertThat(acquire(base.withGuard(Guard.sequence(1))))
        .isInstanceOf(AcquireResult.Completed.class);
    Lease s2 = acquired(base.withGuard(Guard.sequence(2)));
    assertThat(acquire(base.withGuard(Guard.sequence(3))))
        .isInstanceOf(AcquireResult.InProgress.class);
    assertThat(complete(s2, Completion.processed(null, RETAIN))).isTrue();
    Lease s3 = acquired(base.withGuard(Guard.sequence(3)));
    assertThat(complete(s3, Completion.processed(null, RETAIN))).isTrue();
    AcquireResult dup = acquire(base.withGuard(Guard.sequence(2)));
    assertThat(dup).isInstanceOf(AcquireResult.Completed.class);
    assertThat(((AcquireResult.Completed) dup).record().guardValue()).isEqualTo(3L);
    assertThat(s3.fence()).isGreaterThan(s2.fence());
  }

  @Test
  void aProducerSeenForTheFirstTimeStartsAtItsFirstNumber() {
    AcquireRequest base = request("producer-new", LONG);
    assertThat(acquire(base.withGuard(Guard.sequence(2))))
        .isInstanceOf(AcquireResult.InProgress.class);
    Lease s1 = acquired(base.withGuard(Guard.sequence(1)));
    assertThat(complete(s1, Completion.processed(null, RETAIN))).isTrue();
    Lease s2 = acquired(base.withGuard(Guard.sequence(2)));
    assertThat(complete(s2, Completion.processed(null, RETAIN))).isTrue();

    AcquireRequest other = request("producer-from-5", LONG);
    assertThat(acquire(other.withGuard(Guard.sequence(6, 5, null))))
        .isInstanceOf(AcquireResult.InProgress.class);
    assertThat(acquired(other.withGuard(Guard.sequence(5, 5, null))).fence()).isPositive();
  }

  @Test
  void aDeadLetteredSequenceAdvancesTheGuard() {
    AcquireRequest base = request("producer-dl", LONG);
    Lease s1 = acquired(base.withGuard(Guard.sequence(1)));
    assertThat(complete(s1, Completion.deadLettered(RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.sequence(1))))
        .isInstanceOf(AcquireResult.Completed.class);
    Lease s2 = acquired(base.withGuard(Guard.sequence(2)));
    assertThat(s2.fence()).isGreaterThan(s1.fence());
  }

  @Test
  void aGapOlderThanItsTimeoutIsSkippedAtTheLowestWaitingNumber() {
    Duration gapTimeout = Duration.ofMillis(400);
    AcquireRequest base = request("producer-gap", LONG);
    Lease s1 = acquired(base.withGuard(Guard.sequence(1, 1, gapTimeout)));
    assertThat(complete(s1, Completion.processed(null, RETAIN))).isTrue();
    // 2 is lost; 4 and 3 wait for it.
    assertThat(acquire(base.withGuard(Guard.sequence(4, 1, gapTimeout))))
        .isInstanceOf(AcquireResult.InProgress.class);
    assertThat(acquire(base.withGuard(Guard.sequence(3, 1, gapTimeout))))
        .isInstanceOf(AcquireResult.InProgress.class);
    long[] skipped = new long[1];
    Lease[] granted = new Lease[1];
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              // 4 never jumps ahead of the lower waiting 3.
              assertThat(acquire(base.withGuard(Guard.sequence(4, 1, gapTimeout))))
                  .isInstanceOf(AcquireResult.InProgress.class);
              AcquireResult r = acquire(base.withGuard(Guard.sequence(3, 1, gapTimeout)));
              if (r instanceof AcquireResult.Acquired a) {
                skipped[0] = a.skipped();
                granted[0] = a.lease();
                return true;
              }
              assertThat(r).isInstanceOf(AcquireResult.InProgress.class);
              return false;
            });
    assertThat(skipped[0]).isEqualTo(1);
    assertThat(complete(granted[0], Completion.processed(null, RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.sequence(2, 1, gapTimeout))))
        .isInstanceOf(AcquireResult.Completed.class);
    AcquireResult four = acquire(base.withGuard(Guard.sequence(4, 1, gapTimeout)));
    assertThat(four).isInstanceOf(AcquireResult.Acquired.class);
    assertThat(((AcquireResult.Acquired) four).skipped()).isZero();
  }

  @Test
  void withoutAGapTimeoutAGapWaitsForEver() throws InterruptedException {
    AcquireRequest base = request("producer-wait", LONG);
    Lease s1 = acquired(base.withGuard(Guard.sequence(1)));
    assertThat(complete(s1, Completion.processed(null, RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.sequence(3))))
        .isInstanceOf(AcquireResult.InProgress.class);
    Thread.sleep(300);
    assertThat(acquire(base.withGuard(Guard.sequence(3))))
        .isInstanceOf(AcquireResult.InProgress.class);
  }

  @Test
  void aRedriveOfTheHighestDeadLetteredVersionIsGrantedAndAnOlderOneIsStale() {
    AcquireRequest base = request("entity-9", LONG);
    Lease v5 = acquired(base.withGuard(Guard.version(5)));
    assertThat(complete(v5, Completion.deadLettered(RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.version(5))))
        .isInstanceOf(AcquireResult.Completed.class);
    Lease redriven = acquired(base.withGuard(Guard.version(5)).withRedrive(true));
    assertThat(redriven.fence()).isGreaterThan(v5.fence());
    assertThat(complete(redriven, Completion.processed(null, RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.version(5)).withRedrive(true)))
        .isInstanceOf(AcquireResult.Completed.class);
    assertThat(store().find(ns, "entity-9").block().outcome()).isEqualTo(RecordedOutcome.PROCESSED);

    Lease v7 = acquired(base.withGuard(Guard.version(7)));
    assertThat(complete(v7, Completion.deadLettered(RETAIN))).isTrue();
    assertThat(acquire(base.withGuard(Guard.version(6)).withRedrive(true)))
        .isInstanceOf(AcquireResult.Completed.class);
  }

  // ------------------------------------------------------------------ concurrency

  /** 8 threads race for the same 10,000 keys: exactly one ACQUIRED per key. */
  @Test
  void racingAcquirersGetExactlyOneGrantPerKey() throws Exception {
    int threads = 8;
    int keys = 10_000;
    AtomicIntegerArray grants = new AtomicIntegerArray(keys);
    AtomicIntegerArray others = new AtomicIntegerArray(keys);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int offset = t * (keys / threads);
        String owner = "racer-" + t;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  Flux.range(0, keys)
                      .map(i -> (i + offset) % keys)
                      .flatMap(
                          i ->
                              store()
                                  .acquire(
                                      new AcquireRequest(
                                          ns, "key-" + i, owner, LONG, RETAIN, null, null, false))
                                  .doOnNext(
                                      r -> {
                                        if (r instanceof AcquireResult.Acquired) {
                                          grants.incrementAndGet(i);
                                        } else if (r instanceof AcquireResult.InProgress) {
                                          others.incrementAndGet(i);
                                        }
                                      }),
                          64)
                      .then()
                      .block(Duration.ofSeconds(60));
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(90, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    for (int i = 0; i < keys; i++) {
      assertThat(grants.get(i)).as("grants of key-%d", i).isEqualTo(1);
      assertThat(others.get(i)).as("IN_PROGRESS answers of key-%d", i).isEqualTo(threads - 1);
    }
  }

  @Test
  void concurrentAcquireAndCompleteOfManyKeysRecordsEveryKey() {
    int n = 2_000;
    List<Boolean> completed =
        Flux.range(0, n)
            .flatMap(
                i ->
                    store()
                        .acquire(request("m-" + i, LONG))
                        .cast(AcquireResult.Acquired.class)
                        .flatMap(
                            a ->
                                store()
                                    .complete(
                                        a.lease(),
                                        Completion.processed(
                                            bytes("r" + i),
                                            RETAIN,
                                            List.of(Effect.incrBy("n:{m-" + i + "}", i))))),
                256)
            .collectList()
            .block(Duration.ofSeconds(60));
    assertThat(completed).hasSize(n).containsOnly(true);
    for (int i = 0; i < n; i += 97) {
      assertThat(store().find(ns, "m-" + i).block().result()).isEqualTo(bytes("r" + i));
      assertThat(value(ns, "n:{m-" + i + "}")).isEqualTo(Integer.toString(i));
    }
  }

  @Test
  void acquireIsLazyAndResentOnEachSubscription() {
    Mono<AcquireResult> once = store().acquire(request("k", LONG));
    Mono<AcquireResult> neverSubscribed = store().acquire(request("k", LONG));
    assertThat(neverSubscribed).isNotNull();
    assertThat(once.block()).isInstanceOf(AcquireResult.Acquired.class);
    assertThat(once.block()).isInstanceOf(AcquireResult.InProgress.class);
  }
}
