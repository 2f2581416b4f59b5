package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-address state table: its hash over a platform's addresses, and finding states through churn. */
class EndpointStateTest {

    /** A cell address as a platform hands them out: 400 cells, ports counting up from 61000 on each. */
    private static Endpoint cell(int cell, int port) {
        return new Endpoint("10.0." + cell / 200 + "." + cell % 200, 61000 + port, "", "", "", Map.of(),
                Duration.ZERO, null);
    }

    @Test
    void shouldGiveEveryCellAddressItsOwnHash() {
        Set<Integer> hashes = new HashSet<>();
        for (int cell = 0; cell < 400; cell++) {
            for (int port = 0; port < 250; port++) {
                Endpoint e = cell(cell, port);
                hashes.add(EndpointState.hash(e.host(), e.port()));
            }
        }

        // host.hashCode() * 31 + port, the hash before, gives these 100 000 addresses 21 160 values.
        assertThat(hashes).hasSize(100_000);
    }

    @Test
    void shouldFindEveryStateLeftAfterRemovalsInAnyOrder() {
        EndpointState.Table table = new EndpointState.Table();
        List<EndpointState> states = new ArrayList<>();
        for (int cell = 0; cell < 40; cell++) {
            for (int port = 0; port < 250; port++) {
                EndpointState state = new EndpointState(cell(cell, port));
                states.add(state);
                table.add(state);
            }
        }
        Collections.shuffle(states, new Random(7));
        List<EndpointState> removed = states.subList(0, states.size() / 2);
        for (EndpointState state : removed) {
            table.remove(state);
        }

        for (EndpointState state : removed) {
            assertThat(table.get(state.host(), state.port())).isNull();
        }
        for (EndpointState state : states.subList(states.size() / 2, states.size())) {
            assertThat(table.get(new String(state.host()), state.port())).isSameAs(state);
        }
    }
}
