package dev.onceflow.chaos;

import dev.onceflow.chaos.Verdict.Rule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Checks a {@link History} against onceflow's rules. Pure: no I/O, no clock.
 *
 * <ul>
 *   <li><b>Ack after record</b>: an {@code acked} processed (or dead-lettered) delivery follows, in
 *       the same process, a {@code recorded} of the same key and fence.
 *   <li><b>One completion per key</b>: at most one {@code recorded} per key over all consumers.
 *   <li><b>No stale fence</b>: no {@code recorded} of fence f after an {@code acquired} of a higher
 *       fence on the same key.
 *   <li><b>Nothing lost</b>: every published id ends recorded, acked as duplicate, recorded in the
 *       store, or on the dead-letter destination.
 *   <li><b>Poison and malformed</b> messages end on the dead-letter destination, without effect.
 *   <li><b>Transactional effects</b> exactly once per id; <b>plain effects</b> at least once and at
 *       most 1 + (faults that hit the key): leases abandoned by a killed consumer, leases that
 *       overlapped a store fault or outlived the lease duration (unless the run says heartbeats
 *       must keep leases alive), and handler attempts that failed during a store fault.
 *   <li><b>Recovery</b>: after each fault, the keys it interrupted (delivered before its end, not
 *       completed at its start) complete within the fault's bound after its end. Keys that complete
 *       after the next fault began are counted against that one.
 * </ul>
 */
public final class Checker {

  /** How long after a store fault a timed-out call may still land. */
  static final Duration STORE_FAULT_GRACE = Duration.ofSeconds(5);

  private Checker() {}

  private record Lease(long pid, String key, long fence) {}

