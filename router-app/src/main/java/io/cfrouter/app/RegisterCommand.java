package io.cfrouter.app;

import io.cfrouter.nats.RouteRegistrar;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar router.jar register ...}: keeps one route registered over NATS until interrupted, then
 * unregisters it. For demos and for backends that cannot speak NATS themselves.
 */
final class RegisterCommand {

    private RegisterCommand() {
    }

    /** The parsed command line. */
    record Arguments(List<String> nats, String host, int port, List<String> uris, String app, String instance) {
    }

    /** Thrown for a bad command line; the message is the one line to print. */
    static final class BadArguments extends Exception {
        BadArguments(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Runs until SIGINT or SIGTERM, then unregisters and returns 0; 2 for bad arguments, 1 when NATS cannot
     * be reached.
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                out.print(usage());
                return Main.EXIT_OK;
            }
        }
        Arguments parsed;
        RouteRegistrar registrar;
        try {
            parsed = parse(args);
            registrar = registrar(parsed);
        } catch (BadArguments e) {
            err.println(e.getMessage());
            return Main.EXIT_BAD_CONFIG;
        }
        CountDownLatch interrupted = new CountDownLatch(1);
        Runnable stop = interrupted::countDown;
        if (!handleSignals(stop)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                close(registrar);
                stop.run();
            }, "cf-router-register-shutdown"));
        }
        try {
            registrar.start();
            out.println("Registering " + parsed.host() + ":" + parsed.port() + " for " + parsed.uris()
                    + " over " + parsed.nats() + "; interrupt (Ctrl-C) to unregister");
            out.flush();
            interrupted.await();
            return Main.EXIT_OK;
        } catch (IOException e) {
            err.println("register: " + e.getMessage());
            return Main.EXIT_FAILURE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.EXIT_OK;
        } finally {
            close(registrar);
        }
    }

    private static void close(RouteRegistrar registrar) {
        try {
            registrar.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /*
     * SIGINT/SIGTERM handlers instead of a shutdown hook, so that the process unregisters, then exits 0
     * through the normal path (a JVM terminated by a signal exits 130/143). Falls back to a hook where
     * sun.misc.Signal is not available.
     */
    private static boolean handleSignals(Runnable stop) {
        try {
            for (String name : List.of("INT", "TERM")) {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> stop.run());
            }
            return true;
        } catch (IllegalArgumentException | LinkageError e) {
            return false;
        }
    }

    static RouteRegistrar registrar(Arguments a) throws BadArguments {
        try {
            RouteRegistrar.Builder b = RouteRegistrar.builder()
                    .servers(a.nats())
                    .endpoint(a.host(), a.port())
                    .appId(a.app())
                    .instanceId(a.instance());
            a.uris().forEach(b::uri);
            return b.build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new BadArguments(e.getMessage());
        }
    }

    static Arguments parse(String[] args) throws BadArguments {
        List<String> nats = new ArrayList<>();
        List<String> uris = new ArrayList<>();
        String host = null;
        Integer port = null;
        String app = "";
        String instance = "";
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            switch (option) {
                case "--nats", "--host", "--port", "--uri", "--app", "--instance" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new BadArguments(option + ": missing value (see register --help)");
                    }
                    String value = args[++i];
                    switch (option) {
                        case "--nats" -> {
                            for (String url : value.split(",")) {
                                nats.add(natsUrl(url.trim()));
                            }
                        }
                        case "--host" -> host = value;
                        case "--port" -> port = port(value);
                        case "--uri" -> uris.add(value);
                        case "--app" -> app = value;
                        default -> instance = value;
                    }
                }
                default -> throw new BadArguments(option + ": unknown option (see register --help)");
            }
        }
        if (nats.isEmpty()) {
            throw new BadArguments("--nats: missing (expected: --nats nats://host:port)");
        }
        if (host == null) {
            throw new BadArguments("--host: missing (expected: the backend's IP or host name)");
        }
        if (port == null) {
            throw new BadArguments("--port: missing (expected: the backend's port, 1-65535)");
        }
        if (uris.isEmpty()) {
            throw new BadArguments("--uri: missing (expected: at least one route, e.g. app.example.com)");
        }
        return new Arguments(List.copyOf(nats), host, port, List.copyOf(uris), app, instance);
    }

    private static int port(String value) throws BadArguments {
        int port;
        try {
            port = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new BadArguments("--port: " + value + " (expected: 1-65535)");
        }
        if (port < 1 || port > 65535) {
            throw new BadArguments("--port: " + value + " (expected: 1-65535)");
        }
        return port;
    }

    private static String natsUrl(String url) throws BadArguments {
        String withScheme = url.contains("://") ? url : "nats://" + url;
        if (!withScheme.startsWith("nats://") && !withScheme.startsWith("tls://")) {
            throw new BadArguments("--nats: " + url + " (expected: nats://host:port)");
        }
        if (withScheme.length() <= withScheme.indexOf("://") + 3) {
            throw new BadArguments("--nats: " + url + " (expected: nats://host:port)");
        }
        return withScheme;
    }

    static String usage() {
        return """
                Usage: java -jar router.jar register --nats URL --host HOST --port PORT --uri URI [--uri URI ...]
                                                     [--app ID] [--instance ID]

                Keeps a route registered with the routers on a NATS cluster (router.register at the interval
                they ask for, at once when one starts) until interrupted (Ctrl-C or SIGTERM), then sends
                router.unregister and exits 0.

                Options:
                  --nats URL       NATS server, nats://[user:pass@]host:port; repeat or comma-separate for a cluster
                  --host HOST      the backend's IP or host name
                  --port PORT      the backend's port (1-65535)
                  --uri URI        a route, host[/path]; repeat for more
                  --app ID         application id (X-CF-ApplicationID)
                  --instance ID    instance id (X-CF-InstanceID, the sticky-session value)
                  -h, --help       this text

                Exit status: 0 after unregistering, 1 when no NATS server answers, 2 for bad arguments.
                """;
    }
}
