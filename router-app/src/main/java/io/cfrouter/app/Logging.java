package io.cfrouter.app;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.builder.api.AppenderComponentBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.api.LayoutComponentBuilder;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;

import java.util.List;
import java.util.Locale;

/**
 * Sets up Log4j 2 from the {@code logging} settings: level, text or JSON lines, standard output or a file.
 * Called once, before the first logger of the router is used.
 */
final class Logging {

    static final String TEXT_PATTERN =
            "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}{UTC} %-5level [%t] %c{1.} - %msg%n%throwable";
    static final String JSON_TEMPLATE = "classpath:io/cfrouter/app/log-event.json";
    private static final String JUL_MANAGER = "org.apache.logging.log4j.jul.LogManager";
    /** Libraries that are chatty at info (start banners, per-connection notes): warn unless asked for less. */
    private static final List<String> LIBRARIES = List.of("io.undertow", "org.xnio", "org.jboss", "io.nats");
    /**
     * Undertow's proxy logs every failed backend attempt at error with a stack trace (UT005028), the normal
     * keep-alive race included. The router accounts for failures itself: it marks the endpoint failed, and a
     * request whose attempts all failed is a 502 {@code endpoint_failure} in the access log and statistics.
     */
    static final String UNDERTOW_PROXY = "io.undertow.proxy";

    private Logging() {
    }

    /**
     * Sends java.util.logging (jnats, the JDK) to Log4j 2. Must run before it initialises, so first thing in
     * {@code main}. JBoss Logging (Undertow, XNIO) finds {@link JBossLoggingProvider} by itself, as long as
     * {@code org.jboss.logging.provider} is not set.
     */
    static void routeOtherFrameworks() {
        System.setProperty("java.util.logging.manager", JUL_MANAGER);
    }

    /** Applies the settings; replaces whatever configuration Log4j had. */
    static void configure(String level, String format, String file) {
        Configuration configuration = configuration(level, format, file);
        LoggerContext context = Configurator.initialize(Logging.class.getClassLoader(), configuration);
        if (context == null || context.getConfiguration() != configuration) {
            Configurator.reconfigure(configuration);
        }
    }

    /** Warns when java.util.logging escaped {@link #routeOtherFrameworks()} (it was initialised earlier). */
    static void warnIfJulNotRouted() {
        if (!JUL_MANAGER.equals(java.util.logging.LogManager.getLogManager().getClass().getName())) {
            LogManager.getLogger(Logging.class).warn("java.util.logging was initialised before the router set it "
                    + "up; its messages do not reach this log");
        }
    }

    static Configuration configuration(String level, String format, String file) {
        Level root = Level.toLevel(level.toUpperCase(Locale.ROOT), Level.INFO);
        ConfigurationBuilder<BuiltConfiguration> b = ConfigurationBuilderFactory.newConfigurationBuilder();
        b.setConfigurationName("cf-router");
        b.setStatusLevel(Level.WARN);
        // The launcher stops Log4j itself, after its last line ("stopped").
        b.setShutdownHook("disable");
        LayoutComponentBuilder layout = "json".equals(format)
                ? b.newLayout("JsonTemplateLayout").addAttribute("eventTemplateUri", JSON_TEMPLATE)
                : b.newLayout("PatternLayout").addAttribute("pattern", TEXT_PATTERN);
        AppenderComponentBuilder appender = file == null || file.isEmpty()
                ? b.newAppender("log", "Console").addAttribute("target", "SYSTEM_OUT")
                : b.newAppender("log", "File").addAttribute("fileName", file).addAttribute("append", true);
        b.add(appender.add(layout));
        Level libraries = root.isMoreSpecificThan(Level.WARN) ? root : Level.WARN;
        for (String name : LIBRARIES) {
            b.add(b.newLogger(name, libraries));
        }
        b.add(b.newLogger(UNDERTOW_PROXY, Level.OFF));
        b.add(b.newRootLogger(root).add(b.newAppenderRef("log")));
        return b.build(false);
    }

    /** Flushes and closes the appenders; the last thing before the process exits. */
    static void shutdown() {
        LogManager.shutdown();
    }
}
