package dev.onceflow.engine;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.engine.EngineConfig.DedupConfig;
import dev.onceflow.store.Guard;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.Exceptions;

/**
 * Finds a delivery's key, guard and (when the user opted in) fingerprint, or why it has none. Runs
 * the user's key and fingerprint functions; what they throw rejects that message only.
 */
final class KeyResolver {

  /** What resolving gave. */
  sealed interface Resolution {}

  /** A usable key. */
  record Key(String key, @Nullable Guard guard, @Nullable String fingerprint)
      implements Resolution {}

  /** No usable key: the message is dead-lettered without a lease. */
  record Reject(DeadLetterReason reason, @Nullable String exceptionClass, String message)
      implements Resolution {}

  private final @Nullable DedupConfig dedup;

  KeyResolver(@Nullable DedupConfig dedup) {
    this.dedup = dedup;
  }

  Resolution resolve(Envelope e) {
    DedupConfig d = dedup;
    if (d == null) {
      String id = e.messageId();
      if (id == null) {
        id = Digests.originId(e);
      }
      return new Key(id == null ? Digests.payloadId(e) : id, null, null);
    }
    Resolution r;
    try {
      r = keyOf(d, e);
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      return new Reject(
          DeadLetterReason.INVALID_KEY,
          t.getClass().getName(),
          "the key function failed: " + t.getMessage());
    }
    if (!(r instanceof Key k)) {
      return r;
    }
    if (utf8Length(k.key(), d.maxKeyBytes()) > d.maxKeyBytes()) {
      return new Reject(
          DeadLetterReason.INVALID_KEY,
          null,
          "the key is "
              + utf8Length(k.key(), Integer.MAX_VALUE)
              + " bytes long, over the limit of "
              + d.maxKeyBytes()
              + " bytes (Dedup.maxKeyBytes)");
    }
    Function<Envelope, byte[]> fp = d.fingerprint();
    if (fp == null) {
      return k;
    }
    try {
      byte[] bytes = Objects.requireNonNull(fp.apply(e), "the fingerprint function returned null");
      return new Key(k.key(), k.guard(), Digests.fingerprint(bytes));
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      return new Reject(
          DeadLetterReason.INVALID_KEY,
          t.getClass().getName(),
          "the fingerprint function failed: " + t.getMessage());
    }
  }

  private static Resolution keyOf(DedupConfig d, Envelope e) {
    switch (d.strategy()) {
      case ENTITY_VERSION -> {
        String entity = e.entityKey();
        Long version = e.version();
        return entity == null || version == null
            ? missing(e, "entity key or version")
            : new Key("version:" + entity, Guard.version(version), null);
      }
      case PRODUCER_SEQUENCE -> {
        String producer = e.producerId();
        Long seq = e.sequence();
        if (producer == null || seq == null) {
          return missing(e, "producer id or sequence");
        }
        if (e.redrive()) {
          // A redriven sequence may be far behind the guard: it is deduplicated on its own.
          return new Key("producer:" + producer + ":" + seq, null, null);
        }
        if (seq < d.firstSequence()) {
          return new Reject(
              DeadLetterReason.INVALID_KEY,
              null,
              "sequence " + seq + " is below the producer's first sequence " + d.firstSequence());
        }
        return new Key(
            "producer:" + producer, Guard.sequence(seq, d.firstSequence(), d.gapTimeout()), null);
      }
      default -> {
        String key;
        if (d.strategy() == EngineConfig.Strategy.CUSTOM_KEY) {
          key = Objects.requireNonNull(d.keyFunction()).apply(e);
        } else {
          key = e.messageId();
        }
        if (key == null || key.isBlank()) {
          key =
              switch (d.missingId()) {
                case DEAD_LETTER -> null;
                case DERIVE_FROM_PAYLOAD -> Digests.payloadId(e);
                case DERIVE_FROM_ORIGIN -> Digests.originId(e);
              };
        }
        return key == null
            ? missing(e, d.strategy() == EngineConfig.Strategy.CUSTOM_KEY ? "key" : "message id")
            : new Key(key, null, null);
      }
    }
  }

  private static Reject missing(Envelope e, String what) {
    String malformation = e.malformation();
    if (malformation != null) {
      // The key is missing because a header that carries it could not be read.
      return new Reject(DeadLetterReason.DECODE_FAILED, "MalformedHeaders", malformation);
    }
    return new Reject(
        DeadLetterReason.MISSING_ID,
        null,
        "the message has no " + what + " and the pipeline does not derive one");
  }

  /** The UTF-8 length of {@code s}, exact up to {@code limit} (and a bound beyond). */
  private static int utf8Length(String s, int limit) {
    if (s.length() * 3L <= limit) {
      return s.length();
    }
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
