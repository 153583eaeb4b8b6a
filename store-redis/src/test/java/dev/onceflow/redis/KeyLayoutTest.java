package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.onceflow.redis.internal.KeyLayout;
import io.lettuce.core.cluster.SlotHash;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyLayoutTest {

  private static final List<String> KEYS =
      List.of("", "a", "}", "}x{", "~", "~~", "~a", "{a}", "a}b", "{", "x{y}z", "ключ");

  @Test
  void allKeysOfOneMessageShareOneSlotWhateverTheKey() {
    KeyLayout layout = new KeyLayout("p");
    for (String k : KEYS) {
      int slot = SlotHash.getSlot(layout.leaseKey("ns", k));
      assertThat(SlotHash.getSlot(layout.fenceKey("ns", k))).as(k).isEqualTo(slot);
      assertThat(SlotHash.getSlot(layout.recordKey("ns", k))).as(k).isEqualTo(slot);
      String colocated = layout.effectKey("ns", RedisIdempotencyStore.colocated("total", k));
      assertThat(SlotHash.getSlot(colocated)).as(k).isEqualTo(slot);
    }
  }

  @Test
  void theHashTagEncodingIsInjective() {
    Set<String> seen = new HashSet<>();
    for (String k : KEYS) {
      assertThat(seen.add(new KeyLayout("p").leaseKey("ns", k))).as(k).isTrue();
      assertThat(KeyLayout.tag(k)).isNotEmpty().doesNotStartWith("}");
    }
  }

  @Test
  void keysAreNamespacedUnderThePrefix() {
    KeyLayout layout = new KeyLayout("onceflow");
    assertThat(layout.leaseKey("orders", "m-1")).isEqualTo("onceflow:orders:{m-1}:l");
    assertThat(layout.fenceKey("orders", "m-1")).isEqualTo("onceflow:orders:{m-1}:f");
    assertThat(layout.recordKey("orders", "m-1")).isEqualTo("onceflow:orders:{m-1}:r");
    assertThat(layout.effectKey("orders", "totals")).isEqualTo("onceflow:orders:totals");
  }

  @Test
  void namespacesWithBracesAreRefused() {
    assertThatThrownBy(() -> KeyLayout.checkNamespace("a{b}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RedisIdempotencyStore.colocated("a{", "k"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
