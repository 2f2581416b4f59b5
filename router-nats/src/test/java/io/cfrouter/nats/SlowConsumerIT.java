package io.cfrouter.nats;

import io.cfrouter.registry.RegistryEvent;
import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.cfrouter.nats.RouterUnderTest.register;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The router falling behind: a registry listener holds the dispatcher thread while a burst arrives, and the
 * pending limit is small, so the client must drop. Every dropped message is counted and logged.
 */
class SlowConsumerIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private final List<String> errors = new CopyOnWriteArrayList<>();
    private AbstractAppender appender;
    private NatsServerProcess nats;
    private Connection platform;
    private RouterUnderTest router;

    @BeforeEach
    void captureLog() throws Exception {
        appender = new AbstractAppender("captured", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                if (event.getLevel().isMoreSpecificThan(Level.ERROR)) {
                    errors.add(event.getMessage().getFormattedMessage());
                }
            }
        };
        appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        LoggerConfig config = new LoggerConfig(NatsAdapter.class.getName(), Level.ERROR, false);
        config.addAppender(appender, Level.ERROR, null);
        context.getConfiguration().addLogger(NatsAdapter.class.getName(), config);
        context.updateLoggers();
        nats = NatsServerProcess.start();
        platform = RouterUnderTest.platform(nats.url());
    }

    @AfterEach
    void stopAll() throws Exception {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().removeLogger(NatsAdapter.class.getName());
        context.updateLoggers();
        appender.stop();
        if (router != null) {
            router.close();
        }
        platform.close();
        nats.close();
    }

    @Test
    void shouldCountAndLogEveryMessageDroppedWhileTheRouterFallsBehind() throws Exception {
        router = new RouterUnderTest(RouterUnderTest.addresses(nats.port()), Duration.ofSeconds(20), true, 100).start();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch holding = new CountDownLatch(1);
        router.registry.addListener(event -> {
            if (event.type() == RegistryEvent.Type.ROUTE_ADDED && event.route().key().equals("hold.example.com")) {
                holding.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        platform.publish("router.register", register("10.0.0.1", 8080, "hold.example.com"));
        assertThat(holding.await(30, TimeUnit.SECONDS)).isTrue();

        int burst = 1_000;
        for (int i = 0; i < burst; i++) {
            platform.publish("router.register", register("10.0.1.1", 8080, "burst-" + i + ".example.com"));
        }
        platform.flush(DEADLINE);
        Await.until(DEADLINE, "drops counted", () -> router.adapter.stats().droppedMessages() > 0
                && router.adapter.stats().droppedMessages() + 150 >= burst); // 100 may wait in the queue
        release.countDown();

        Await.until(DEADLINE, "every message applied or dropped", () ->
                router.adapter.stats().messagesReceived() + router.adapter.stats().droppedMessages() == burst + 1);
        long dropped = router.adapter.stats().droppedMessages();
        assertThat(router.registry.routeCount()).isEqualTo(burst + 1 - dropped);
        // jnats tells the error listener on its callback thread, in its own time.
        Await.until(DEADLINE, "the slow-consumer event logged", () -> errors.stream()
                .anyMatch(e -> e.startsWith("NATS slow consumer: the router fell behind")));

        router.close();

        assertThat(errors).contains("NATS slow consumer: dropped " + dropped + " messages since the last report, "
                + dropped + " in all; the router falls behind the registrations published");
    }
}
