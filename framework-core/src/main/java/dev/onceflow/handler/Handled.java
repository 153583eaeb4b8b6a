package dev.onceflow.handler;

import dev.onceflow.store.Effect;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A handler's result together with transactional effects: writes the store applies in the same
 * atomic step as the completion record, only if the lease is still current. Effects are applied
 * exactly once per key; see {@link Effect}.
 *
 * @param result the result, or null
 * @param effects the effects to commit with the record
 */
public record Handled<R>(@Nullable R result, List<Effect> effects) {

  public Handled {
    effects = List.copyOf(Objects.requireNonNull(effects, "effects"));
  }

  public static <R> Handled<R> of(@Nullable R result, Effect... effects) {
    return new Handled<>(result, List.of(effects));
  }

  public static <R> Handled<R> effects(Effect... effects) {
    return new Handled<>(null, List.of(effects));
  }
}
