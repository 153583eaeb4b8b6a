package dev.onceflow.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.chaos.Verdict.Rule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Hand-made histories: one that keeps every rule, and one per rule that breaks only it and must be
 * caught.
 */
class CheckerTest {

  private static final long S = 1_000_000_000L;

  private long seq;

  private Event ev(double seconds, long pid, String type, String id, long fence, String detail) {
    return new Event((long) (seconds * S), pid, type, id, id, fence, detail, seq++);
  }

  /** One clean run of {@code id} by {@code pid} under {@code fence}, from time {@code t}. */
  private List<Event> run(double t, long pid, String id, long fence) {
    return List.of(
        ev(t, pid, "delivered", id, -1, "-"),
        ev(t + 0.01, pid, "acquired", id, fence, "-"),
        ev(t + 0.02, pid, "started", id, fence, "1"),
        ev(t + 0.03, pid, "finished", id, fence, "1,ok"),
        ev(t + 0.04, pid, "recorded", id, fence, "PROCESSED"),
        ev(t + 0.05, pid, "acked", id, fence, "processed"));
  }

  private History clean() {
    return new History()
        .lease(Duration.ofSeconds(5))
        .published("a")
        .published("b")
        .poison("p")
        .events(run(1, 100, "a", 1))
        .events(run(1.1, 100, "b", 1))
        .events(
            List.of(
                ev(1.2, 100, "delivered", "p", -1, "-"),
                ev(1.21, 100, "acquired", "p", 1, "-"),
                ev(1.22, 100, "started", "p", 1, "1"),
                ev(1.23, 100, "finished", "p", 1, "1,NonRetryableException"),
                ev(1.24, 100, "dead-lettered", "p", -1, "NON_RETRYABLE"),
                ev(1.25, 100, "recorded", "p", 1, "DEAD_LETTERED"),
                ev(1.26, 100, "acked", "p", -1, "dead-lettered"),
                // a re-sent copy of a: a duplicate, acked without running the handler
                ev(2, 100, "delivered", "a", -1, "-"),
                ev(2.01, 100, "acked", "a", -1, "duplicate")))
        .deadLetter("p", "NON_RETRYABLE")
        .effect("a", 1)
        .effect("b", 1);
  }

  @Test
  void aCleanHistoryKeepsEveryRule() {
    Verdict v = Checker.check(clean());
    assertThat(v.passed()).as(v.report()).isTrue();
    assertThat(v.messages()).isEqualTo(3);
    assertThat(v.maxRunsPerKey()).isEqualTo(1);
  }

  @Test
  void aTruncatedLastLineIsSkippedAndWholeLinesRoundTrip() {
    Event e = ev(1, 7, "recorded", "a", 3, "PROCESSED");
    assertThat(Event.parse(e.line(), 0))
        .isEqualTo(new Event(e.t(), 7, "recorded", "a", "a", 3, "PROCESSED", 0));
    assertThat(Event.parse("1000\t7\trecorded\ta\ta\t3\t", 1)).isNull();
    assertThat(Event.parse("1000\t7\trecor", 1)).isNull();
  }

