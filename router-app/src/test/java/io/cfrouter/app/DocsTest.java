package io.cfrouter.app;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cfrouter.nats.RegistryMessageDecoder;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks README.md, bench/README.md and docs/*.md against the code: embedded Java is a verbatim copy of a
 * compiled and tested source region, HOCON examples parse and name only keys of reference.conf, JSON
 * examples parse (registration messages decode), relative links and the scripts and config files named
 * exist, and the launcher options shown are ones the launcher knows. A unit test: it reads files, opens
 * no sockets.
 */
class DocsTest {

    /**
     * Files written on other branches that the documents already link to. A link to one of them is accepted
     * while the file is absent; once it exists it is checked like any other. Empty while every branch is
     * merged.
     */
    private static final Set<String> WRITTEN_ELSEWHERE = Set.of();

    private static final Path ROOT = repositoryRoot();

    private static final Pattern FENCE = Pattern.compile("^(\\s*)```\\s*([\\w+-]*)\\s*$");
    private static final Pattern SNIPPET_OPEN = Pattern.compile("^\\s*<!-- snippet:(\\w+)#(\\w+) -->\\s*$");
    private static final Pattern SNIPPET_CLOSE = Pattern.compile("^\\s*<!-- /snippet -->\\s*$");
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern REPO_PATH =
            Pattern.compile("(?<![\\w/.-])((?:scripts|config)/[\\w./-]*\\w)");
    private static final Pattern LAUNCHER = Pattern.compile("router\\.jar((?:\\s+\\S+)*)");
    private static final Pattern DOTTED_KEY = Pattern.compile("`([a-z][a-z0-9_]*(?:\\.[a-z][a-z0-9_]*)+)`");
    private static final Pattern OPTION = Pattern.compile("^--?[a-z][\\w-]*$");

    // ---- the checks, on the repository's documents ---------------------------------------------------

    @Test
    void shouldKeepEveryEmbeddedSnippetIdenticalToItsSourceRegion() {
        assertThat(problems(DocsTest::snippetProblems)).isEmpty();
    }

    @Test
    void shouldShowJavaOnlyAsSnippetsOfCompiledSources() {
        assertThat(problems(DocsTest::unmarkedJavaProblems)).isEmpty();
    }

    @Test
    void shouldParseEveryHoconExampleAndNameOnlyKeysOfReferenceConf() {
        assertThat(problems(DocsTest::hoconProblems)).isEmpty();
    }

    @Test
    void shouldParseEveryJsonExampleAndDecodeEveryRegistrationMessage() {
        assertThat(problems(DocsTest::jsonProblems)).isEmpty();
    }

    @Test
    void shouldNameOnlyDottedConfigurationKeysThatReferenceConfDefines() {
        // configuration.md names gorouter.yml keys the router ignores, on purpose; its own test keeps it
        // in step with reference.conf.
        assertThat(problems(doc -> doc.name().equals("docs/configuration.md") ? List.of() : dottedKeyProblems(doc)))
                .isEmpty();
    }

    @Test
    void shouldNameOnlyModulesOfThisBuildWithItsVersionInMavenExamples() {
        assertThat(problems(DocsTest::mavenProblems)).isEmpty();
    }

    @Test
    void shouldLinkOnlyToFilesAndHeadingsThatExist() {
        assertThat(problems(DocsTest::linkProblems)).isEmpty();
    }

    @Test
    void shouldNameOnlyScriptsAndConfigFilesThatExist() {
        assertThat(problems(DocsTest::pathProblems)).isEmpty();
    }

    @Test
    void shouldShowOnlyLauncherOptionsTheLauncherKnows() {
        assertThat(problems(DocsTest::launcherProblems)).isEmpty();
    }

    @Test
    void shouldRunTheReadmeDemoWithThePortsAndCredentialsOfTheDevConfig() {
        Config dev = ConfigFactory.parseFile(ROOT.resolve("config/dev.conf").toFile())
                .withFallback(reference()).resolve();
        Doc readme = Doc.read(ROOT.resolve("README.md"));
        String code = readme.blocks().stream().map(Block::text).collect(Collectors.joining("\n"));
        String credentials = dev.getString("status.user") + ":" + dev.getString("status.pass");
        Config firstNats = dev.getConfigList("nats").get(0);

        assertThat(code).contains("curl -u " + credentials + " http://127.0.0.1:" + dev.getInt("status.port")
                + "/routes");
        assertThat(code).contains("http://127.0.0.1:" + dev.getInt("port") + "/");
        assertThat(code).contains("--nats nats://" + firstNats.getString("host") + ":" + firstNats.getInt("port"));
        assertThat(code).contains("scripts/run").contains("scripts/test");
    }

