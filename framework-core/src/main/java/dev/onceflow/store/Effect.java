package dev.onceflow.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A transactional effect: a write the store applies in the same atomic step as the {@link
 * RecordedOutcome#PROCESSED} record, and only while the completing lease is still current. An
 * effect is therefore applied exactly once per key, whatever crashes, lease expiries or
 * redeliveries happen around it.
 *
 * <p>Effect keys are names inside the pipeline's namespace; each store maps them into its own
 * keyspace (see the store's documentation) and refuses, with {@link EffectRejectedException}, keys
 * it cannot write atomically with the record (Redis Cluster: a key outside the message key's hash
 * slot).
 */
public sealed interface Effect {

  /** The effect's key, inside the namespace. */
  String key();

  /** Sets {@code field} of the hash {@code key} to {@code value}. */
  record HashSet(String key, String field, String value) implements Effect {
    public HashSet {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(field, "field");
      Objects.requireNonNull(value, "value");
    }
  }

  /** Adds {@code delta} to the integer {@code field} of the hash {@code key}. */
  record HashIncrement(String key, String field, long delta) implements Effect {
    public HashIncrement {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(field, "field");
    }
  }

  /** Sets the string {@code key} to {@code value}. */
  record SetValue(String key, String value) implements Effect {
    public SetValue {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /** Adds {@code delta} to the integer at {@code key}. */
  record Increment(String key, long delta) implements Effect {
    public Increment {
      Objects.requireNonNull(key, "key");
    }
  }

  /** Adds {@code member} to the set {@code key}. */
  record SetAdd(String key, String member) implements Effect {
    public SetAdd {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(member, "member");
    }
  }

  /** Appends an entry with {@code fields} to the stream {@code key}. */
  record StreamAdd(String key, Map<String, String> fields) implements Effect {
    public StreamAdd {
      Objects.requireNonNull(key, "key");
      fields = Map.copyOf(new LinkedHashMap<>(Objects.requireNonNull(fields, "fields")));
      if (fields.isEmpty()) {
        throw new IllegalArgumentException("fields of a stream entry must not be empty");
      }
    }
  }

  static Effect hset(String key, String field, String value) {
    return new HashSet(key, field, value);
  }

  static Effect hincrBy(String key, String field, long delta) {
    return new HashIncrement(key, field, delta);
  }

  static Effect set(String key, String value) {
    return new SetValue(key, value);
  }

  static Effect incrBy(String key, long delta) {
    return new Increment(key, delta);
  }

  static Effect sadd(String key, String member) {
    return new SetAdd(key, member);
  }

  static Effect xadd(String key, Map<String, String> fields) {
    return new StreamAdd(key, fields);
  }
}
