package dev.onceflow.memory;

import dev.onceflow.store.Effect;
import dev.onceflow.store.EffectRejectedException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The in-memory data set that transactional effects of an {@link InMemoryIdempotencyStore} write,
 * per namespace: strings, hashes, sets and streams, as Redis types. Reads take the store's lock, so
 * they are consistent with completions.
 *
 * <p>Effects are all or nothing: every effect of a completion is checked before any is applied (a
 * key of another type, an integer that is not one, an increment that overflows a signed 64-bit
 * integer), and a completion with one effect that cannot apply is refused whole with {@link
 * EffectRejectedException}.
 */
public final class InMemoryData {
  private final Object lock;
  private final Map<String, String> strings = new HashMap<>();
  private final Map<String, Map<String, String>> hashes = new HashMap<>();
  private final Map<String, Set<String>> sets = new HashMap<>();
  private final Map<String, List<Map<String, String>>> streams = new HashMap<>();

  InMemoryData(Object lock) {
    this.lock = lock;
  }

  static String id(String namespace, String key) {
    return namespace.length() + ":" + namespace + ":" + key;
  }

  /**
   * Checks every effect against the data and the effects before it, then applies them all. Called
   * under the store's lock.
   *
   * @throws EffectRejectedException when one cannot apply; nothing was written
   */
  void apply(String ns, List<Effect> effects) {
    if (effects.isEmpty()) {
      return;
    }
    // Staged values of the strings and fields the effects touch, so that an increment is checked
    // against what the effects before it in the same completion wrote.
    Map<String, String> staged = new HashMap<>();
    Map<String, String> stagedTypes = new HashMap<>();
    for (Effect e : effects) {
      String k = id(ns, e.key());
      String want = typeOf(e);
      String type = stagedTypes.getOrDefault(k, typeOf(k));
      stagedTypes.put(k, want);
      if (type != null && !type.equals(want)) {
        throw new EffectRejectedException(
            "effect " + e + " cannot apply: key '" + e.key() + "' holds a " + type);
      }
      if (e instanceof Effect.HashIncrement hi) {
        String slot = k + '\u0000' + hi.field();
        String current =
            staged.containsKey(slot)
                ? staged.get(slot)
                : hashes.getOrDefault(k, Map.of()).get(hi.field());
        staged.put(slot, increment(current, hi.delta(), e));
      } else if (e instanceof Effect.Increment in) {
        String current = staged.containsKey(k) ? staged.get(k) : strings.get(k);
        staged.put(k, increment(current, in.delta(), e));
      } else if (e instanceof Effect.SetValue sv) {
        staged.put(k, sv.value());
      } else if (e instanceof Effect.HashSet hs) {
        staged.put(k + '\u0000' + hs.field(), hs.value());
      }
    }
    for (Effect e : effects) {
      String k = id(ns, e.key());
      if (e instanceof Effect.HashSet hs) {
        hashes.computeIfAbsent(k, x -> new LinkedHashMap<>()).put(hs.field(), hs.value());
      } else if (e instanceof Effect.HashIncrement hi) {
        Map<String, String> h = hashes.computeIfAbsent(k, x -> new LinkedHashMap<>());
        h.put(hi.field(), Long.toString(parse(h.get(hi.field())) + hi.delta()));
      } else if (e instanceof Effect.SetValue sv) {
        strings.put(k, sv.value());
      } else if (e instanceof Effect.Increment in) {
        strings.put(k, Long.toString(parse(strings.get(k)) + in.delta()));
      } else if (e instanceof Effect.SetAdd sa) {
        sets.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(sa.member());
      } else if (e instanceof Effect.StreamAdd xa) {
        streams.computeIfAbsent(k, x -> new ArrayList<>()).add(xa.fields());
      }
    }
  }

  /** {@code current + delta} as text, or a rejection when it is no integer or overflows. */
  private static String increment(@Nullable String current, long delta, Effect e) {
    long value;
    try {
      value = parse(current);
    } catch (NumberFormatException ex) {
      throw new EffectRejectedException(
          "effect " + e + " cannot apply: the value is not an integer: '" + current + "'");
    }
    try {
      return Long.toString(Math.addExact(value, delta));
    } catch (ArithmeticException ex) {
      throw new EffectRejectedException(
          "effect " + e + " cannot apply: increment or decrement would overflow (" + value + ")");
    }
  }

  private static long parse(@Nullable String s) {
    return s == null ? 0 : Long.parseLong(s);
  }

  private @Nullable String typeOf(String k) {
    if (strings.containsKey(k)) {
      return "string";
    }
    if (hashes.containsKey(k)) {
      return "hash";
    }
    if (sets.containsKey(k)) {
      return "set";
    }
    return streams.containsKey(k) ? "stream" : null;
  }

  private static String typeOf(Effect e) {
    if (e instanceof Effect.HashSet || e instanceof Effect.HashIncrement) {
      return "hash";
    }
    if (e instanceof Effect.SetValue || e instanceof Effect.Increment) {
      return "string";
    }
    return e instanceof Effect.SetAdd ? "set" : "stream";
  }

  /** The string {@code key} of {@code namespace}, or null. */
  public @Nullable String get(String namespace, String key) {
    synchronized (lock) {
      return strings.get(id(namespace, key));
    }
  }

  /** A copy of the hash {@code key} of {@code namespace} (empty when absent). */
  public Map<String, String> hash(String namespace, String key) {
    synchronized (lock) {
      return Map.copyOf(hashes.getOrDefault(id(namespace, key), Map.of()));
    }
  }

  /** A copy of the set {@code key} of {@code namespace} (empty when absent). */
  public Set<String> members(String namespace, String key) {
    synchronized (lock) {
      return Set.copyOf(sets.getOrDefault(id(namespace, key), Set.of()));
    }
  }

  /** A copy of the entries of stream {@code key} of {@code namespace}, oldest first. */
  public List<Map<String, String>> stream(String namespace, String key) {
    synchronized (lock) {
      return List.copyOf(streams.getOrDefault(id(namespace, key), List.of()));
    }
  }
}
