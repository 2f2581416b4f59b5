package io.cfrouter.app;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/** The command line: {@code java -jar router.jar [--config FILE]}. */
public final class Main {

    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_BAD_CONFIG = 2;

    private Main() {
    }

    /** Runs the router until it is stopped. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
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
        RouterSettings settings;
        try {
            settings = ConfigLoader.load(configFile, System.getenv()).settings();
        } catch (ConfigLoader.InvalidConfigException e) {
            e.problems().forEach(err::println);
            return EXIT_BAD_CONFIG;
        }
        System.setProperty("cfrouter.logging.level", settings.loggingLevel());
        Logger logger = LogManager.getLogger(Main.class);
        Router router = new Router(settings);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            router.close();
            stopped.countDown();
        }, "cf-router-shutdown"));
        try {
            router.start();
        } catch (IOException | RuntimeException e) {
            logger.fatal("cf-router could not start: {}", e.getMessage());
            err.println("cf-router could not start: " + e.getMessage());
            return EXIT_FAILURE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return EXIT_FAILURE;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return EXIT_OK;
    }

    static String usage() {
        return """
                Usage: java -jar router.jar [--config FILE]
                       java -jar router.jar --help | --version

                Runs cf-router, a Cloud Foundry-compatible HTTP router: routes arrive over NATS
                (router.register / router.unregister) and HTTP traffic is proxied to them.

                Options:
                  -c, --config FILE   configuration: HOCON (.conf), JSON (.json); defaults when omitted
                  -h, --help          this text
                      --version       the version
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
