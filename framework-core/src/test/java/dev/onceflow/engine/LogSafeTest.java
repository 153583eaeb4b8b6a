package dev.onceflow.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogSafeTest {

  @Test
  void controlCharactersInKeysAreEscapedSoALogLineCannotBeForged() {
    assertThat(LogSafe.key("order-1\n12:00:00 INFO forged line\r\u001b[31m"))
        .isEqualTo("order-1\\u000a12:00:00 INFO forged line\\u000d\\u001b[31m")
        .doesNotContain("\n", "\r");
  }

  @Test
  void longKeysAreCutWithTheirLength() {
    assertThat(LogSafe.key("k".repeat(5000))).hasSize(200 + "...(5000 chars)".length());
    assertThat(LogSafe.key(null)).isEqualTo("<none>");
  }
}
