package io.cfrouter.app;

import org.apache.logging.log4j.LogManager;
import org.jboss.logging.Log4j2LoggerProvider;
import org.jboss.logging.Logger;
import org.jboss.logging.LoggerProvider;

import java.util.Map;

/**
 * Sends JBoss Logging (Undertow, XNIO) to Log4j 2, as JBoss Logging's own Log4j 2 provider does, but answers
 * "is this level enabled?" from a per-logger snapshot of Log4j's levels instead of asking Log4j every time.
 *
 * <p>Undertow and XNIO ask whether TRACE is enabled several times per request ({@code log.tracef} in their
 * I/O loops); through JBoss Logging's provider each question walks two loggers and the configuration's filter
 * check, about 5 % of the router's CPU under load. Here it is a field read and a compare. The snapshot is
 * retaken when Log4j's configuration changes (reconfiguration, or levels changed through
 * {@code Configurator}); while the configuration has a filter, every question goes to Log4j, because a
 * filter may accept an event below the logger's level. Messages themselves go through JBoss Logging's
 * provider unchanged.
 *
 * <p>Found by JBoss Logging through {@link java.util.ServiceLoader}, so the system property
 * {@code org.jboss.logging.provider} must be unset. Thread-safe.
 */
public final class JBossLoggingProvider implements LoggerProvider {

    /** Bumped when Log4j's configuration changes; loggers retake their snapshot when it moved. */
    private static volatile int generation;

    private final Log4j2LoggerProvider delegate = new Log4j2LoggerProvider();

    /** Called by {@link java.util.ServiceLoader}. */
    public JBossLoggingProvider() {
        org.apache.logging.log4j.spi.LoggerContext context = LogManager.getContext(false);
        if (context instanceof org.apache.logging.log4j.core.LoggerContext core) {
            core.addPropertyChangeListener(event -> generation++);
        } else {
            // Not Log4j's core (a test double, another implementation): no way to hear of changes, never cache.
            generation = Integer.MIN_VALUE;
        }
    }

    @Override
    public Logger getLogger(String name) {
        return new CachingLogger(name, delegate.getLogger(name));
    }

    @Override
    public void clearMdc() {
        delegate.clearMdc();
    }

    @Override
    public Object putMdc(String key, Object value) {
        return delegate.putMdc(key, value);
    }

    @Override
    public Object getMdc(String key) {
        return delegate.getMdc(key);
    }

    @Override
    public void removeMdc(String key) {
        delegate.removeMdc(key);
    }

    @Override
    public Map<String, Object> getMdcMap() {
        return delegate.getMdcMap();
    }

    @Override
    public void clearNdc() {
        delegate.clearNdc();
    }

    @Override
    public String getNdc() {
        return delegate.getNdc();
    }

    @Override
    public int getNdcDepth() {
        return delegate.getNdcDepth();
    }

    @Override
    public String popNdc() {
        return delegate.popNdc();
    }

    @Override
    public String peekNdc() {
        return delegate.peekNdc();
    }

    @Override
    public void pushNdc(String message) {
        delegate.pushNdc(message);
    }

    @Override
    public void setNdcMaxDepth(int maxDepth) {
        delegate.setNdcMaxDepth(maxDepth);
    }

    /** A JBoss logger whose level checks read a snapshot; logging itself is the delegate's. */
    private static final class CachingLogger extends Logger {

        private static final long serialVersionUID = 1L;
        private static final Level[] LEVELS = Level.values();
        /** Mask bit for "ask Log4j every time". */
        private static final int ASK = 1 << LEVELS.length;

        private final Logger delegate;
        /**
         * The generation the snapshot was taken at (high bits) and one bit per enabled level (low bits), in one
         * int so that a racing reader never pairs a new generation with an old mask.
         */
        private transient int snapshot = -1;

        CachingLogger(String name, Logger delegate) {
            super(name);
            this.delegate = delegate;
        }

        @Override
        public boolean isEnabled(Level level) {
            int s = snapshot;
            int g = generation;
            if (g == Integer.MIN_VALUE || s == -1 || s >>> 8 != (g & 0xFFFFFF)) {
                s = refresh(g);
            }
            if ((s & ASK) != 0) {
                return delegate.isEnabled(level);
            }
            return (s & 1 << level.ordinal()) != 0;
        }

        private int refresh(int g) {
            int mask = 0;
            if (hasFilter()) {
                mask = ASK;
            } else {
                for (Level level : LEVELS) {
                    if (delegate.isEnabled(level)) {
                        mask |= 1 << level.ordinal();
                    }
                }
            }
            int s = (g & 0xFFFFFF) << 8 | mask;
            if (g != Integer.MIN_VALUE) {
                snapshot = s;
            }
            return s;
        }

        private static boolean hasFilter() {
            return !(LogManager.getContext(false) instanceof org.apache.logging.log4j.core.LoggerContext core)
                    || core.getConfiguration().getFilter() != null;
        }

        @Override
        protected void doLog(Level level, String loggerClassName, Object message, Object[] parameters,
                             Throwable thrown) {
            if (isEnabled(level)) {
                delegate.log(loggerClassName, level, message, parameters, thrown);
            }
        }

        @Override
        protected void doLogf(Level level, String loggerClassName, String format, Object[] parameters,
                              Throwable thrown) {
            if (isEnabled(level)) {
                delegate.logf(loggerClassName, level, thrown, format, parameters);
            }
        }
    }
}