  /** Checks {@code h}. */
  public static Verdict check(History h) {
    Verdict v = new Verdict();
    List<Event> events = new ArrayList<>(h.events);
    events.sort(Comparator.comparingLong(Event::t).thenComparingLong(Event::seq));
    v.events = events.size();
    v.messages = h.allIds().size();
    v.sentCopies = h.sentCopies;
    List<Fault> faults = new ArrayList<>(h.faults);
    Set<Long> killed = new HashSet<>();
    for (Fault f : faults) {
      if (!f.kind().hitsStore()) {
        killed.add(f.pid());
      }
    }
    for (Event e : events) {
      if (e.type().equals("crash")) {
        killed.add(e.pid());
      }
    }

    Map<String, Long> completion = new HashMap<>(h.completionSamples);
    Map<Lease, Long> acquiredAt = new HashMap<>();
    Map<Lease, Long> lastSeen = new HashMap<>();
    Set<Lease> recorded = new HashSet<>();
    Set<Lease> started = new HashSet<>();
    Map<String, TreeSet<Long>> fencesByKey = new HashMap<>();
    Map<String, List<Event>> acquisitions = new HashMap<>();
    Map<String, Integer> records = new HashMap<>();
    Map<String, Set<Long>> deadLetteredBy = new HashMap<>();
    Map<String, Long> currentFence = new HashMap<>();
    Map<String, Long> firstDelivered = new HashMap<>();
    Map<String, Integer> attemptsInStoreFault = new HashMap<>();
    Map<String, Long> attemptStarted = new HashMap<>();
    for (Event e : events) {
      String key = e.key();
      if (e.id() != null && (e.type().equals("delivered") || e.type().equals("acquired"))) {
        firstDelivered.merge(e.id(), e.t(), Math::min);
      }
      if (key == null) {
        continue;
      }
      String pidKey = e.pid() + "\u0000" + key;
      if (e.type().equals("acquired")) {
        currentFence.put(pidKey, e.fence());
      }
      long fence = e.fence() >= 0 ? e.fence() : currentFence.getOrDefault(pidKey, -1L);
      Lease lease = new Lease(e.pid(), key, fence);
      if (fence >= 0) {
        lastSeen.merge(lease, e.t(), Math::max);
      }
      switch (e.type()) {
        case "acquired" -> {
          acquiredAt.put(lease, e.t());
          acquisitions.computeIfAbsent(key, k -> new ArrayList<>()).add(e);
          fencesByKey.computeIfAbsent(key, k -> new TreeSet<>()).add(e.fence());
        }
        case "started" -> {
          started.add(lease);
          attemptStarted.put(lease + "/" + e.detail(), e.t());
        }
        case "finished" -> {
          String attempt = e.detail().substring(0, Math.max(0, e.detail().indexOf(',')));
          Long from = attemptStarted.get(lease + "/" + attempt);
          if (overlapsStoreFault(faults, from == null ? e.t() : from, e.t())) {
            attemptsInStoreFault.merge(key, 1, Integer::sum);
          }
        }
        case "recorded" -> {
          recorded.add(lease);
          int n = records.merge(key, 1, Integer::sum);
          if (n > 1) {
            v.violate(Rule.TWO_COMPLETIONS, "key " + key + " recorded " + n + " times");
          }
          if (e.detail().equals("DEAD_LETTERED")) {
            deadLetteredBy.computeIfAbsent(key, k -> new HashSet<>()).add(e.pid());
          }
          completion.merge(key, e.t(), Math::min);
          for (Event a : acquisitions.getOrDefault(key, List.of())) {
            if (a.fence() > e.fence() && a.t() < e.t()) {
              v.violate(
                  Rule.STALE_FENCE,
                  "key "
                      + key
                      + " recorded under fence "
                      + e.fence()
                      + " by pid "
                      + e.pid()
                      + " after fence "
                      + a.fence()
                      + " was granted to pid "
                      + a.pid());
              break;
            }
          }
        }
        case "acked" -> {
          if (e.detail().equals("duplicate")) {
            completion.merge(key, e.t(), Math::min);
          } else if (e.detail().equals("processed")) {
            if (!recorded.contains(lease)) {
              v.violate(
                  Rule.ACK_BEFORE_RECORD,
                  "pid " + e.pid() + " acked key " + key + " fence " + e.fence() + " unrecorded");
            }
          } else if (e.detail().equals("dead-lettered")) {
            if (!deadLetteredBy.getOrDefault(key, Set.of()).contains(e.pid())) {
              v.violate(
                  Rule.ACK_BEFORE_RECORD,
                  "pid " + e.pid() + " acked dead-lettered key " + key + " unrecorded");
            }
          }
        }
        default -> {}
      }
    }
    v.recordsLost = records.values().stream().filter(n -> n > 1).count();

    // Nothing lost; poison and malformed end dead-lettered without effect.
    Set<String> finished = new HashSet<>(completion.keySet());
    finished.addAll(h.recordedInStore);
    for (String id : h.allIds()) {
      if (!finished.contains(id) && !h.deadLetters.containsKey(id)) {
        v.lost++;
        v.violate(
            Rule.LOST,
            "id "
                + id
                + " never completed"
                + (h.leftovers.contains(id) ? " (still on the source)" : ""));
      }
    }
    for (String id : union(h.poison, h.malformed)) {
      long effect = h.effects.getOrDefault(id, 0L);
      if (!h.deadLetters.containsKey(id)) {
        v.violate(Rule.POISON_NOT_DEAD_LETTERED, "id " + id + " is not on the dead-letter queue");
      } else if (effect != 0) {
        v.violate(
            Rule.POISON_NOT_DEAD_LETTERED, "id " + id + " dead-lettered with effect " + effect);
      }
    }

    // Effects.
    long maxRuns = 0;
    Map<String, Integer> runs = new HashMap<>();
    for (Lease l : started) {
      maxRuns = Math.max(maxRuns, runs.merge(l.key(), 1, Integer::sum));
    }
    for (String id : h.published) {
      long effect = h.effects.getOrDefault(id, 0L);
      if (!h.eventLogs) {
        maxRuns = Math.max(maxRuns, effect);
      }
      if (h.effectMode == History.EffectMode.TRANSACTIONAL) {
        if (effect > 1) {
          v.doubledTransactional++;
        }
        if (effect == 0) {
          v.effectsMissing++;
        }
        if (effect != 1) {
          v.violate(
              Rule.TRANSACTIONAL_NOT_ONCE, "id " + id + " effect applied " + effect + " times");
        }
      } else {
        if (effect > 1) {
          v.doubledPlain++;
        }
        if (effect == 0) {
          v.effectsMissing++;
        }
        int hits =
            faultHits(id, acquisitions, recorded, acquiredAt, lastSeen, killed, faults, h)
                + attemptsInStoreFault.getOrDefault(id, 0);
        if (effect < 1 || (h.eventLogs && effect > 1 + hits)) {
          v.violate(
              Rule.PLAIN_OVER_BOUND,
              "id "
                  + id
                  + " plain effect applied "
                  + effect
                  + " times, faults that hit it "
                  + hits);
        }
      }
    }
    v.maxRunsPerKey = maxRuns;

    recoveries(h, v, faults, completion, firstDelivered);
    return v;
  }

