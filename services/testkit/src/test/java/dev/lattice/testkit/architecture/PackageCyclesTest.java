package dev.lattice.testkit.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackageCyclesTest {

  @TempDir Path root;

  @Test
  void aCycleThroughThreePackagesIsReportedAsItsPath() throws IOException {
    source("a/A.java", "package x.a;\nimport x.b.B;\nclass A {}");
    source("b/B.java", "package x.b;\nimport static x.c.C.helper;\nclass B {}");
    source("c/C.java", "package x.c;\nimport x.a.*;\nclass C {}");
    source("d/D.java", "package x.d;\nimport x.a.A;\nimport java.util.List;\nclass D {}");

    assertThat(PackageCycles.in(root)).containsExactly("x.a -> x.b -> x.c -> x.a");
  }

  @Test
  void aTreeOfPackagesHasNoCycle() throws IOException {
    source("a/A.java", "package x.a;\nimport x.b.B;\nimport x.b.inner.Deep.Nested;\nclass A {}");
    source("b/B.java", "package x.b;\nimport x.b.inner.Deep;\nclass B {}");
    source("b/inner/Deep.java", "package x.b.inner;\nimport org.other.Thing;\nclass Deep {}");

    assertThat(PackageCycles.in(root)).isEmpty();
  }

  @Test
  void qualifiedNamesInCodeCountAndInCommentsDoNot() throws IOException {
    source("a/A.java", "package x.a;\n@Sub(x.b.B.class)\nclass A {}");
    source("b/B.java", "package x.b;\n/** See {@link x.a.A}. */\nclass B { // x.a.A too\n Object o = new x.a.A(); }");
    source("c/C.java", "package x.c;\n/** {@link x.a.A} */\nclass C {}");
    source("d/D.java", "package x.d;\nclass D { /* x.c.C */ }");

    assertThat(PackageCycles.in(root)).containsExactly("x.a -> x.b -> x.a");
  }

  private void source(String relative, String text) throws IOException {
    Path f = root.resolve(relative);
    Files.createDirectories(f.getParent());
    Files.writeString(f, text);
  }
}
