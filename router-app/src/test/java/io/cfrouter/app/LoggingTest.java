package io.cfrouter.app;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import io.cfrouter.registry.RegistryEvent;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LoggingTest {

    @TempDir
    Path dir;

    @AfterEach
    void restoreTestLogging() {
        Configurator.reconfigure();
    }

    private static RegistryEvent registered() {
        Endpoint endpoint = new Endpoint("10.0.0.7", 61001, "app-guid", "instance-1", "0",
                Map.of("component", "api"), Duration.ZERO, null);
        return new RegistryEvent(RegistryEvent.Type.ENDPOINT_ADDED, RouteKey.parse("app.example.com/api"), endpoint);
    }

    private List<String> lines(Path file) throws IOException {
        LogManager.getContext(false);
        return Files.readAllLines(file);
    }

    @Test
    void shouldWriteOneJsonObjectPerEventWithTheRouteAndEndpointAsFields() throws IOException {
        Path file = dir.resolve("router.log");
        Logging.configure("info", "json", file.toString());

        new RegistryEventLog().onChange(registered());
        LogManager.getLogger("io.cfrouter.test").warn("something odd", new IllegalStateException("odd"));

        List<String> lines = lines(file);
        assertThat(lines).hasSize(2);
        JsonObject event = JsonParser.parseString(lines.get(0)).getAsJsonObject();
        assertThat(event.get("timestamp").getAsString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(event.get("level").getAsString()).isEqualTo("INFO");
        assertThat(event.get("logger").getAsString()).isEqualTo(RegistryEventLog.class.getName());
        assertThat(event.get("message").getAsString())
                .isEqualTo("Endpoint registered: app.example.com/api -> 10.0.0.7:61001 (app app-guid)");
        assertThat(event.get("route").getAsString()).isEqualTo("app.example.com/api");
        assertThat(event.get("endpoint").getAsString()).isEqualTo("10.0.0.7:61001");
        assertThat(event.get("app_id").getAsString()).isEqualTo("app-guid");
        assertThat(event.get("instance_id").getAsString()).isEqualTo("instance-1");
        JsonObject warning = JsonParser.parseString(lines.get(1)).getAsJsonObject();
        assertThat(warning.get("level").getAsString()).isEqualTo("WARN");
        assertThat(warning.has("route")).as("the context is cleared after the event").isFalse();
        assertThat(warning.get("error").getAsString()).isEqualTo(IllegalStateException.class.getName());
        assertThat(warning.get("stack_trace").getAsString()).contains("LoggingTest");
    }

    @Test
    void shouldWriteReadableTextLines() throws IOException {
        Path file = dir.resolve("router.log");
        Logging.configure("info", "text", file.toString());

        new RegistryEventLog().onChange(registered());

        assertThat(lines(file)).singleElement().asString()
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z "
                        + "INFO  \\[.+] i\\.c\\.a\\.RegistryEventLog - "
                        + "Endpoint registered: app\\.example\\.com/api -> 10\\.0\\.0\\.7:61001 \\(app app-guid\\)");
    }

    @Test
    void shouldDropEventsBelowTheConfiguredLevel() throws IOException {
        Path file = dir.resolve("router.log");
        Logging.configure("warn", "text", file.toString());

        new RegistryEventLog().onChange(registered());
        LogManager.getLogger("io.cfrouter.test").error("kept");

        assertThat(lines(file)).singleElement().asString().endsWith(" - kept");
    }

    @Test
    void shouldLogRouteChangesAtDebugOnlyWhenAskedFor() throws IOException {
        Path file = dir.resolve("router.log");
        RegistryEvent routeAdded = new RegistryEvent(RegistryEvent.Type.ROUTE_ADDED,
                RouteKey.parse("app.example.com"), null);

        Logging.configure("info", "text", file.toString());
        new RegistryEventLog().onChange(routeAdded);
        assertThat(lines(file)).isEmpty();

        Logging.configure("debug", "text", file.toString());
        new RegistryEventLog().onChange(routeAdded);
        assertThat(lines(file)).singleElement().asString().endsWith(" - Route added: app.example.com");
    }

    @Test
    void shouldKeepUndertowsPerAttemptProxyErrorsOutOfTheLog() throws IOException {
        Path file = dir.resolve("router.log");
        Logging.configure("debug", "text", file.toString());

        LogManager.getLogger("io.undertow.proxy").error("UT005028: Proxy request to /x failed");
        LogManager.getLogger("io.undertow.server").error("kept");

        assertThat(lines(file)).singleElement().asString().endsWith(" - kept");
    }

    @Test
    void shouldAnswerJBossLevelChecksFromLog4jsLevelsAndFollowTheirChanges() throws IOException {
        Path file = dir.resolve("router.log");
        Logging.configure("info", "text", file.toString());
        org.jboss.logging.Logger logger = new JBossLoggingProvider().getLogger("io.undertow.request");

        assertThat(logger.isTraceEnabled()).isFalse();
        assertThat(logger.isDebugEnabled()).isFalse();
        assertThat(logger.isEnabled(org.jboss.logging.Logger.Level.WARN)).isTrue();
        logger.tracef("dropped %s", 1);
        logger.warnf("kept %s", 1);
        assertThat(lines(file)).singleElement().asString().endsWith(" - kept 1");

        Configurator.setLevel("io.undertow", org.apache.logging.log4j.Level.TRACE);
        assertThat(logger.isTraceEnabled()).isTrue();
        logger.tracef("traced %s", 2);
        assertThat(lines(file)).hasSize(2).last().asString().endsWith(" - traced 2");

        Logging.configure("error", "text", file.toString());
        assertThat(logger.isEnabled(org.jboss.logging.Logger.Level.WARN)).isFalse();
    }

    @Test
    void shouldBeJBossLoggingsProviderWithoutAnySystemProperty() {
        assertThat(org.jboss.logging.Logger.getLogger("io.undertow.x").getClass().getEnclosingClass())
                .isEqualTo(JBossLoggingProvider.class);
    }
}
