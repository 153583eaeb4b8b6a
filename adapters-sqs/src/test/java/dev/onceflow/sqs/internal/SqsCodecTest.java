package dev.onceflow.sqs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

class SqsCodecTest {

  private static Map<String, String> headers(int count) {
    Map<String, String> h = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      h.put("h-" + i, "v" + i);
    }
    return h;
  }

  @Test
  void upToTenHeadersTravelAsAttributesOfTheirOwn() {
    Map<String, MessageAttributeValue> a = SqsCodec.toAttributes(headers(10));

    assertThat(a).hasSize(10).doesNotContainKey(SqsCodec.PACKED_HEADERS);
    assertThat(a.get("h-9").stringValue()).isEqualTo("v9");
    assertThat(a.get("h-9").dataType()).isEqualTo("String");
  }

  @Test
  void moreThanTenHeadersKeepTheFirstNineAndPackTheRest() {
    Map<String, MessageAttributeValue> a = SqsCodec.toAttributes(headers(25));

    assertThat(a).hasSize(10).containsKey(SqsCodec.PACKED_HEADERS);
    assertThat(a).containsKeys("h-0", "h-8").doesNotContainKey("h-9");
    List<String> problems = new ArrayList<>();
    assertThat(SqsCodec.toHeaders(a, problems)).isEqualTo(headers(25));
    assertThat(problems).isEmpty();
  }

  @Test
  void headersSqsCannotCarryAsAttributesArePackedAndRoundTrip() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("onceflow-id", "1");
    h.put("with space", "x");
    h.put("AWS.reserved", "y");
    h.put("empty", "");
    h.put("control", "a\u0000b");
    h.put("unicode-ü", "&=%+ é");

    Map<String, MessageAttributeValue> a = SqsCodec.toAttributes(h);

    assertThat(a).containsOnlyKeys("onceflow-id", SqsCodec.PACKED_HEADERS);
    assertThat(SqsCodec.toHeaders(a, new ArrayList<>())).isEqualTo(h);
  }

  @Test
  void plainAttributesWinOverPackedOnesAndBinaryAttributesAreSkipped() {
    Map<String, MessageAttributeValue> a = new LinkedHashMap<>();
    a.put(
        SqsCodec.PACKED_HEADERS,
        MessageAttributeValue.builder().dataType("String").stringValue("k=packed&z=1").build());
    a.put("k", MessageAttributeValue.builder().dataType("String").stringValue("plain").build());
    a.put("n", MessageAttributeValue.builder().dataType("Number").stringValue("12").build());
    a.put(
        "b",
        MessageAttributeValue.builder()
            .dataType("Binary")
            .binaryValue(software.amazon.awssdk.core.SdkBytes.fromUtf8String("x"))
            .build());

    Map<String, String> h = SqsCodec.toHeaders(a, new ArrayList<>());

    assertThat(h).containsEntry("k", "plain").containsEntry("z", "1").containsEntry("n", "12");
    assertThat(h).doesNotContainKey("b");
  }

  @Test
  void malformedPackedHeadersAreReportedNotThrown() {
    Map<String, MessageAttributeValue> a =
        Map.of(
            SqsCodec.PACKED_HEADERS,
            MessageAttributeValue.builder().dataType("String").stringValue("novalue").build());
    List<String> problems = new ArrayList<>();

    assertThat(SqsCodec.toHeaders(a, problems)).isEmpty();
    assertThat(problems).singleElement().asString().contains(SqsCodec.PACKED_HEADERS);
  }

  @Test
  void textPayloadTravelsAsIsAndBinaryAsBase64() {
    SqsCodec.Body text = SqsCodec.toBody("héllo {}".getBytes(StandardCharsets.UTF_8));
    assertThat(text.base64()).isFalse();
    assertThat(text.text()).isEqualTo("héllo {}");

    byte[] binary = {(byte) 0xc3, 0x28, 0};
    SqsCodec.Body b = SqsCodec.toBody(binary);
    assertThat(b.base64()).isTrue();
    assertThat(SqsCodec.fromBody(b.text(), true)).isEqualTo(binary);

    SqsCodec.Body nul = SqsCodec.toBody(new byte[] {'a', 0});
    assertThat(nul.base64()).as("U+0000 is valid UTF-8 but not SQS text").isTrue();
  }

  @Test
  void fifoIdsKeepShortPrintableValuesAndHashTheRest() {
    assertThat(SqsCodec.fifoId("order-1")).isEqualTo("order-1");
    assertThat(SqsCodec.fifoId("with space")).hasSize(64).isEqualTo(SqsCodec.fifoId("with space"));
    assertThat(SqsCodec.fifoId("x".repeat(129))).hasSize(64);
    assertThat(SqsCodec.fifoId("x".repeat(128))).isEqualTo("x".repeat(128));
  }
}
