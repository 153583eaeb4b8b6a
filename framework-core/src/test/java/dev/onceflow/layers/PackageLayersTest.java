package dev.onceflow.layers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages of framework-core form layers with no arrow back up: the public DSL ({@code
 * pipeline}) sits above the engine, the engine above the SPIs and values. And no file of the module
 * is longer than 400 lines.
 */
class PackageLayersTest {

  private static final Path SOURCES = Path.of("src/main/java/dev/onceflow");

  /** What each package may import from dev.onceflow (besides itself). */
  private static final Map<String, Set<String>> ALLOWED =
      Map.of(
          "core", Set.of(),
          "store", Set.of(),
          "deadletter", Set.of("core"),
          "handler", Set.of("core", "store"),
          "outcome", Set.of("core", "deadletter", "store"),
          "memory", Set.of("core", "deadletter", "store"),
          "engine", Set.of("core", "deadletter", "store", "handler", "outcome"),
          "pipeline",
              Set.of("core", "deadletter", "store", "handler", "outcome", "engine", "memory"));

  private static final Pattern IMPORT =
      Pattern.compile("^import (?:static )?dev\\.onceflow\\.([a-z]+)\\.", Pattern.MULTILINE);

  private static List<Path> sources() throws IOException {
    try (Stream<Path> s = Files.walk(SOURCES)) {
      return s.filter(p -> p.toString().endsWith(".java")).toList();
    }
  }

  @Test
  void noPackageImportsALayerAboveIt() throws IOException {
    List<String> violations = new ArrayList<>();
    for (Path file : sources()) {
      String pkg = SOURCES.relativize(file).getName(0).toString();
      assertThat(ALLOWED).as("a known package: " + pkg).containsKey(pkg);
      Matcher m = IMPORT.matcher(Files.readString(file));
      while (m.find()) {
        String imported = m.group(1);
        if (!imported.equals(pkg) && !ALLOWED.get(pkg).contains(imported)) {
          violations.add(SOURCES.relativize(file) + " imports dev.onceflow." + imported);
        }
      }
    }
    assertThat(violations).isEmpty();
  }

  @Test
  void noFileIsLongerThanFourHundredLines() throws IOException {
    List<String> tooLong = new ArrayList<>();
    for (Path file : sources()) {
      long lines = Files.readAllLines(file).size();
      if (lines > 400) {
        tooLong.add(SOURCES.relativize(file) + ": " + lines);
      }
    }
    assertThat(tooLong).isEmpty();
  }
}
