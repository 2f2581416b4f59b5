package io.cfrouter.app;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/configuration.md and reference.conf name the same keys. */
class ConfigurationDocTest {

    private static final Path DOC = Path.of("..", "docs", "configuration.md");
    private static final Pattern KEY_ROW = Pattern.compile("^\\| `([^`]+)` \\|");

    @Test
    void shouldDocumentEveryKeyOfReferenceConf() throws IOException {
        assertThat(documentedKeys()).containsAll(referenceKeys());
    }

    @Test
    void shouldDocumentNoKeyThatReferenceConfLacks() throws IOException {
        assertThat(referenceKeys()).containsAll(documentedKeys());
    }

    private static Set<String> referenceKeys() {
        Set<String> keys = new TreeSet<>();
        leaves(ConfigFactory.parseResources("reference.conf").root(), new ArrayList<>(), keys);
        assertThat(keys).as("keys of reference.conf").contains("port", "status.port", "nats");
        return keys;
    }

    private static void leaves(ConfigObject object, List<String> prefix, Set<String> out) {
        for (String key : object.keySet()) {
            List<String> path = new ArrayList<>(prefix);
            path.add(key);
            ConfigValue value = object.get(key);
            if (value instanceof ConfigObject child) {
                leaves(child, path, out);
            } else {
                out.add(ConfigUtil.joinPath(path));
            }
        }
    }

    /** The first column of the table under "## Keys". */
    private static Set<String> documentedKeys() throws IOException {
        Set<String> keys = new TreeSet<>();
        boolean inKeys = false;
        for (String line : Files.readAllLines(DOC)) {
            if (line.startsWith("## ")) {
                inKeys = line.equals("## Keys");
                continue;
            }
            Matcher m = KEY_ROW.matcher(line);
            if (inKeys && m.find()) {
                keys.add(m.group(1));
            }
        }
        assertThat(keys).as("keys documented in " + DOC).isNotEmpty();
        return keys;
    }
}
