package io.cfrouter.app;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Properties;

/** The command line: {@code java -jar router.jar [--config FILE]}. */
public final class Main {

    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_BAD_CONFIG = 2;

    private Main() {
    }

    /** Runs the router until it is stopped. */
    public static void main(String[] args) {
        Logging.routeOtherFrameworks();
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0 && args[0].equals("register")) {
            return RegisterCommand.run(Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        Path configFile = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    out.print(usage());
                    return EXIT_OK;
                }
                case "--version" -> {
                    out.println("cf-router " + version());
                    return EXIT_OK;
                }
                case "--config", "-c" -> {
                    if (i + 1 >= args.length) {
                        err.println("--config: missing file name (expected: --config FILE)");
                        return EXIT_BAD_CONFIG;
                    }
                    configFile = Path.of(args[++i]);
                }
                default -> {
                    err.println(args[i] + ": unknown option (see --help)");
                    return EXIT_BAD_CONFIG;
                }
            }
        }
        ConfigLoader.Loaded loaded;
        try {
            loaded = ConfigLoader.load(configFile, System.getenv());
        } catch (ConfigLoader.InvalidConfigException e) {
            e.problems().forEach(err::println);
            return EXIT_BAD_CONFIG;
        }
        RouterSettings settings = loaded.settings();
        Logging.configure(settings.loggingLevel(), settings.loggingFormat(), settings.loggingFile());
        try {
            return serve(loaded, configFile, err);
        } finally {
            Logging.shutdown();
        }
    }

    /** Runs the router until a stop signal has drained it (§6). */
    private static int serve(ConfigLoader.Loaded loaded, Path configFile, PrintStream err) {
        Logger logger = LogManager.getLogger(Main.class);
        Logging.warnIfJulNotRouted();
        for (String key : loaded.unknownKeys()) {
            logger.warn("Ignoring unknown configuration key {} in {}", key, configFile);
        }
        RouterSettings settings = loaded.settings();
        StopSignals signals = StopSignals.install(Thread.currentThread(), () -> {
            Logging.shutdown();
            Runtime.getRuntime().halt(EXIT_FAILURE);
        });
        try (Router router = new Router(settings)) {
            try {
                router.start();
                signals.started();
            } catch (InterruptedException e) {
                logger.info("Stopped during start-up");
                return EXIT_OK;
            } catch (Router.StartupException e) {
                if (signals.stopRequested()) {
                    return EXIT_OK;
                }
                logger.fatal("cf-router could not start: {}", e.getMessage());
                if (!settings.loggingFile().isEmpty()) {
                    err.println("cf-router could not start: " + e.getMessage());
                }
                return EXIT_FAILURE;
            } catch (IOException | RuntimeException e) {
                logger.fatal("cf-router could not start", e);
                err.println("cf-router could not start: " + e);
                return EXIT_FAILURE;
            }
            try {
                signals.await();
            } catch (InterruptedException e) {
                // Only a signal interrupts this thread: carry on with the drain.
                Thread.interrupted();
            }
            try {
                router.drain();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return EXIT_OK;
    }

    static String usage() {
        return """
                Usage: java -jar router.jar [--config FILE]
                       java -jar router.jar register --nats URL --host HOST --port PORT --uri URI [...]
                       java -jar router.jar --help | --version

                Runs cf-router, a Cloud Foundry-compatible HTTP router: routes arrive over NATS
                (router.register / router.unregister) and HTTP traffic is proxied to them.
                SIGTERM, SIGUSR1 or SIGINT drain it; a second signal stops it at once.
                Exit codes: 0 stopped, 1 could not start, 2 bad configuration.

                Options:
                  -c, --config FILE   configuration: HOCON (.conf), JSON (.json) or YAML in the
                                      gorouter.yml layout (.yml, .yaml); defaults when omitted
                  -h, --help          this text
                      --version       the version

                Commands:
                  register            keep a route registered over NATS until interrupted
                                      (see: java -jar router.jar register --help)
                """;
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
