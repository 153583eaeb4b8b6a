package dev.onceflow.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything the checker reads about one run: what was published, the consumers' events, the broker
 * leftovers, the effects, and the faults. Filled in by the runner (or by hand in the checker's
 * tests); not thread-safe.
 */
public final class History {

  /** How the handler applied its effect. */
  public enum EffectMode {
    /** With the completion record, in one atomic step: exactly once. */
    TRANSACTIONAL,
    /** From the handler, before the record: at least once, re-run only by faults. */
    PLAIN
  }

  EffectMode effectMode = EffectMode.TRANSACTIONAL;
  final Set<String> published = new LinkedHashSet<>();
  final Set<String> poison = new LinkedHashSet<>();
  final Set<String> malformed = new LinkedHashSet<>();
  final List<Event> events = new ArrayList<>();
  final Map<String, String> deadLetters = new HashMap<>();
  final Set<String> leftovers = new LinkedHashSet<>();
  final Map<String, Long> effects = new HashMap<>();
  final Set<String> recordedInStore = new LinkedHashSet<>();
  final Map<String, Long> completionSamples = new HashMap<>();
  final Map<String, Long> publishedAt = new HashMap<>();
  final List<Fault> faults = new ArrayList<>();
  Duration lease = Duration.ofSeconds(30);
  boolean eventLogs = true;
  boolean leaseExpiryIsAFault = true;
  long sentCopies;

  /** The effect mode of the run. */
  public History effectMode(EffectMode mode) {
    this.effectMode = mode;
    return this;
  }

  /** A message id published to succeed. */
  public History published(String id) {
    published.add(id);
    return this;
  }

  /** A message id published with the poison header (must end dead-lettered, no effect). */
  public History poison(String id) {
    poison.add(id);
    return this;
  }

  /** A message id published with a malformed header (must end dead-lettered, no effect). */
  public History malformed(String id) {
    malformed.add(id);
    return this;
  }

  /** How many messages were sent in all, re-sent copies (same id) included. */
  public History sentCopies(long copies) {
    this.sentCopies = copies;
    return this;
  }

  /** Consumer events (any order; the checker orders them). */
  public History events(List<Event> more) {
    events.addAll(more);
    return this;
  }

  /** A dead letter found on the dead-letter destination: its message id and reason. */
  public History deadLetter(String id, String reason) {
    deadLetters.put(id, reason);
    return this;
  }

  /** A message id still on the source after the final drain. */
  public History leftover(String id) {
    leftovers.add(id);
    return this;
  }

  /** The effect count of a message id (the CLI's effects hash). */
  public History effect(String id, long count) {
    effects.put(id, count);
    return this;
  }

  /** A message id whose completion record exists in the store. */
  public History recordedInStore(String id) {
    recordedInStore.add(id);
    return this;
  }

  /**
   * When a message id was first seen completed by sampling the store, for consumers without an
   * event log (an older CLI): {@link System#nanoTime()}.
   */
  public History completionSample(String id, long nanoTime) {
    completionSamples.merge(id, nanoTime, Math::min);
    return this;
  }

  /**
   * When {@code id} was handed to the publisher ({@link System#nanoTime()}): a fault that ended
   * before cannot have interrupted it.
   */
  public History publishedAt(String id, long nanoTime) {
    publishedAt.put(id, nanoTime);
    return this;
  }

  /** A fault the runner injected (crash points are read from the event logs as well). */
  public History fault(Fault fault) {
    faults.add(fault);
    return this;
  }

  /** The lease duration the consumers used. */
  public History lease(Duration lease) {
    this.lease = lease;
    return this;
  }

  /** Whether the consumers wrote event logs (false: an older CLI, store evidence only). */
  public History eventLogs(boolean eventLogs) {
    this.eventLogs = eventLogs;
    return this;
  }

  /**
   * Whether a lease that outlived its duration counts as a fault that may re-run a plain effect
   * (default true). False for runs whose handlers are slower than the lease on purpose: heartbeats
   * must keep those leases, so a re-run is a violation.
   */
  public History leaseExpiryIsAFault(boolean fault) {
    this.leaseExpiryIsAFault = fault;
    return this;
  }

  /** The faults, in the order added. */
  public List<Fault> faults() {
    return List.copyOf(faults);
  }

  /** Every id published (normal, poison and malformed). */
  public Set<String> allIds() {
    Set<String> all = new LinkedHashSet<>(published);
    all.addAll(poison);
    all.addAll(malformed);
    return all;
  }
}
