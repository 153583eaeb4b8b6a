package dev.onceflow.spring.boot.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A response that is recorded before it is sent. A body up to {@code limit} bytes is gathered
 * (never more than {@code limit} plus one buffer in memory), handed to {@code recorder} with the
 * status and the selected headers, and written once the recorder's {@code Mono} completes. A larger
 * body is streamed as it comes and recorded afterwards as not retained. Streaming writes ({@code
 * writeAndFlushWith}) count as not retained.
 */
public final class CapturingResponse extends ServerHttpResponseDecorator {

  private final long limit;
  private final List<String> selectedHeaders;
  private final Function<StoredResponse, Mono<Void>> recorder;
  private final AtomicBoolean recorded = new AtomicBoolean();

  public CapturingResponse(
      ServerHttpResponse delegate,
      long limit,
      List<String> selectedHeaders,
      Function<StoredResponse, Mono<Void>> recorder) {
    super(delegate);
    this.limit = limit;
    this.selectedHeaders = List.copyOf(selectedHeaders);
    this.recorder = recorder;
  }

  @Override
  public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
    return Flux.defer(
            () -> {
              AtomicLong size = new AtomicLong();
              return Flux.<DataBuffer>from(body)
                  .bufferUntil(b -> size.addAndGet(b.readableByteCount()) > limit)
                  .doOnDiscard(DataBuffer.class, DataBufferUtils::release)
                  .switchOnFirst(
                      (first, all) -> {
                        if (!first.hasValue()) {
                          return record(new byte[0], true)
                              .then(getDelegate().writeWith(Flux.empty()));
                        }
                        List<DataBuffer> head = first.get();
                        if (bytes(head) <= limit) {
                          byte[] whole = join(head);
                          return record(whole, true)
                              .then(
                                  getDelegate()
                                      .writeWith(
                                          Mono.fromSupplier(() -> bufferFactory().wrap(whole))));
                        }
                        return getDelegate()
                            .writeWith(all.concatMapIterable(l -> l))
                            .then(Mono.defer(() -> record(new byte[0], false)));
                      });
            })
        .then();
  }

  @Override
  public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
    return getDelegate().writeAndFlushWith(body).then(Mono.defer(() -> record(new byte[0], false)));
  }

  @Override
  public Mono<Void> setComplete() {
    return Mono.defer(() -> record(new byte[0], true)).then(getDelegate().setComplete());
  }

  /**
   * Records an empty body when the handler finished without writing (the server completes the
   * response itself afterwards). Does nothing when the response was already recorded.
   */
  public Mono<Void> recordIfNotYet() {
    return Mono.defer(() -> record(new byte[0], true));
  }

  /** Whether the response was recorded (or handed to the recorder). */
  public boolean recorded() {
    return recorded.get();
  }

  private Mono<Void> record(byte[] body, boolean retained) {
    if (!recorded.compareAndSet(false, true)) {
      return Mono.empty();
    }
    HttpStatusCode status = getStatusCode();
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String name : selectedHeaders) {
      List<String> values = getHeaders().get(name);
      if (values != null && !values.isEmpty()) {
        headers.put(name, new ArrayList<>(values));
      }
    }
    return recorder.apply(
        new StoredResponse(status == null ? 200 : status.value(), headers, body, retained));
  }

  private static long bytes(List<DataBuffer> buffers) {
    long n = 0;
    for (DataBuffer b : buffers) {
      n += b.readableByteCount();
    }
    return n;
  }

  private static byte[] join(List<DataBuffer> buffers) {
    byte[] out = new byte[(int) bytes(buffers)];
    int at = 0;
    for (DataBuffer b : buffers) {
      int n = b.readableByteCount();
      b.read(out, at, n);
      at += n;
      DataBufferUtils.release(b);
    }
    return out;
  }
}
