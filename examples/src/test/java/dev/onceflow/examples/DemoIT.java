package dev.onceflow.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.examples.internal.StoreChoice;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DemoIT {

  @Test
  void demoBalancesItsLedgerOnARealKafkaBroker() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    // The in-memory fallback: the README's demo command covers Redis, and the CLI ITs use it too.
    int code = Demo.run(out, StoreChoice::inMemory);
    String text = bytes.toString(StandardCharsets.UTF_8);
    System.out.println(text);
    assertThat(code).as(text).isZero();
    // No "progress: " line is required: the demo prints one per second of consuming, and on a fast
    // machine the whole run takes less than a second.
    assertThat(text)
        .contains("crash: consumer-1 killed mid-stream")
        .contains("effects applied")
        .contains(
            String.format("%,d orders exactly once, 0 more than once", Demo.ORDERS - Demo.POISON))
        .contains("in-memory store")
        .contains("ledger balanced");
    // The real speed after warm-up, measured by the demo (its value depends on the machine).
    assertThat(text)
        .containsPattern(
            "(?m)^throughput after warm-up: \\d{1,3}(,\\d{3})* msgs/s \\(\\d{1,3}(,\\d{3})*"
                + " messages, \\d+\\.\\d{2} s\\)$");
  }
}
