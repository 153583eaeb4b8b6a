package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.onceflow.redis.internal.KeyLayout;
import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyLayoutTest {

  private static final List<String> KEYS =
      List.of(
          "",
          "a",
          "}",
          "}x{",
          "~",
          "~~",
          "~a",
          "{a}",
          "a}b",
          "{",
          "x{y}z",
          "x{}y",
          "x{{a}",
          "{user}:7",
          "ключ",
          "a:b:c",
          " ");

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void aColocatedEffectKeySharesTheMessageKeysSlotWhateverTheKey() {
    KeyLayout layout = new KeyLayout("p");
    for (String k : KEYS) {
      int slot = SlotHash.getSlot(layout.messageKey("ns", k));
      byte[] colocated = layout.effectKey("ns", RedisIdempotencyStore.colocated("total", k));
      assertThat(SlotHash.getSlot(colocated)).as(k).isEqualTo(slot);
    }
  }

  @Test
  void aMessageKeysOwnHashTagAfterItsFirstCharacterDecidesItsSlot() {
    KeyLayout layout = new KeyLayout("p");
    assertThat(SlotHash.getSlot(layout.messageKey("ns", "batch-3{max}")))
        .isEqualTo(SlotHash.getSlot("n3:{max}".getBytes(StandardCharsets.UTF_8)));
    assertThat(SlotHash.getSlot(layout.messageKey("ns", "{a}")))
        .isEqualTo(SlotHash.getSlot("seen:{{a}}".getBytes(StandardCharsets.UTF_8)));
    assertThat(SlotHash.getSlot(layout.messageKey("ns", "order-1")))
        .isEqualTo(SlotHash.getSlot("order-1".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void theEncodingIsInjectiveAndNeverMeetsAnEffectKey() {
    KeyLayout layout = new KeyLayout("p");
    Set<String> seen = new HashSet<>();
    for (String k : KEYS) {
      String redisKey = text(layout.messageKey("ns", k));
      assertThat(seen.add(redisKey)).as(k).isTrue();
      assertThat(redisKey).as(k).startsWith("p:ns:{");
      assertThat(KeyLayout.slotTag(k)).as(k).isNotEmpty().doesNotContain("}");
    }
  }

  @Test
  void keysAreNamespacedUnderThePrefix() {
    KeyLayout layout = new KeyLayout("onceflow");
    assertThat(text(layout.messageKey("orders", "m-1"))).isEqualTo("onceflow:orders:{m-1}");
    assertThat(text(layout.messageKey("orders", "m{u7}"))).isEqualTo("onceflow:orders:{u7}:m{u7}");
    assertThat(text(layout.messageKey("orders", "a}b"))).isEqualTo("onceflow:orders:{a}:a}b");
    assertThat(text(layout.messageKey("orders", ""))).isEqualTo("onceflow:orders:{~}");
    assertThat(text(layout.effectKey("orders", "totals"))).isEqualTo("onceflow:orders:totals");
  }

  @Test
  void namespacesWithBracesAreRefused() {
    assertThatThrownBy(() -> KeyLayout.checkNamespace("a{b}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new KeyLayout("p").messageKey("a{b}", "k"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RedisIdempotencyStore.colocated("a{", "k"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