  private static boolean overlapsStoreFault(List<Fault> faults, long from, long to) {
    for (Fault f : faults) {
      if (f.kind().hitsStore()
          && to >= f.start()
          && from <= f.end() + STORE_FAULT_GRACE.toNanos()) {
        return true;
      }
    }
    return false;
  }

  private static int faultHits(
      String key,
      Map<String, List<Event>> acquisitions,
      Set<Lease> recorded,
      Map<Lease, Long> acquiredAt,
      Map<Lease, Long> lastSeen,
      Set<Long> killed,
      List<Fault> faults,
      History h) {
    int hits = 0;
    for (Event a : acquisitions.getOrDefault(key, List.of())) {
      Lease l = new Lease(a.pid(), key, a.fence());
      if (recorded.contains(l)) {
        continue;
      }
      long from = Objects.requireNonNull(acquiredAt.get(l));
      long to = lastSeen.getOrDefault(l, from);
      boolean storeFault = false;
      for (Fault f : faults) {
        storeFault |=
            f.kind().hitsStore()
                && from <= f.end() + STORE_FAULT_GRACE.toNanos()
                && to >= f.start() - STORE_FAULT_GRACE.toNanos();
      }
      boolean outlived = h.leaseExpiryIsAFault && to - from > h.lease.toNanos();
      if (killed.contains(a.pid()) || storeFault || outlived) {
        hits++;
      }
    }
    return hits;
  }

  private static void recoveries(
      History h,
      Verdict v,
      List<Fault> faults,
      Map<String, Long> completion,
      Map<String, Long> firstDelivered) {
    faults.sort(Comparator.comparingLong(Fault::start));
    for (int i = 0; i < faults.size(); i++) {
      Fault f = faults.get(i);
      long nextStart = i + 1 < faults.size() ? faults.get(i + 1).start() : Long.MAX_VALUE;
      long worst = 0;
      boolean never = false;
      int keys = 0;
      @Nullable Long firstAfter = null;
      for (Long c : completion.values()) {
        if (c > f.end() && (firstAfter == null || c < firstAfter)) {
          firstAfter = c;
        }
      }
      for (String id : h.allIds()) {
        Long done = completion.get(id);
        if (done != null && done < f.start()) {
          continue;
        }
        Long published = h.publishedAt.get(id);
        if (published != null && published > f.end()) {
          continue;
        }
        if (h.eventLogs) {
          Long seen = firstDelivered.get(id);
          if (seen == null || seen > f.end()) {
            continue;
          }
        }
        if (done != null && done >= nextStart) {
          continue;
        }
        if (done == null && h.deadLetters.containsKey(id)) {
          continue;
        }
        keys++;
        if (done == null) {
          never = true;
        } else {
          worst = Math.max(worst, done - f.end());
        }
      }
      Duration recovery = never ? null : Duration.ofNanos(worst);
      Duration resume = firstAfter == null ? null : Duration.ofNanos(firstAfter - f.end());
      v.recoveries.add(new Verdict.Recovery(f, resume, recovery, keys));
      if (recovery == null || recovery.compareTo(f.recoveryBound()) > 0) {
        v.violate(
            Rule.RECOVERY_TOO_SLOW,
            String.format(
                "%s (pid %d): %d interrupted keys took %s to complete after it ended, bound %s",
                f.kind(),
                f.pid(),
                keys,
                Verdict.seconds(recovery),
                Verdict.seconds(f.recoveryBound())));
      }
    }
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new HashSet<>(a);
    u.addAll(b);
    return u;
  }
}