    // ---- the checks must be able to fail -------------------------------------------------------------

    @Test
    void shouldReportASnippetThatDiffersFromItsSource() {
        Doc doc = Doc.of("docs/x.md", """
                <!-- snippet:EmbeddingExamplesIT#authHandler -->
                ```java
                class Different {}
                ```
                <!-- /snippet -->
                """);

        assertThat(snippetProblems(doc)).singleElement().asString()
                .contains("docs/x.md:1").contains("EmbeddingExamplesIT#authHandler").contains("differs");
    }

    @Test
    void shouldReportASnippetWhoseRegionDoesNotExist() {
        Doc doc = Doc.of("docs/x.md", """
                <!-- snippet:EmbeddingExamplesIT#noSuchRegion -->
                ```java
                ```
                <!-- /snippet -->
                """);

        assertThat(snippetProblems(doc)).singleElement().asString().contains("no region // snippet:noSuchRegion");
    }

    @Test
    void shouldReportJavaOutsideASnippet() {
        Doc doc = Doc.of("docs/x.md", "text\n```java\nint x;\n```\n");

        assertThat(unmarkedJavaProblems(doc)).singleElement().asString().contains("docs/x.md:2");
    }

    @Test
    void shouldReportAHoconKeyThatReferenceConfLacks() {
        Doc doc = Doc.of("docs/x.md", """
                ```hocon
                status { port = 8082, usr = admin }
                nats = [{ host = "10.0.0.1", prot = 4222 }]
                droplet_stale_threshold = 2m
                ```
                """);

        assertThat(hoconProblems(doc)).hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("status.usr"))
                .anySatisfy(p -> assertThat(p).contains("nats[0].prot"));
    }

    @Test
    void shouldReportHoconThatDoesNotParse() {
        Doc doc = Doc.of("docs/x.md", "```hocon\nstatus { port = \n```\n");

        assertThat(hoconProblems(doc)).singleElement().asString().contains("does not parse");
    }

    @Test
    void shouldReportARegistrationMessageTheDecoderRefuses() {
        Doc doc = Doc.of("docs/x.md", """
                ```json
                {"host":"10.0.0.5","port":70000,"uris":["a.example.com"]}
                ```
                ```json
                {"id": 1,}
                ```
                """);

        assertThat(jsonProblems(doc)).hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("port: 70000"))
                .anySatisfy(p -> assertThat(p).contains("docs/x.md:4").contains("not JSON"));
    }

    @Test
    void shouldReportBrokenLinksAndMissingHeadings() {
        Doc doc = Doc.of("docs/x.md", """
                [ok](../README.md) [web](https://example.com) [gone](missing.md) [anchor](#nowhere)
                # A heading
                [self](#a-heading)
                """);

        assertThat(linkProblems(doc)).hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("missing.md"))
                .anySatisfy(p -> assertThat(p).contains("#nowhere"));
    }

    @Test
    void shouldReportScriptsThatDoNotExist() {
        Doc doc = Doc.of("README.md", "Run `scripts/run`, then `scripts/deploy`; see config/dev.conf.\n");

        assertThat(pathProblems(doc)).singleElement().asString().contains("scripts/deploy");
    }

    @Test
    void shouldReportARegisterOptionTheSubcommandDoesNotKnow() {
        Doc doc = Doc.of("README.md", """
                ```sh
                java -jar router-app/target/router.jar register --nats nats://127.0.0.1:4222 --ttl 30
                ```
                """);

        assertThat(launcherProblems(doc)).singleElement().asString().contains("--ttl");
    }

    @Test
    void shouldReportALauncherOptionTheLauncherDoesNotKnow() {
        Doc doc = Doc.of("README.md", """
                ```sh
                java -jar router-app/target/router.jar --config config/dev.conf \\
                    --verbose
                ```
                """);

        assertThat(launcherProblems(doc)).singleElement().asString().contains("--verbose");
    }

    @Test
    void shouldReportADottedKeyThatReferenceConfLacks() {
        Doc doc = Doc.of("docs/x.md", "Set `backends.max_conns` and `backends.max_conn`; see `nats.connected` in /varz.\n");

        assertThat(dottedKeyProblems(doc)).singleElement().asString().contains("`backends.max_conn`");
    }

    @Test
    void shouldReportADependencyOnAModuleThatDoesNotExist() {
        Doc doc = Doc.of("docs/x.md", """
                ```xml
                <artifactId>router-proxy</artifactId>
                <version>0.0.1</version>
                <artifactId>router-everything</artifactId>
                ```
                """);

        assertThat(mavenProblems(doc)).hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("0.0.1"))
                .anySatisfy(p -> assertThat(p).contains("router-everything"));
    }

    // ---- checks ---------------------------------------------------------------------------------------

    static List<String> snippetProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        List<String> lines = doc.lines();
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = SNIPPET_OPEN.matcher(lines.get(i));
            if (!open.matches()) {
                continue;
            }
            String where = doc.name() + ":" + (i + 1) + " (" + open.group(1) + "#" + open.group(2) + ")";
            Block block = doc.blockStartingAfter(i);
            if (block == null || !block.language().equals("java")) {
                problems.add(where + ": the marker must be followed by a ```java block");
                continue;
            }
            if (block.closeLine() + 1 >= lines.size() || !SNIPPET_CLOSE.matcher(lines.get(block.closeLine() + 1)).matches()) {
                problems.add(where + ": the block must be followed by <!-- /snippet -->");
                continue;
            }
            String region;
            try {
                region = sourceRegion(open.group(1), open.group(2));
            } catch (IllegalArgumentException e) {
                problems.add(where + ": " + e.getMessage());
                continue;
            }
            if (!region.equals(block.text())) {
                problems.add(where + ": differs from its source region; copy it again from "
                        + open.group(1) + ".java:\n" + region);
            }
        }
        return problems;
    }

    static List<String> unmarkedJavaProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        for (Block block : doc.blocks()) {
            if (block.language().equals("java") && (block.openLine() == 0
                    || !SNIPPET_OPEN.matcher(doc.lines().get(block.openLine() - 1)).matches())) {
                problems.add(doc.name() + ":" + (block.openLine() + 1)
                        + ": Java that is not a snippet of a compiled source (see DocsTest)");
            }
        }
        return problems;
    }

    static List<String> hoconProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        Config reference = reference();
        for (Block block : doc.blocks()) {
            if (!block.language().equals("hocon")) {
                continue;
            }
            String where = doc.name() + ":" + (block.openLine() + 1);
            Config config;
            try {
                config = ConfigFactory.parseString(block.text(),
                        ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)).resolve();
            } catch (ConfigException e) {
                problems.add(where + ": does not parse: " + e.getMessage());
                continue;
            }
            unknownKeys(config.root(), reference.root(), "", where, problems);
        }
        return problems;
    }

    private static void unknownKeys(ConfigObject example, ConfigObject reference, String prefix, String where,
                                    List<String> problems) {
        for (Map.Entry<String, ConfigValue> e : example.entrySet()) {
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            ConfigValue known = reference.get(e.getKey());
            if (known == null) {
                problems.add(where + ": " + path + " is not a key of reference.conf");
            } else if (e.getValue() instanceof ConfigObject object && known instanceof ConfigObject knownObject) {
                unknownKeys(object, knownObject, path, where, problems);
            } else if (e.getValue() instanceof ConfigList list && known instanceof ConfigList knownList
                    && !knownList.isEmpty() && knownList.get(0).valueType() == ConfigValueType.OBJECT) {
                for (int i = 0; i < list.size(); i++) {
                    if (list.get(i) instanceof ConfigObject element) {
                        unknownKeys(element, (ConfigObject) knownList.get(0), path + "[" + i + "]", where, problems);
                    }
                }
            }
        }
    }

    static List<String> jsonProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        for (Block block : doc.blocks()) {
            if (!block.language().equals("json")) {
                continue;
            }
            String where = doc.name() + ":" + (block.openLine() + 1);
            JsonElement json;
            try {
                JsonReader reader = new JsonReader(new StringReader(block.text()));
                reader.setStrictness(Strictness.STRICT);
                json = JsonParser.parseReader(reader);
                if (reader.peek() != JsonToken.END_DOCUMENT) {
                    problems.add(where + ": not JSON: more than one document");
                    continue;
                }
            } catch (RuntimeException | IOException e) {
                problems.add(where + ": not JSON: " + e.getMessage());
                continue;
            }
            if (json.isJsonObject() && json.getAsJsonObject().has("uris")) {
                List<String> warnings = new ArrayList<>();
                RegistryMessageDecoder.Result result = RegistryMessageDecoder.decode(
                        block.text().getBytes(StandardCharsets.UTF_8), warnings::add);
                if (!result.isValid()) {
                    problems.add(where + ": the router would drop this registration: " + result.error());
                }
                warnings.forEach(w -> problems.add(where + ": the router would warn: " + w));
            }
        }
        return problems;
    }

    /**
     * A key in backticks whose first part is a section of reference.conf ({@code status}, {@code backends},
     * ...) must be a key of that section. Other backticked names may be /varz fields or headers.
     */
    static List<String> dottedKeyProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        Config reference = reference();
        List<String> lines = doc.lines();
        for (int i = 0; i < lines.size(); i++) {
            if (doc.insideBlock(i)) {
                continue;
            }
            Matcher m = DOTTED_KEY.matcher(lines.get(i));
            while (m.find()) {
                String key = m.group(1);
                ConfigValue section = reference.root().get(key.substring(0, key.indexOf('.')));
                if (section instanceof ConfigObject && !reference.hasPathOrNull(key)) {
                    problems.add(doc.name() + ":" + (i + 1) + ": `" + key + "` is not a key of reference.conf");
                }
            }
        }
        return problems;
    }

    static List<String> mavenProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        String pom = read(ROOT.resolve("pom.xml"));
        Matcher versionTag = Pattern.compile("</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        String version = versionTag.find() ? versionTag.group(1) : "?";
        for (Block block : doc.blocks()) {
            if (!block.language().equals("xml")) {
                continue;
            }
            String where = doc.name() + ":" + (block.openLine() + 1);
            Matcher artifact = Pattern.compile("<artifactId>(router-[^<]+)</artifactId>").matcher(block.text());
            while (artifact.find()) {
                if (!pom.contains("<module>" + artifact.group(1) + "</module>")) {
                    problems.add(where + ": " + artifact.group(1) + " is not a module of this build");
                }
            }
            Matcher v = Pattern.compile("<version>([^<]+)</version>").matcher(block.text());
            while (v.find()) {
                if (!v.group(1).equals(version)) {
                    problems.add(where + ": version " + v.group(1) + " (expected: " + version + ", the root pom's)");
                }
            }
        }
        return problems;
    }

    static List<String> linkProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        List<String> lines = doc.lines();
        for (int i = 0; i < lines.size(); i++) {
            if (doc.insideBlock(i)) {
                continue;
            }
            Matcher m = LINK.matcher(lines.get(i));
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z][a-z0-9+.-]*:.*")) {
                    continue; // http:, https:, mailto:
                }
                String where = doc.name() + ":" + (i + 1) + ": link " + target;
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                String anchor = hash < 0 ? null : target.substring(hash + 1);
                if (file.isEmpty()) {
                    if (!doc.anchors().contains(anchor)) {
                        problems.add(where + ": no heading #" + anchor + " in " + doc.name());
                    }
                    continue;
                }
                Path resolved = doc.path().getParent().resolve(file).normalize();
                String relative = ROOT.relativize(resolved).toString().replace('\\', '/');
                if (!resolved.startsWith(ROOT)) {
                    problems.add(where + ": points outside the repository");
                } else if (!Files.exists(resolved)) {
                    if (!WRITTEN_ELSEWHERE.contains(relative)) {
                        problems.add(where + ": " + relative + " does not exist");
                    }
                } else if (anchor != null && resolved.toString().endsWith(".md")) {
                    Doc linked = Doc.read(resolved);
                    if (!linked.anchors().contains(anchor)) {
                        problems.add(where + ": no heading #" + anchor + " in " + relative);
                    }
                }
            }
        }
        return problems;
    }

    static List<String> pathProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        List<String> lines = doc.lines();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = REPO_PATH.matcher(lines.get(i));
            while (m.find()) {
                if (!Files.exists(ROOT.resolve(m.group(1)))) {
                    problems.add(doc.name() + ":" + (i + 1) + ": " + m.group(1) + " does not exist");
                }
            }
        }
        return problems;
    }

    static List<String> launcherProblems(Doc doc) {
        List<String> problems = new ArrayList<>();
        for (Block block : doc.blocks()) {
            if (!block.language().equals("sh")) {
                continue;
            }
            for (String command : block.text().replace("\\\n", " ").split("\n")) {
                Matcher m = LAUNCHER.matcher(command);
                if (!m.find()) {
                    continue;
                }
                List<String> args = List.of(m.group(1).trim().split("\\s+"));
                String usage = args.get(0).equals("register") ? RegisterCommand.usage() : Main.usage();
                for (String arg : args) {
                    if (OPTION.matcher(arg).matches() && !Pattern.compile("(?m)(^|[\\s,])" + Pattern.quote(arg)
                            + "(\\s|,|$)").matcher(usage).find()) {
                        problems.add(doc.name() + ":" + (block.openLine() + 1) + ": " + arg
                                + " is not an option of the launcher (see java -jar router.jar --help)");
                    }
                }
            }
        }
        return problems;
    }

    // ---- documents ------------------------------------------------------------------------------------

    /** README.md, bench/README.md and every markdown file under docs/. */
    private static List<Doc> documents() {
        try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
            List<Doc> all = new ArrayList<>();
            all.add(Doc.read(ROOT.resolve("README.md")));
            all.add(Doc.read(ROOT.resolve("bench/README.md")));
            docs.filter(p -> p.toString().endsWith(".md")).sorted().map(Doc::read).forEach(all::add);
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> problems(Function<Doc, List<String>> check) {
        return documents().stream().flatMap(doc -> check.apply(doc).stream()).toList();
    }

    /** A fenced code block: the lines of its fences, its info string, and the text between. */
    record Block(int openLine, int closeLine, String language, String text) {
    }

    /** A markdown file, split into lines and fenced blocks. */
    record Doc(String name, Path path, List<String> lines, List<Block> blocks) {

        static Doc read(Path path) {
            try {
                return of(ROOT.relativize(path).toString().replace('\\', '/'), path, Files.readString(path));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Doc of(String name, String text) {
            return of(name, ROOT.resolve(name), text);
        }

        private static Doc of(String name, Path path, String text) {
            List<String> lines = text.lines().toList();
            List<Block> blocks = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                Matcher open = FENCE.matcher(lines.get(i));
                if (!open.matches()) {
                    continue;
                }
                int close = i + 1;
                while (close < lines.size() && !lines.get(close).trim().equals("```")) {
                    close++;
                }
                String indent = open.group(1);
                String body = lines.subList(i + 1, Math.min(close, lines.size())).stream()
                        .map(l -> l.startsWith(indent) ? l.substring(indent.length()) : l)
                        .collect(Collectors.joining("\n"));
                blocks.add(new Block(i, close, open.group(2).toLowerCase(Locale.ROOT), body));
                i = close;
            }
            return new Doc(name, path, lines, List.copyOf(blocks));
        }

        /** The block whose opening fence is the line after {@code line}, or null. */
        Block blockStartingAfter(int line) {
            return blocks.stream().filter(b -> b.openLine() == line + 1).findFirst().orElse(null);
        }

        boolean insideBlock(int line) {
            return blocks.stream().anyMatch(b -> line >= b.openLine() && line <= b.closeLine());
        }

        /** GitHub's anchors for the headings: lower case, punctuation dropped, spaces to hyphens. */
        Set<String> anchors() {
            return IntStream.range(0, lines.size()).filter(i -> !insideBlock(i))
                    .mapToObj(lines::get)
                    .filter(l -> l.matches("^#{1,6} .*"))
                    .map(l -> l.replaceFirst("^#+ ", "").trim().toLowerCase(Locale.ROOT)
                            .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'))
                    .collect(Collectors.toSet());
        }
    }

    /**
     * The lines between {@code // snippet:NAME} and {@code // /snippet} in the named test or main source,
     * without their common indentation.
     */
    static String sourceRegion(String className, String region) {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> modules = Files.list(ROOT)) {
            for (Path src : modules.map(m -> m.resolve("src")).filter(Files::isDirectory).toList()) {
                try (Stream<Path> files = Files.walk(src)) {
                    files.filter(p -> p.getFileName().toString().equals(className + ".java")).forEach(found::add);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (found.size() != 1) {
            throw new IllegalArgumentException(found.size() + " source files named " + className + ".java");
        }
        Path source = found.get(0);
        List<String> lines;
        try {
            lines = Files.readAllLines(source);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int start = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().equals("// snippet:" + region)) {
                start = i + 1;
                break;
            }
        }
        if (start < 0) {
            throw new IllegalArgumentException("no region // snippet:" + region + " in " + className + ".java");
        }
        int end = start;
        while (end < lines.size() && !lines.get(end).trim().equals("// /snippet")) {
            end++;
        }
        List<String> body = lines.subList(start, end);
        int indent = body.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        return body.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).collect(Collectors.joining("\n"));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Config reference() {
        return ConfigFactory.parseFile(ROOT.resolve("router-app/src/main/resources/reference.conf").toFile())
                .resolve();
    }

    /** The directory holding the root pom.xml (the one that lists the modules), found from the working one. */
    private static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path pom = dir.resolve("pom.xml");
            try {
                if (Files.exists(pom) && Files.readString(pom).contains("<module>router-app</module>")) {
                    return dir;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no root pom.xml above " + Path.of("").toAbsolutePath());
    }
}
