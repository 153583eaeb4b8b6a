package dev.onceflow.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CheckTest {

  @Test
  void messagesNameTheOptionTheRuleAndTheValue() {
    assertThatThrownBy(() -> Check.positive(Duration.ZERO, "leaseTtl"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("`leaseTtl` must be positive, but was PT0S");
    assertThatThrownBy(() -> Check.positive(0, "prefetch"))
        .hasMessage("`prefetch` must be positive, but was 0");
    assertThatThrownBy(() -> Check.positive(-3L, "count"))
        .hasMessage("`count` must be positive, but was -3");
    assertThatThrownBy(() -> Check.notNegative(-1, "batch"))
        .hasMessage("`batch` must not be negative, but was -1");
    assertThatThrownBy(() -> Check.notNegative(-1L, "first"))
        .hasMessage("`first` must not be negative, but was -1");
    assertThatThrownBy(() -> Check.notNegative(Duration.ofMillis(-1), "interval"))
        .hasMessage("`interval` must not be negative, but was PT-0.001S");
    assertThatThrownBy(() -> Check.between(11, 1, 10, "deleteBatchSize"))
        .hasMessage("`deleteBatchSize` must be between 1 and 10, but was 11");
    assertThatThrownBy(
            () ->
                Check.between(
                    Duration.ofSeconds(21), Duration.ZERO, Duration.ofSeconds(20), "waitTime"))
        .hasMessage("`waitTime` must be between PT0S and PT20S, but was PT21S");
    assertThatThrownBy(() -> Check.fraction(1.0, "heartbeatFraction"))
        .hasMessage("`heartbeatFraction` must be greater than 0 and lower than 1, but was 1.0");
    assertThatThrownBy(() -> Check.notBlank(" ", "topic"))
        .hasMessage("`topic` must not be blank, but was ' '");
    assertThatThrownBy(() -> Check.required(null, "groupId", "offsets are committed per group"))
        .hasMessage("`groupId` is required: offsets are committed per group");
    assertThatThrownBy(() -> Check.required(null, "topic", "")).hasMessage("`topic` is required");
    assertThatThrownBy(() -> Check.exactlyOne("uri", false, "connectionFactory", false))
        .hasMessage("exactly one of `uri` and `connectionFactory` must be set, but neither was");
    assertThatThrownBy(() -> Check.exactlyOne("uri", true, "connectionFactory", true))
        .hasMessage("exactly one of `uri` and `connectionFactory` must be set, but both were");
  }

  @Test
  void nullIsANullPointerExceptionNamingTheOption() {
    assertThatThrownBy(() -> Check.notBlank(null, "queue"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("queue");
    assertThatThrownBy(() -> Check.positive((Duration) null, "ttl"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("ttl");
    assertThatThrownBy(() -> Check.notNull(null, "client"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("client");
  }

  @Test
  void validValuesAreReturnedAsTheyAre() {
    Duration d = Duration.ofSeconds(5);
    assertThat(Check.positive(d, "d")).isSameAs(d);
    assertThat(Check.notNegative(Duration.ZERO, "d")).isEqualTo(Duration.ZERO);
    assertThat(Check.between(d, Duration.ZERO, d, "d")).isSameAs(d);
    assertThat(Check.positive(1, "n")).isEqualTo(1);
    assertThat(Check.notNegative(0L, "n")).isZero();
    assertThat(Check.between(10, 1, 10, "n")).isEqualTo(10);
    assertThat(Check.fraction(0.5, "f")).isEqualTo(0.5);
    assertThat(Check.notBlank("orders", "topic")).isEqualTo("orders");
    assertThat(Check.required("x", "x", "")).isEqualTo("x");
    Check.exactlyOne("a", true, "b", false);
    Check.exactlyOne("a", false, "b", true);
  }
}