  @Test
  void anAckBeforeItsRecordIsCaught() {
    History h = clean();
    h.events.removeIf(e -> e.id() != null && e.id().equals("b"));
    h.events(
        List.of(
            ev(1.1, 100, "acquired", "b", 1, "-"),
            ev(1.12, 100, "acked", "b", 1, "processed"),
            ev(1.13, 100, "recorded", "b", 1, "PROCESSED")));
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.ACK_BEFORE_RECORD)).hasSize(1);
    assertThat(v.passed(Set.of(Rule.ACK_BEFORE_RECORD))).as(v.report()).isTrue();
  }

  @Test
  void aSecondCompletionOfAKeyIsCaught() {
    History h = clean().events(run(3, 200, "a", 2));
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.TWO_COMPLETIONS)).hasSize(1);
    assertThat(v.recordsLost()).isEqualTo(1);
    assertThat(v.passed(Set.of(Rule.TWO_COMPLETIONS))).as(v.report()).isTrue();
  }

  @Test
  void aStaleFenceThatCompletesIsCaught() {
    History h = clean();
    h.events.removeIf(e -> e.id() != null && e.id().equals("b"));
    // pid 100 holds fence 1; its lease expires, pid 200 takes fence 2 and is still running when
    // pid 100 records under fence 1 (a store that failed to compare the token).
    h.events(
        List.of(
            ev(1.0, 100, "delivered", "b", -1, "-"),
            ev(1.01, 100, "acquired", "b", 1, "-"),
            ev(7.0, 200, "delivered", "b", -1, "-"),
            ev(7.01, 200, "acquired", "b", 2, "-"),
            ev(7.5, 100, "recorded", "b", 1, "PROCESSED"),
            ev(7.51, 100, "acked", "b", 1, "processed"),
            ev(9.0, 200, "nacked", "b", -1, "LEASE_LOST")));
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.STALE_FENCE)).hasSize(1);
    assertThat(v.passed(Set.of(Rule.STALE_FENCE))).as(v.report()).isTrue();
  }

  @Test
  void aMessageThatNeverCompletedIsLost() {
    History h = clean().published("c").effect("c", 1);
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.LOST)).hasSize(1);
    assertThat(v.lost()).isEqualTo(1);
    assertThat(v.passed(Set.of(Rule.LOST))).as(v.report()).isTrue();
  }

  @Test
  void aMessageLeftOnTheSourceUnfinishedIsLostButAFinishedOneIsNot() {
    History h = clean().published("c").effect("c", 1).leftover("c").leftover("b");
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.LOST)).singleElement().asString().contains("still on the source");
    assertThat(v.passed(Set.of(Rule.LOST))).as(v.report()).isTrue();
  }

  @Test
  void aSlowHandlerReRunWhileHeartbeatsShouldKeepItsLeaseIsCaught() {
    // pid 300 held b for 8 s (lease 5 s) and never recorded; pid 100 ran it again. Allowed as a
    // lease expiry in general, a violation where heartbeats must keep live leases.
    History h = clean().effectMode(History.EffectMode.PLAIN).effect("b", 2);
    h.events(
        List.of(
            ev(0.1, 300, "acquired", "b", 1, "-"),
            ev(0.2, 300, "started", "b", 1, "1"),
            ev(8.2, 300, "nacked", "b", -1, "LEASE_LOST")));
    assertThat(Checker.check(h).passed()).isTrue();
    Verdict strict = Checker.check(h.leaseExpiryIsAFault(false));
    assertThat(strict.violations(Rule.PLAIN_OVER_BOUND)).hasSize(1);
  }

  @Test
  void aPoisonMessageMissingFromTheDeadLetterQueueIsCaught() {
    History h = clean();
    h.deadLetters.clear();
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.POISON_NOT_DEAD_LETTERED)).hasSize(1);
    assertThat(v.passed(Set.of(Rule.POISON_NOT_DEAD_LETTERED))).as(v.report()).isTrue();
  }

  @Test
  void aTransactionalEffectAppliedTwiceIsCaught() {
    Verdict v = Checker.check(clean().effect("b", 2));
    assertThat(v.violations(Rule.TRANSACTIONAL_NOT_ONCE)).hasSize(1);
    assertThat(v.doubledTransactional()).isEqualTo(1);
    assertThat(v.passed(Set.of(Rule.TRANSACTIONAL_NOT_ONCE))).as(v.report()).isTrue();
  }

  @Test
  void aPlainEffectReRunWithoutAFaultIsCaught() {
    // Two runs of b under two leases, but nothing hit the first: a duplicate re-ran the handler.
    History h = clean().effectMode(History.EffectMode.PLAIN).effect("b", 2);
    h.events(
        List.of(ev(0.5, 300, "acquired", "b", 1, "-"), ev(0.6, 300, "nacked", "b", -1, "STOPPED")));
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.PLAIN_OVER_BOUND)).hasSize(1);
    assertThat(v.passed(Set.of(Rule.PLAIN_OVER_BOUND))).as(v.report()).isTrue();
  }

  @Test
  void aPlainEffectReRunAfterAKillIsWithinTheBound() {
    History h =
        clean()
            .effectMode(History.EffectMode.PLAIN)
            .effect("b", 2)
            .fault(
                new Fault(
                    Fault.Kind.KILL,
                    (long) (0.7 * S),
                    (long) (0.7 * S),
                    300,
                    Duration.ofSeconds(10)));
    h.events(
        List.of(
            ev(0.5, 300, "delivered", "b", -1, "-"),
            ev(0.51, 300, "acquired", "b", 1, "-"),
            ev(0.52, 300, "started", "b", 1, "1"),
            ev(0.6, 300, "finished", "b", 1, "1,ok")));
    Verdict v = Checker.check(h);
    assertThat(v.passed()).as(v.report()).isTrue();
    assertThat(v.doubledPlain()).isEqualTo(1);
    assertThat(v.maxRunsPerKey()).isEqualTo(2);
  }

  @Test
  void aPlainEffectRunDuringAStoreFaultMayLandTwice() {
    // b's only run overlapped a Redis restart: the client replayed its HINCRBY after reconnecting.
    History h =
        clean()
            .effectMode(History.EffectMode.PLAIN)
            .effect("b", 2)
            .fault(
                new Fault(
                    Fault.Kind.REDIS_RESTART,
                    (long) (1.11 * S),
                    (long) (1.12 * S),
                    -1,
                    Duration.ofSeconds(60)));
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.PLAIN_OVER_BOUND)).as(v.report()).isEmpty();
    assertThat(
            Checker.check(clean().effectMode(History.EffectMode.PLAIN).effect("b", 2))
                .violations(Rule.PLAIN_OVER_BOUND))
        .hasSize(1);
  }

  @Test
  void keysStrandedAfterAStoreFaultBreakTheRecoveryBound() {
    // Redis paused from 1.5 s to 6.5 s; b was delivered during the pause and completes only when
    // its stranded lease expires, 20 s later.
    History h = new History().lease(Duration.ofSeconds(20)).published("a").published("b");
    h.events(run(1, 100, "a", 1));
    h.events(
        List.of(
            ev(2, 100, "delivered", "b", -1, "-"),
            ev(2.01, 100, "nacked", "b", -1, "STORE_UNAVAILABLE")));
    h.events(run(26.5, 100, "b", 1));
    h.effect("a", 1).effect("b", 1);
    h.fault(
        new Fault(
            Fault.Kind.REDIS_PAUSE,
            (long) (1.5 * S),
            (long) (6.5 * S),
            -1,
            Duration.ofSeconds(10)));
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.RECOVERY_TOO_SLOW)).hasSize(1);
    assertThat(v.recoveries().get(0).keys()).isEqualTo(1);
    assertThat(v.recoveries().get(0).recovery()).isGreaterThan(Duration.ofSeconds(19));
    assertThat(v.passed(Set.of(Rule.RECOVERY_TOO_SLOW))).as(v.report()).isTrue();

    History fast = new History().lease(Duration.ofSeconds(20)).published("a").published("b");
    fast.events(run(1, 100, "a", 1));
    fast.events(
        List.of(
            ev(2, 100, "delivered", "b", -1, "-"),
            ev(2.01, 100, "nacked", "b", -1, "STORE_UNAVAILABLE")));
    fast.events(run(7.0, 100, "b", 1));
    fast.effect("a", 1).effect("b", 1);
    fast.fault(
        new Fault(
            Fault.Kind.REDIS_PAUSE,
            (long) (1.5 * S),
            (long) (6.5 * S),
            -1,
            Duration.ofSeconds(10)));
    Verdict ok = Checker.check(fast);
    assertThat(ok.passed()).as(ok.report()).isTrue();
    assertThat(ok.maxRecovery()).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void withoutEventLogsTheStoreSamplesMeasureRecovery() {
    History h = new History().eventLogs(false).lease(Duration.ofSeconds(20));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add("m" + i);
      h.published("m" + i).effect("m" + i, 1).recordedInStore("m" + i);
    }
    h.completionSample("m0", 1 * S).completionSample("m1", 1 * S);
    h.completionSample("m2", 7 * S).completionSample("m3", 7 * S);
    h.completionSample("m4", 27 * S); // stranded
    h.fault(new Fault(Fault.Kind.REDIS_PAUSE, 2 * S, 6 * S, -1, Duration.ofSeconds(10)));
    Verdict v = Checker.check(h);
    assertThat(v.violations(Rule.RECOVERY_TOO_SLOW)).hasSize(1);
    assertThat(v.recoveries().get(0).keys()).isEqualTo(3);
    assertThat(v.recoveries().get(0).resume()).isEqualTo(Duration.ofSeconds(1));
    assertThat(v.passed(Set.of(Rule.RECOVERY_TOO_SLOW))).as(v.report()).isTrue();
  }
}
