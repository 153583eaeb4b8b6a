package dev.onceflow.chaos;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Follows the consumers' event logs while they run (every 50 ms): the events so far, the ids that
 * completed (recorded, or acked as duplicates), and the crashes. Only whole lines are read; the
 * truncated last line of a killed consumer is never completed and so never read.
 */
final class EventTail implements AutoCloseable {

  private final Map<Path, long[]> files = new ConcurrentHashMap<>();
  private final List<Event> events = new CopyOnWriteArrayList<>();
  private final Set<String> completed = ConcurrentHashMap.newKeySet();
  private final Map<Long, Event> crashes = new ConcurrentHashMap<>();
  private final Set<Long> working = ConcurrentHashMap.newKeySet();
  private final Thread thread;
  private volatile boolean running = true;
  private long seq;

  EventTail() {
    thread =
        new Thread(
            () -> {
              while (running) {
                readAll();
                try {
                  Thread.sleep(50);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "chaos-event-tail");
    thread.setDaemon(true);
    thread.start();
  }

  void follow(Path file) {
    files.putIfAbsent(file, new long[] {0});
  }

  /** Reads what the files have now (also called once more at the end). */
  synchronized void readAll() {
    for (Map.Entry<Path, long[]> f : files.entrySet()) {
      Path path = f.getKey();
      if (!Files.exists(path)) {
        continue;
      }
      try (RandomAccessFile r = new RandomAccessFile(path.toFile(), "r")) {
        long from = f.getValue()[0];
        long length = r.length();
        if (length <= from) {
          continue;
        }
        byte[] buf = new byte[(int) Math.min(length - from, 16 << 20)];
        r.seek(from);
        r.readFully(buf);
        int lastNewline = -1;
        for (int i = buf.length - 1; i >= 0; i--) {
          if (buf[i] == '\n') {
            lastNewline = i;
            break;
          }
        }
        if (lastNewline < 0) {
          continue;
        }
        String text = new String(buf, 0, lastNewline, StandardCharsets.UTF_8);
        List<Event> batch = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
          Event e = Event.parse(line, seq++);
          if (e != null) {
            batch.add(e);
            note(e);
          }
        }
        events.addAll(batch);
        f.getValue()[0] = from + lastNewline + 1;
      } catch (IOException e) {
        // the file is being written; read again next time
      }
    }
  }

  private void note(Event e) {
    String key = e.key();
    switch (e.type()) {
      case "recorded" -> completed.add(key == null ? "" : key);
      case "acked" -> {
        if (e.detail().equals("duplicate") && key != null) {
          completed.add(key);
        }
      }
      case "crash" -> crashes.put(e.pid(), e);
      case "acquired" -> working.add(e.pid());
      default -> {}
    }
  }

  List<Event> events() {
    return List.copyOf(events);
  }

  boolean completed(String id) {
    return completed.contains(id);
  }

  int completedCount() {
    return completed.size();
  }

  /** Whether the consumer with this pid acquired at least one key. */
  boolean working(long pid) {
    return working.contains(pid);
  }

  /** The crash event a consumer wrote before it halted itself, if any. */
  Event crashOf(long pid) {
    return crashes.get(pid);
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
