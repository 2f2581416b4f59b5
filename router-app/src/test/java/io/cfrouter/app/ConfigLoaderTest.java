package io.cfrouter.app;

import io.cfrouter.core.LoadBalancing;
import io.cfrouter.nats.NatsServerAddress;
import io.cfrouter.proxy.ProxyEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private ConfigLoader.Loaded load(String name, String content) throws Exception {
        return ConfigLoader.load(write(name, content), Map.of());
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private List<String> problems(String name, String content) {
        try {
            load(name, content);
        } catch (ConfigLoader.InvalidConfigException e) {
            return e.problems();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected " + name + " to be rejected");
    }

    @Test
    void shouldUseTheDefaultsOfTheBehaviourReferenceWithoutAFile() throws Exception {
        RouterSettings s = ConfigLoader.load(null, Map.of()).settings();

        assertThat(s.port()).isEqualTo(8081);
        assertThat(s.statusPort()).isEqualTo(8082);
        assertThat(s.statusUser()).isEmpty();
        assertThat(s.nats()).containsExactly(new NatsServerAddress("127.0.0.1", 4222, "", ""));
        assertThat(s.loggingLevel()).isEqualTo("info");
        assertThat(s.loggingFormat()).isEqualTo("text");
        assertThat(s.loggingFile()).isEmpty();
        assertThat(s.accessLogFile()).isEmpty();
        assertThat(s.dropletStaleThreshold()).isEqualTo(Duration.ofSeconds(120));
        assertThat(s.pruneStaleDropletsInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.startResponseDelayInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.suspendPruningIfNatsUnavailable()).isTrue();
        assertThat(s.endpointTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.endpointDialTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.frontendIdleTimeout()).isEqualTo(Duration.ofSeconds(900));
        assertThat(s.readHeaderTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.drainWait()).isZero();
        assertThat(s.drainTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.balancingAlgorithm()).isEqualTo(LoadBalancing.ROUND_ROBIN);
        assertThat(s.maxConns()).isZero();
        assertThat(s.maxAttempts()).isEqualTo(3);
        assertThat(s.maxRequestHeaderBytes()).isEqualTo(1 << 20);
        assertThat(s.traceKey()).isEmpty();
        assertThat(s.secureCookies()).isFalse();
        assertThat(s.stickySessionCookieNames()).containsExactly("JSESSIONID");
        assertThat(s.healthcheckUserAgent()).isEqualTo("HTTP-Monitor/1.1");
        assertThat(s.effectiveProxyIoThreads()).isEqualTo(Math.max(2, Runtime.getRuntime().availableProcessors()));
        assertThat(s.effectiveProxyWorkerThreads()).isEqualTo(8 * s.effectiveProxyIoThreads());
        assertThat(s.proxyEngine()).isEqualTo(ProxyEngine.FORWARDER);
    }

    @Test
    void shouldChooseTheProxyEngine() throws Exception {
        assertThat(load("router.conf", "proxy_engine = undertow").settings().proxyEngine())
                .isEqualTo(ProxyEngine.UNDERTOW);
        assertThat(load("router.yml", "proxy_engine: forwarder").settings().proxyEngine())
                .isEqualTo(ProxyEngine.FORWARDER);
        assertThat(problems("bad.conf", "proxy_engine = nginx"))
                .containsExactly("proxy_engine: nginx (expected: forwarder or undertow)");
    }

    @Test
    void shouldSizeTheProxyThreadsAsConfigured() throws Exception {
        RouterSettings s = load("router.conf", """
                proxy_io_threads = 3
                proxy_worker_threads = 4
                """).settings();

        assertThat(s.effectiveProxyIoThreads()).isEqualTo(3);
        assertThat(s.effectiveProxyWorkerThreads()).isEqualTo(4);
        assertThat(problems("bad.conf", "proxy_io_threads = -1"))
                .containsExactly("proxy_io_threads: -1 (expected: >= 0)");
    }

    @Test
    void shouldOverrideOnlyTheKeysAHoconFileNames() throws Exception {
        RouterSettings s = load("router.conf", """
                port = 9000
                status { user = admin }
                nats = [{ host = "10.0.0.1" }, { host = "10.0.0.2", port = 4223, user = u, pass = p }]
                logging.level = debug
                balancing_algorithm = least-connection
                """).settings();

        assertThat(s.port()).isEqualTo(9000);
        assertThat(s.statusPort()).isEqualTo(8082);
        assertThat(s.statusUser()).isEqualTo("admin");
        assertThat(s.nats()).containsExactly(new NatsServerAddress("10.0.0.1", 4222, "", ""),
                new NatsServerAddress("10.0.0.2", 4223, "u", "p"));
        assertThat(s.loggingLevel()).isEqualTo("debug");
        assertThat(s.balancingAlgorithm()).isEqualTo(LoadBalancing.LEAST_CONNECTION);
    }

    @Test
    void shouldReadAJsonFile() throws Exception {
        RouterSettings s = load("router.json", """
                {"port": 9001, "status": {"port": 9002}, "drain_wait": "2s"}
                """).settings();

        assertThat(s.port()).isEqualTo(9001);
        assertThat(s.statusPort()).isEqualTo(9002);
        assertThat(s.drainWait()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void shouldReadAGorouterYamlFileIntoTheSameSettings() throws Exception {
        ConfigLoader.Loaded loaded = load("gorouter.yml", """
                ---
                port: 8888
                index: 2
                status:
                  port: 8889
                  user: router-status
                  pass: 12345
                nats:
                  - host: 10.0.16.4
                    port: 4222
                    user: nats
                    pass: "secret"
                logging:
                  file: ""
                  level: warn
                  syslog: vcap.gorouter
                droplet_stale_threshold: 120
                prune_stale_droplets_interval: 30
                start_response_delay_interval: 5
                endpoint_timeout: 300s
                drain_wait: 20
                suspend_pruning_if_nats_unavailable: false
                sticky_session_cookie_names: [JSESSIONID, SESSION]
                go_max_procs: 8
                """);
        RouterSettings s = loaded.settings();

        assertThat(s.port()).isEqualTo(8888);
        assertThat(s.index()).isEqualTo(2);
        assertThat(s.statusPort()).isEqualTo(8889);
        assertThat(s.statusUser()).isEqualTo("router-status");
        assertThat(s.statusPass()).isEqualTo("12345");
        assertThat(s.nats()).containsExactly(new NatsServerAddress("10.0.16.4", 4222, "nats", "secret"));
        assertThat(s.loggingLevel()).isEqualTo("warn");
        assertThat(s.dropletStaleThreshold()).isEqualTo(Duration.ofSeconds(120));
        assertThat(s.startResponseDelayInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.endpointTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(s.drainTimeout()).as("drain_timeout follows endpoint_timeout").isEqualTo(Duration.ofSeconds(300));
        assertThat(s.drainWait()).isEqualTo(Duration.ofSeconds(20));
        assertThat(s.suspendPruningIfNatsUnavailable()).isFalse();
        assertThat(s.stickySessionCookieNames()).containsExactly("JSESSIONID", "SESSION");
        assertThat(loaded.unknownKeys()).containsExactly("go_max_procs", "logging.syslog");
    }

    @Test
    void shouldReadDurationsWithUnitsAndBareNumbersAsSeconds() throws Exception {
        RouterSettings s = load("router.conf", """
                droplet_stale_threshold = 2m
                prune_stale_droplets_interval = 500ms
                start_response_delay_interval = 0
                endpoint_timeout = 90
                endpoint_dial_timeout = "7"
                frontend_idle_timeout = 1.5
                read_header_timeout = 2500ms
                """).settings();

        assertThat(s.dropletStaleThreshold()).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.pruneStaleDropletsInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(s.startResponseDelayInterval()).isZero();
        assertThat(s.endpointTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(s.endpointDialTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(s.frontendIdleTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(s.readHeaderTimeout()).isEqualTo(Duration.ofMillis(2500));
    }

    @Test
    void shouldKeepAnExplicitDrainTimeout() throws Exception {
        RouterSettings s = load("router.conf", "endpoint_timeout = 30s\ndrain_timeout = 5s").settings();

        assertThat(s.drainTimeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void shouldReportEveryProblemAtOnceOneLineNamingEachKey() {
        List<String> problems = problems("router.conf", """
                port = 0
                status { port = 70000 }
                logging { level = verbose, format = xml }
                droplet_stale_threshold = -5s
                drain_wait = soon
                read_header_timeout = 0s
                balancing_algorithm = random
                secure_cookies = maybe
                backends.max_attempts = 0
                index = 1.5
                nats = [{ host = "10.0.0.1", port = "x" }]
                """);

        assertThat(problems).containsExactlyInAnyOrder(
                "port: 0 (expected: 1-65535)",
                "status.port: 70000 (expected: 1-65535)",
                "logging.level: verbose (expected: one of debug, error, fatal, info, warn)",
                "logging.format: xml (expected: one of json, text)",
                "droplet_stale_threshold: -5s (expected: a duration > 0)",
                "drain_wait: soon (expected: a duration such as 120s, 2m, 500ms or a number of seconds)",
                "read_header_timeout: 0s (expected: a duration > 0)",
                "balancing_algorithm: random (expected: round-robin or least-connection)",
                "secure_cookies: maybe (expected: true or false)",
                "backends.max_attempts: 0 (expected: >= 1)",
                "index: 1.5 (expected: an integer >= 0)",
                "nats[0].port: x (expected: an integer 1-65535)");
    }

    @Test
    void shouldRejectASectionOfTheWrongTypeOnce() {
        assertThat(problems("router.yml", "status: 8082\nnats: 127.0.0.1\n")).containsExactly(
                "status: 8082 (expected: an object)",
                "nats: 127.0.0.1 (expected: a list of {host, port, user, pass})");
    }

    @Test
    void shouldRejectAnEmptyNatsList() {
        assertThat(problems("router.conf", "nats = []")).containsExactly("nats: [] (expected: at least one server)");
    }

    @Test
    void shouldRejectALogFileThatCannotBeWritten() {
        assertThat(problems("router.conf", "access_log.file = \"" + dir.resolve("no/such/dir/access.log") + "\""))
                .containsExactly("access_log.file: " + dir.resolve("no/such/dir/access.log")
                        + " (expected: a writable file in an existing directory)");
    }

    @Test
    void shouldNameTheFileAndLineOfAYamlSyntaxError() {
        List<String> problems = problems("bad.yml", "port: 8081\nstatus:\n  port: 1\n  user: [a\n");

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0)).startsWith(dir.resolve("bad.yml") + ":5: ");
    }

    @Test
    void shouldNameTheFileAndLineOfAHoconSyntaxError() {
        List<String> problems = problems("bad.conf", "port = 8081\nstatus {\n  port = 1\n  user = }\n");

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0)).startsWith(dir.resolve("bad.conf") + ":4: ").doesNotContain("\n");
    }

    @Test
    void shouldRejectAYamlFileThatIsNotAMapping() {
        assertThat(problems("list.yaml", "- a\n- b\n"))
                .containsExactly(dir.resolve("list.yaml") + ": a list at the top (expected: a mapping of keys)");
    }

    @Test
    void shouldRejectAMissingFile() {
        Path missing = dir.resolve("missing.conf");

        assertThatThrownBy(() -> ConfigLoader.load(missing, Map.of()))
                .isInstanceOfSatisfying(ConfigLoader.InvalidConfigException.class, e ->
                        assertThat(e.problems()).containsExactly("--config: " + missing + ": no such file"));
    }

    @Test
    void shouldRejectAnUnknownFileType() {
        assertThat(problems("router.ini", "port = 1")).containsExactly(
                "--config: " + dir.resolve("router.ini") + " (expected: a .conf, .json, .yml or .yaml file)");
    }

    @Test
    void shouldReportAnUnresolvedSubstitutionWithItsLine() {
        List<String> problems = problems("router.conf", "port = 8081\ntrace_key = ${NOT_SET_ANYWHERE}\n");

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0)).startsWith(dir.resolve("router.conf") + ":2: ").contains("NOT_SET_ANYWHERE");
    }

    @Test
    void shouldNameUnknownKeysIncludingThoseOfANatsServer() throws Exception {
        ConfigLoader.Loaded loaded = load("router.conf", """
                prot = 8081
                status { port = 8082, usr = admin }
                nats = [{ hostname = "10.0.0.1" }]
                """);

        assertThat(loaded.unknownKeys()).containsExactly("nats[0].hostname", "prot", "status.usr");
    }

    @Test
    void shouldTakeTheNatsServerAndStatusCredentialsFromTheEnvironment() throws Exception {
        Map<String, String> env = Map.of("CF_ROUTER_NATS_HOST", "10.1.2.3", "CF_ROUTER_NATS_PORT", "4333",
                "CF_ROUTER_STATUS_USER", "env-user", "CF_ROUTER_STATUS_PASS", "env-pass");

        RouterSettings s = ConfigLoader.load(null, env).settings();

        assertThat(s.nats()).containsExactly(new NatsServerAddress("10.1.2.3", 4333, "", ""));
        assertThat(s.statusUser()).isEqualTo("env-user");
        assertThat(s.statusPass()).isEqualTo("env-pass");
    }

    @Test
    void shouldLetTheFileWinOverTheEnvironment() throws Exception {
        RouterSettings s = ConfigLoader.load(write("router.conf", "status.user = file-user"),
                Map.of("CF_ROUTER_STATUS_USER", "env-user")).settings();

        assertThat(s.statusUser()).isEqualTo("file-user");
    }

    @Test
    void shouldAcceptTheShippedConfigurationsWithoutUnknownKeys() throws Exception {
        for (String name : List.of("dev.conf", "gorouter.yml")) {
            ConfigLoader.Loaded loaded = ConfigLoader.load(Path.of("..", "config", name), Map.of());

            assertThat(loaded.unknownKeys()).as(name).isEmpty();
            assertThat(loaded.settings().statusUser()).as(name).isEqualTo("admin");
        }
    }
}
